//! The student's progress: each copy's last verdict, keyed by its content.
//!
//! `cargo lab` lists every lab's state in well under a second, so it never re-runs a
//! check: each `check`, run or watch records the verdict with the SHA-256 of the copy
//! it checked, in `.leaklab/state.json`. A copy whose content matches its record has
//! that verdict; one that does not was edited since (or never checked).

use labkit::{Kind, Variant};
use leaklab_registry::Lab;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the state lives, relative to the workspace.
const FILE: &str = ".leaklab/state.json";

/// One recorded verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub sha256: String,
    pub passed: bool,
    pub kinds: Vec<Kind>,
    /// The last hint a failed check showed (1-based; 0: none), and the content it was
    /// shown for.
    #[serde(default)]
    pub hint: usize,
    #[serde(default)]
    pub hint_for: String,
}

/// Where a copy of a lab stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The copy is the original: nothing tried yet.
    Untouched,
    /// Checked as it is now: passed.
    Passing,
    /// Checked as it is now: failed, with these findings.
    Failing(Vec<Kind>),
    /// Edited since its last check (or never checked).
    Unchecked,
    /// There is no copy in `labs/`.
    Missing,
}

#[derive(Default, Serialize, Deserialize)]
struct State {
    labs: BTreeMap<u32, Record>,
}

fn path(root: &Path) -> PathBuf {
    root.join(FILE)
}

fn load(root: &Path) -> State {
    std::fs::read(path(root))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The SHA-256 of a file, in hex; `None` when it cannot be read.
pub fn digest(file: &Path) -> Option<String> {
    let bytes = std::fs::read(file).ok()?;
    Some(
        Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// Records the verdict on the copy of `lab` in `labs/` as it is now. Best effort: a
/// state that cannot be written only costs the list its memory.
pub fn record(root: &Path, lab: &Lab, passed: bool, kinds: Vec<Kind>) {
    let Some(sha256) = digest(&root.join(lab.path(Variant::Yours))) else {
        return;
    };
    let mut state = load(root);
    let (hint, hint_for) = state
        .labs
        .get(&lab.number)
        .map(|r| (r.hint, r.hint_for.clone()))
        .unwrap_or_default();
    let record = Record {
        sha256,
        passed,
        kinds,
        hint,
        hint_for,
    };
    state.labs.insert(lab.number, record);
    save(root, &state);
}

/// The verdict recorded for `lab`, if any: `cargo lab watch` takes it before a check
/// and puts it back with [`put_back`] when the copy changed during the check, whose
/// result then belongs to no single version of it.
pub fn recorded(root: &Path, lab: &Lab) -> Option<Record> {
    load(root).labs.remove(&lab.number)
}

/// Puts back what [`recorded`] returned, undoing the records made since.
pub fn put_back(root: &Path, lab: &Lab, record: Option<Record>) {
    let mut state = load(root);
    match record {
        Some(record) => state.labs.insert(lab.number, record),
        None => state.labs.remove(&lab.number),
    };
    save(root, &state);
}

/// The hint a failed check of `lab` shows: the one that fits its first finding, or,
/// when the copy changed since a hint was last shown and still fails, the next one
/// after that: a student who tried again gets the next step. The last hint, which
/// gives the fix away, is only shown on request (`cargo lab hint N`).
pub fn next_hint(root: &Path, lab: &Lab, fits: Option<usize>) -> Option<usize> {
    let fits = fits?;
    let mut state = load(root);
    let record = state.labs.get_mut(&lab.number)?;
    let automatic = lab.hints.len().saturating_sub(1).max(1);
    let number = if record.hint == 0 {
        fits
    } else if record.hint_for == record.sha256 {
        record.hint
    } else {
        fits.max(record.hint + 1)
    }
    .min(automatic.max(fits));
    record.hint = number;
    record.hint_for = record.sha256.clone();
    save(root, &state);
    Some(number)
}

fn save(root: &Path, state: &State) {
    let file = path(root);
    if let Some(folder) = file.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    let tmp = file.with_extension("json.partial");
    if let Ok(json) = serde_json::to_vec_pretty(state)
        && std::fs::write(&tmp, json).is_ok()
    {
        let _ = std::fs::rename(tmp, file);
    }
}

/// Where each lab stands, without running anything. A copy that is the original is
/// untouched, whatever verdict was recorded for it.
pub fn standings(root: &Path, labs: &[Lab]) -> Vec<Standing> {
    let state = load(root);
    labs.iter()
        .map(|lab| {
            let Some(now) = digest(&root.join(lab.path(Variant::Yours))) else {
                return Standing::Missing;
            };
            // The original first: a check of it (`cargo lab watch` checks the next lab
            // as it moves on) records that it fails, which the student has not tried.
            if digest(&root.join(lab.path(Variant::Original))).as_deref() == Some(&now) {
                return Standing::Untouched;
            }
            match state.labs.get(&lab.number) {
                Some(record) if record.sha256 == now && record.passed => Standing::Passing,
                Some(record) if record.sha256 == now => Standing::Failing(record.kinds.clone()),
                _ => Standing::Unchecked,
            }
        })
        .collect()
}
