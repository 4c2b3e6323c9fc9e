//! Source paths as the reader of a report names them.
//!
//! The compiler names files the way it was handed them: a spawn location may read
//! `checks/src/bin/../../../labs/lab01_orphaned_task.rs` (relative to the workspace
//! rustc ran in), a stack frame `/home/me/leaklab/labs/lab01_orphaned_task.rs`, a path
//! dependency `/home/me/shared/src/lib.rs`, std `/rustc/<hash>/library/std/src/...` and
//! a registry crate `/home/me/.cargo/registry/src/index.crates.io-.../tokio-1.54.1/src/...`.
//! A report names every one of them from one folder, its *root*: the crate under test
//! (`src/db.rs`, `tests/server.rs`, `../shared/src/lib.rs`), with std as
//! `library/std/...` and registry crates as `tokio-1.54.1/src/...`.
//!
//! Inside leaklab (the `lab` feature), the root is leaklab's workspace, and a stack
//! sample must also tell the student's code (where the bug is) from the machinery
//! around it (labkit, the check harness, tokio, std): [`workspace_file`] and
//! [`is_code_under_test`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// `path` named from the default root (see [`root`]).
pub fn normalize(path: &str) -> String {
    relative_to(root(), path)
}

/// `path` named from folder `root` (absolute, with or without a trailing `/`):
///
/// - a file under `root` is relative to it: `src/db.rs`;
/// - a relative path (rustc's, relative to the workspace it ran in, which may be a
///   folder or two above `root`) is looked up from `root` upwards, then named as above;
/// - a file one or two folders beside `root` (a path dependency in the same
///   workspace) is named with `..`: `../shared/src/lib.rs`;
/// - std is `library/std/src/...`, a registry crate `tokio-1.54.1/src/...`;
/// - anything else keeps its absolute path.
pub fn relative_to(root: &str, path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/rustc/")
        && let Some((_hash, library)) = rest.split_once('/')
    {
        return library.to_owned();
    }
    let root = clean(root);
    let mut joined = clean(path);
    if let Some(i) = joined.find("/registry/src/") {
        let rest = &joined[i + "/registry/src/".len()..];
        return rest
            .split_once('/')
            .map(|(_, r)| r.to_owned())
            .unwrap_or_else(|| rest.to_owned());
    }
    if !joined.starts_with('/') {
        match resolve(&root, &joined) {
            Some(absolute) => joined = absolute,
            None => return joined,
        }
    }
    let mut base = root.as_str();
    for ups in 0..=2 {
        if let Some(rest) = joined.strip_prefix(base).and_then(|r| r.strip_prefix('/'))
            && base.len() > 1
        {
            return format!("{}{rest}", "../".repeat(ups));
        }
        match base.rsplit_once('/') {
            Some((parent, _)) if !parent.is_empty() => base = parent,
            _ => break,
        }
    }
    joined
}

/// A file named from the default [`root`] (as [`normalize`] names it), named from
/// `folder` instead.
pub fn rebase(folder: &str, file: &str) -> String {
    if clean(folder) + "/" == root() {
        return file.to_owned();
    }
    if file.starts_with('/') {
        return relative_to(folder, file);
    }
    // `library/std/...` and `tokio-1.54.1/...` are not under the root: leave them.
    let absolute = clean(&format!("{}{file}", root()));
    if Path::new(&absolute).exists() {
        relative_to(folder, &absolute)
    } else {
        file.to_owned()
    }
}

/// The absolute path of rustc's relative `path`: the first of `root` and the folders
/// above it that holds it. Looked up once per path.
fn resolve(root: &str, path: &str) -> Option<String> {
    /// (root, rustc's path) to the absolute path, or `None` when nothing holds it.
    type Found = HashMap<(String, String), Option<String>>;
    static FOUND: Mutex<Option<Found>> = Mutex::new(None);
    let key = (root.to_owned(), path.to_owned());
    let mut found = FOUND.lock().unwrap_or_else(|p| p.into_inner());
    found
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_insert_with(|| {
            Path::new(root)
                .ancestors()
                .map(|folder| folder.join(path))
                .find(|candidate| candidate.exists())
                .map(|candidate| clean(&candidate.to_string_lossy()))
        })
        .clone()
}

/// The workspace-relative name of `path` when it is a file of this workspace, `None`
/// for std, the registry, the C library or anything else outside it.
///
/// Cargo runs the compiler from the workspace root and hands it relative paths for the
/// workspace's own crates, so a relative path may be the workspace's; but debug info
/// from elsewhere has relative paths too (glibc's `sysdeps/unix/...`). A relative path
/// counts when its first folder is one of the workspace's.
pub fn workspace_file(path: &str) -> Option<String> {
    let joined = clean(path);
    if let Some(rest) = joined.strip_prefix(root()) {
        return Some(rest.to_owned());
    }
    if joined.is_empty() || joined.starts_with('/') || joined.starts_with("..") {
        return None;
    }
    let first = joined.split('/').next()?;
    std::path::Path::new(root())
        .join(first)
        .exists()
        .then_some(joined)
}

/// The folders of the kit itself: the detector and watchdog, the check harness and the
/// binaries that serve it, the clinic the labs call, the lab registry, the loom models
/// and the sync shim, the runner, and generated code. A frame in any other workspace
/// file (`labs/`, `solutions/`, `tests/originals/`, `fixtures/`, a test) is code a
/// student or a test wrote, where a stuck thread's story begins.
const MACHINERY: [&str; 9] = [
    "labkit/src/",
    "checks/",
    "bins/",
    "clinic/",
    "registry/",
    "models/",
    "shim/",
    "src/",
    "target/",
];

/// Whether a workspace-relative file is code under test rather than the kit's own.
pub fn is_code_under_test(relative: &str) -> bool {
    !MACHINERY.iter().any(|folder| relative.starts_with(folder))
}

/// A stack frame's file, for showing: the same as [`normalize`].
pub fn display(path: &str) -> String {
    normalize(path)
}

/// The folder paths are named from, cleaned, with a trailing `/`: leaklab's workspace
/// with the `lab` feature; otherwise the crate under test, as cargo tells a test binary
/// it runs (`CARGO_MANIFEST_DIR`), or the current folder.
pub fn root() -> &'static str {
    static ROOT: OnceLock<String> = OnceLock::new();
    ROOT.get_or_init(|| {
        let folder = if cfg!(feature = "lab") {
            concat!(env!("CARGO_MANIFEST_DIR"), "/..").to_owned()
        } else {
            std::env::var("CARGO_MANIFEST_DIR")
                .ok()
                .or_else(|| Some(std::env::current_dir().ok()?.to_string_lossy().into_owned()))
                .unwrap_or_default()
        };
        clean(&folder) + "/"
    })
}

/// Resolves `.` and `..` without touching the file system; a leading `..` that has
/// nothing to cancel is kept.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for (i, part) in path.split('/').enumerate() {
        match part {
            ".." if parts.last().is_some_and(|p| !p.is_empty() && *p != "..") => {
                parts.pop();
            }
            "." => {}
            "" if i > 0 => {}
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_named_from_the_workspace() {
        assert_eq!(normalize("checks/src/bin/../../../labs/x.rs"), "labs/x.rs");
        assert_eq!(
            normalize("models/src/bin/../../../tests/originals/lab03_unsynchronised_counter.rs"),
            "tests/originals/lab03_unsynchronised_counter.rs"
        );
        assert_eq!(normalize(&format!("{}labs/x.rs", root())), "labs/x.rs");
        assert_eq!(
            normalize("/home/u/.cargo/registry/src/index.crates.io-abc/tokio-1.54.1/src/lib.rs"),
            "tokio-1.54.1/src/lib.rs"
        );
    }

    #[test]
    fn only_workspace_files_outside_the_kit_are_code_under_test() {
        let inside = |p: &str| workspace_file(p).is_some_and(|f| is_code_under_test(&f));
        assert!(inside("checks/src/bin/../../../labs/x.rs"));
        assert!(inside(&format!("{}tests/originals/x.rs", root())));
        assert!(inside("labkit/tests/watchdog.rs"));
        assert!(!inside("labkit/src/detector/mod.rs"));
        assert!(!inside("checks/src/lab01.rs"));
        assert!(!inside("clinic/src/lib.rs"));
        assert!(inside("fixtures/lab01/wrong/sleep.rs"));
        assert!(!inside("/rustc/abc/library/std/src/sync/mutex.rs"));
        assert!(!inside("sysdeps/unix/sysv/linux/x86_64/syscall.S"));
        assert!(!inside(
            "/home/u/.cargo/registry/src/index.crates.io-abc/tokio-1.54.1/src/lib.rs"
        ));
        assert_eq!(display("/rustc/abc/library/std/src/x.rs"), "library/std/src/x.rs");
    }

    #[test]
    fn paths_are_named_from_any_root() {
        let here = clean(env!("CARGO_MANIFEST_DIR"));
        let (crate_dir, parent) = here.rsplit_once('/').map(|(p, c)| (c, p)).unwrap();
        // Absolute, under the root.
        assert_eq!(
            relative_to(&here, &format!("{here}/src/paths.rs")),
            "src/paths.rs"
        );
        // Relative to the workspace above the root, as rustc names a member's files.
        assert_eq!(
            relative_to(&here, &format!("{crate_dir}/src/paths.rs")),
            "src/paths.rs"
        );
        // Beside the root: a path dependency.
        assert_eq!(
            relative_to(&here, &format!("{parent}/other/src/lib.rs")),
            "../other/src/lib.rs"
        );
        assert_eq!(
            relative_to(&format!("{here}/"), "/elsewhere/x.rs"),
            "/elsewhere/x.rs"
        );
        assert_eq!(
            relative_to(&here, "/rustc/abc/library/core/src/x.rs"),
            "library/core/src/x.rs"
        );
        // Not found anywhere: left as rustc gave it.
        assert_eq!(relative_to(&here, "no/such/file.rs"), "no/such/file.rs");
    }
}
