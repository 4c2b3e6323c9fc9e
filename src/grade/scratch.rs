//! A clean workspace for grading someone else's labs: the trusted copy's sources with
//! only the student's `labs/lab*.rs` put in.
//!
//! `cargo lab grade --student DIR` never builds anything from `DIR`. It copies the
//! files grading depends on (the manifest's [`COVERED`](super::manifest::COVERED)
//! files) from the copy it runs in, the instructor's checkout, into a scratch folder
//! under the target dir, then each lab file the registry names from `DIR/labs/`. An
//! edited check, `Cargo.toml` or build script in the student's clone is simply never
//! read.
//!
//! Scratch folders are reused (`scratch-0`, `scratch-1`, ...; each held by a file lock
//! while a grading uses it), and a file is written only when its content changed, so
//! cargo rebuilds only what did: a student's lab, not the checks.

use super::manifest;
use leaklab_registry::{Lab, Variant};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A lab file larger than this is not a lab.
const MAX_LAB_FILE: u64 = 1 << 20;

/// A scratch workspace, held until dropped.
pub struct Scratch {
    pub root: PathBuf,
    _held: File,
}

/// What was put in for one lab: the SHA-256 of the student's file, or why it could not
/// be used.
pub type Put = Result<String, String>;

impl Scratch {
    /// Takes the first scratch folder under `<target>/leaklab-grade/` that no other
    /// grading holds.
    pub fn take(target: &Path) -> Result<Scratch, String> {
        let base = target.join("leaklab-grade");
        std::fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        for n in 0..64 {
            let root = base.join(format!("scratch-{n}"));
            let lock = base.join(format!("scratch-{n}.lock"));
            let held = File::create(&lock).map_err(|e| format!("cannot create {}: {e}", lock.display()))?;
            if held.try_lock().is_ok() {
                return Ok(Scratch { root, _held: held });
            }
        }
        Err(format!(
            "all 64 scratch workspaces under {} are in use",
            base.display()
        ))
    }

    /// Makes the scratch workspace's covered files exactly the trusted copy's.
    pub fn mirror(&self, trusted: &Path) -> Result<(), String> {
        let wanted: BTreeMap<PathBuf, PathBuf> = manifest::covered_files(trusted)
            .into_iter()
            .filter_map(|from| {
                let rel = from.strip_prefix(trusted).ok()?.to_path_buf();
                Some((self.root.join(rel), from))
            })
            .collect();
        for stale in manifest::covered_files(&self.root) {
            if !wanted.contains_key(&stale) {
                let _ = std::fs::remove_file(&stale);
            }
        }
        for (to, from) in wanted.iter().chain(&test_targets(trusted, &self.root)) {
            let bytes = std::fs::read(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
            let mtime = std::fs::metadata(from).and_then(|m| m.modified()).ok();
            write_if_changed(to, &bytes, mtime).map_err(|e| format!("cannot write {}: {e}", to.display()))?;
        }
        Ok(())
    }

    /// Puts each of `labs` from the student's clone at `student` into `labs/`, and
    /// takes out any lab file it could not put in (so a stale one is never graded).
    pub fn put_labs(&self, student: &Path, labs: &[&'static Lab]) -> BTreeMap<u32, Put> {
        let folder = self.root.join(Variant::Yours.folder());
        let _ = std::fs::create_dir_all(&folder);
        let mut put = BTreeMap::new();
        for &lab in labs {
            let path = lab.path(Variant::Yours);
            let to = self.root.join(&path);
            let result = read_file(&student.join(&path), &path).and_then(|bytes| {
                write_if_changed(&to, &bytes, None)
                    .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
                Ok(sha256(&bytes))
            });
            if result.is_err() {
                let _ = std::fs::remove_file(&to);
            }
            put.insert(lab.number, result);
        }
        put
    }
}

/// The root package's test targets (`tests/*.rs`), from `trusted` to `scratch`: grading
/// builds none of them, but cargo cannot read `Cargo.toml` when a `[[test]]` it names
/// has no file. They are the trusted copy's, like everything else in the scratch.
fn test_targets(trusted: &Path, scratch: &Path) -> BTreeMap<PathBuf, PathBuf> {
    let Ok(entries) = std::fs::read_dir(trusted.join("tests")) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "rs"))
        .filter_map(|path| {
            let name = path.file_name()?.to_owned();
            Some((scratch.join("tests").join(name), path))
        })
        .collect()
}

/// Whether the copy at `root` has a gradable file for `lab`: its SHA-256, or why not.
pub fn read_lab(root: &Path, lab: &Lab) -> Put {
    let path = lab.path(Variant::Yours);
    read_file(&root.join(&path), &path).map(|bytes| sha256(&bytes))
}

fn sha256(bytes: &[u8]) -> String {
    manifest::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes))
}

/// A student's lab file: a regular file of modest size, never a link (which could
/// point at the instructor's files on a shared machine).
fn read_file(file: &Path, shown: &str) -> Result<Vec<u8>, String> {
    let meta = std::fs::symlink_metadata(file).map_err(|_| format!("{shown} is missing"))?;
    if meta.file_type().is_symlink() {
        return Err(format!(
            "{shown} is a symbolic link; only regular files are graded"
        ));
    }
    if !meta.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    if meta.len() > MAX_LAB_FILE {
        return Err(format!("{shown} is larger than {} KiB", MAX_LAB_FILE >> 10));
    }
    std::fs::read(file).map_err(|e| format!("{shown} cannot be read: {e}"))
}

/// Writes `bytes` to `path` only if its content differs, so cargo rebuilds only what
/// changed. A new file takes `mtime` (the trusted copy's, so the build the trusted copy
/// already made stays fresh); a changed one is written now, so that it is newer than
/// any build of what it replaces.
fn write_if_changed(path: &Path, bytes: &[u8], mtime: Option<SystemTime>) -> std::io::Result<()> {
    let existed = match std::fs::read(path) {
        Ok(old) if old == bytes => return Ok(()),
        Ok(_) => true,
        Err(_) => false,
    };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    // A link left in the scratch folder would write through to wherever it points.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(path)?;
    }
    std::fs::write(path, bytes)?;
    if let (false, Some(mtime)) = (existed, mtime) {
        File::options().write(true).open(path)?.set_modified(mtime)?;
    }
    Ok(())
}
