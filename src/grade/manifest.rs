//! The manifest: a SHA-256 of every file that grading depends on, besides the labs.
//!
//! A student may edit `labs/`; anything else that goes into building or running the
//! checks must be as shipped, or a student could grade their own work: an edited
//! scenario, a `Cargo.toml` that swaps a crate, a `.cargo/config.toml` that changes the
//! flags, a `build.rs` that rewrites the runner before it compiles. `cargo lab dev`
//! writes the hashes to [`FILE`] (in `sha256sum` format, so `sha256sum -c` reads it
//! too); grading in place checks the copy against it before it builds anything, and
//! names each file that differs, is missing or was added. The manifest can itself be
//! pinned by its own SHA-256 from outside the repository (`--manifest-sha256`), which
//! is what stops a student from editing a check and the manifest together.
//!
//! What is covered is a list of folders and files ([`COVERED`]): everything cargo
//! reads to build the check binaries (a crate's README included), and the runner. The
//! labs, the book and the other docs, the tests and the platform configs are not:
//! nothing in them can change a verdict. [`ABSENT`] lists files that cargo would read if they existed.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the manifest lives, relative to the workspace.
pub const FILE: &str = "classroom/manifest.sha256";

/// What grading builds and runs, relative to the workspace: the workspace's manifests
/// and cargo config, the runner (`src`), every crate of the workspace (cargo reads
/// every member's manifest to build any of them), and the fixtures (the check
/// binaries' build script reads them).
pub const COVERED: [&str; 13] = [
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "src",
    "labkit",
    "registry",
    "clinic",
    "checks",
    "bins",
    "shim",
    "models",
    "benches",
    "fixtures",
];

/// Files that would change the build if they existed: a build script of the root
/// package, and a toolchain file (which can name a toolchain of the student's making).
pub const ABSENT: [&str; 3] = ["build.rs", "rust-toolchain", "rust-toolchain.toml"];

/// The hashes of the covered files, by path relative to the workspace (with `/`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub files: BTreeMap<String, String>,
}

/// How a copy differs from its manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drift {
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub added: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.added.is_empty()
    }

    /// Each file, with what happened to it: `checks/src/lab01.rs (changed)`.
    pub fn files(&self) -> Vec<String> {
        let tag =
            |list: &[String], what: &str| list.iter().map(|f| format!("{f} ({what})")).collect::<Vec<_>>();
        [
            tag(&self.changed, "changed"),
            tag(&self.missing, "missing"),
            tag(&self.added, "added"),
        ]
        .concat()
    }
}

/// Why a copy cannot be graded in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tampered {
    /// No manifest, or one that does not parse.
    NoManifest(String),
    /// The manifest is not the one pinned from outside.
    ManifestPinned { expected: String, found: String },
    /// Covered files differ from the manifest.
    Files(Drift),
}

/// How many drifted files a message names (a platform may keep only 2,000 characters).
const SHOWN: usize = 8;

impl Tampered {
    /// One line for the table and the results.
    pub fn message(&self) -> String {
        match self {
            Tampered::NoManifest(why) => format!("cannot grade in place: {why}"),
            Tampered::ManifestPinned { expected, found } => format!(
                "{FILE} is not the manifest the grader pinned (its SHA-256 is {}…, the pin {}…): \
                 the checks may have been edited together with it",
                &found[..12.min(found.len())],
                &expected[..12.min(expected.len())]
            ),
            Tampered::Files(drift) => {
                let files = drift.files();
                let more = match files.len().saturating_sub(SHOWN) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                format!(
                    "files that grading depends on differ from {FILE}: {}{more}; only labs/ may change",
                    files[..files.len().min(SHOWN)].join(", ")
                )
            }
        }
    }
}

impl Manifest {
    /// The covered files of the copy at `root` as they are on disk, except that a path
    /// in `overrides` counts with the content given there (what `cargo lab dev` is
    /// about to write) and a path in `removed` does not count.
    pub fn of(root: &Path, overrides: &BTreeMap<PathBuf, String>, removed: &[PathBuf]) -> Manifest {
        let mut files = BTreeMap::new();
        for path in covered_files(root) {
            if removed.contains(&path) {
                continue;
            }
            let bytes = match overrides.get(&path) {
                Some(text) => text.as_bytes().to_vec(),
                None => std::fs::read(&path).unwrap_or_default(),
            };
            files.insert(relative(root, &path), hex(&Sha256::digest(&bytes)));
        }
        for (path, text) in overrides {
            let name = relative(root, path);
            if is_covered(&name) && !files.contains_key(&name) {
                files.insert(name, hex(&Sha256::digest(text.as_bytes())));
            }
        }
        Manifest { files }
    }

    /// The manifest file's text: `<sha256>  <path>` per line, as `sha256sum` writes.
    pub fn render(&self) -> String {
        self.files
            .iter()
            .map(|(path, hash)| format!("{hash}  {path}\n"))
            .collect()
    }

    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut files = BTreeMap::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let (hash, path) = line
                .split_once("  ")
                .filter(|(hash, _)| hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| format!("{FILE} line {} is not `<sha256>  <path>`", i + 1))?;
            files.insert(path.to_owned(), hash.to_ascii_lowercase());
        }
        Ok(Manifest { files })
    }

    /// How `now` differs from this manifest.
    pub fn drift(&self, now: &Manifest) -> Drift {
        let mut drift = Drift::default();
        for (path, hash) in &self.files {
            match now.files.get(path) {
                None => drift.missing.push(path.clone()),
                Some(found) if found != hash => drift.changed.push(path.clone()),
                Some(_) => {}
            }
        }
        drift.added = now
            .files
            .keys()
            .filter(|path| !self.files.contains_key(*path))
            .cloned()
            .collect();
        drift
    }
}

/// The SHA-256 of the manifest file's text: what `--manifest-sha256` pins.
pub fn pin_of(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Checks the copy at `root` against its manifest (and the manifest against `pin`, if
/// given). Returns the manifest's own SHA-256.
pub fn verify(root: &Path, pin: Option<&str>) -> Result<String, Tampered> {
    let text = std::fs::read_to_string(root.join(FILE))
        .map_err(|e| Tampered::NoManifest(format!("{FILE} cannot be read ({e})")))?;
    let found = pin_of(&text);
    if let Some(expected) = pin
        && !expected.eq_ignore_ascii_case(&found)
    {
        return Err(Tampered::ManifestPinned {
            expected: expected.to_ascii_lowercase(),
            found,
        });
    }
    let recorded = Manifest::parse(&text).map_err(Tampered::NoManifest)?;
    let drift = recorded.drift(&Manifest::of(root, &BTreeMap::new(), &[]));
    if drift.is_empty() {
        Ok(found)
    } else {
        Err(Tampered::Files(drift))
    }
}

/// Every file the manifest covers in the copy at `root`, and any [`ABSENT`] file that
/// exists (so that it shows up as added).
pub fn covered_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in COVERED.iter().chain(ABSENT.iter()) {
        walk(&root.join(entry), &mut files);
    }
    files.sort();
    files
}

/// Whether a workspace-relative path is one the manifest covers.
fn is_covered(path: &str) -> bool {
    let skipped = path.split('/').any(|part| part == "target");
    let under = |entry: &&str| path == *entry || path.starts_with(&format!("{entry}/"));
    !skipped && COVERED.iter().chain(ABSENT.iter()).any(under)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if meta.is_dir() {
        // A build folder (cargo marks its own with CACHEDIR.TAG) is output, not source.
        if name == "target" || path.join("CACHEDIR.TAG").exists() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            walk(&entry.path(), files);
        }
    } else {
        // Docs count too: a crate's doc can be compiled in (`include_str!("../README.md")`).
        // A symlink counts by what it points to, so a covered file replaced by a link
        // to something else is changed.
        files.push(path.to_path_buf());
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cargo reads every workspace member's manifest to build any of them: a member
    /// the manifest does not cover would be missing from a scratch workspace.
    #[test]
    fn every_workspace_member_is_covered() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cargo = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
        let members = cargo
            .lines()
            .find_map(|line| line.trim().strip_prefix("members = ["))
            .expect("a one-line `members = [...]`");
        let members: Vec<&str> = members
            .trim_end_matches(']')
            .split(',')
            .map(|m| m.trim().trim_matches('"'))
            .filter(|m| !m.is_empty())
            .collect();
        assert!(members.contains(&"checks"), "{members:?}");
        for member in members {
            assert!(
                is_covered(&format!("{member}/Cargo.toml")),
                "workspace member {member} is not covered"
            );
        }
    }

    fn manifest(files: &[(&str, &str)]) -> Manifest {
        Manifest {
            files: files
                .iter()
                .map(|(p, h)| (p.to_string(), h.to_string()))
                .collect(),
        }
    }

    #[test]
    fn drift_names_each_file_by_what_happened_to_it() {
        let shipped = manifest(&[
            ("Cargo.toml", "a"),
            ("checks/src/lab01.rs", "b"),
            ("src/main.rs", "c"),
        ]);
        let now = manifest(&[
            ("Cargo.toml", "a"),
            ("checks/src/lab01.rs", "x"),
            ("build.rs", "d"),
        ]);
        let drift = shipped.drift(&now);
        assert_eq!(
            drift.files(),
            [
                "checks/src/lab01.rs (changed)",
                "src/main.rs (missing)",
                "build.rs (added)"
            ]
        );
    }

    #[test]
    fn the_manifest_reads_back_what_it_writes() {
        let hash = "ab".repeat(32);
        let shipped = manifest(&[("Cargo.toml", &hash), (".cargo/config.toml", &hash)]);
        assert_eq!(Manifest::parse(&shipped.render()), Ok(shipped));
        assert!(Manifest::parse("not a manifest\n").is_err());
    }

    #[test]
    fn only_build_inputs_are_covered() {
        assert!(is_covered("checks/src/lab01.rs"));
        assert!(is_covered(".cargo/config.toml"));
        assert!(is_covered("build.rs"));
        assert!(!is_covered("labs/lab01_orphaned_task.rs"));
        assert!(is_covered("labkit/README.md"), "compiled into labkit's docs");
        assert!(!is_covered("book/src/lab01.md"));
        assert!(!is_covered("README.md"));
        assert!(!is_covered("labkit/target/debug/x"));
    }
}
