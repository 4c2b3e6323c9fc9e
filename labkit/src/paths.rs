//! Source paths as a student reads them.
//!
//! The compiler names files the way it was handed them: a spawn location may read
//! `checks/src/bin/../../../labs/lab01_orphaned_task.rs`, a stack frame
//! `/home/me/leaklab/labs/lab01_orphaned_task.rs` or
//! `/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.1/src/...`.
//! Findings name a file relative to the workspace (`labs/lab01_orphaned_task.rs`), and
//! a stack sample must tell the student's code (where the bug is) from the machinery
//! around it (labkit, the check harness, tokio, std), which is what this module is for.

use std::sync::OnceLock;

/// `checks/src/bin/../../../labs/x.rs` becomes `labs/x.rs`; an absolute path inside
/// the workspace becomes relative; a path into the cargo registry keeps only
/// `crate-1.2.3/src/...`.
pub fn normalize(path: &str) -> String {
    let joined = clean(path);
    if let Some(rest) = joined.strip_prefix(root()) {
        return rest.to_owned();
    }
    if let Some(i) = joined.find("/registry/src/") {
        let rest = &joined[i + "/registry/src/".len()..];
        return rest
            .split_once('/')
            .map(|(_, r)| r.to_owned())
            .unwrap_or_else(|| rest.to_owned());
    }
    joined
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

/// `/rustc/<hash>/library/std/src/x.rs` becomes `library/std/src/x.rs`; any other path
/// is [`normalize`]d. For showing stack frames, where std's paths are long and alike.
pub fn display(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("/rustc/")
        && let Some((_hash, library)) = rest.split_once('/')
    {
        return library.to_owned();
    }
    normalize(path)
}

/// The workspace root, cleaned, with a trailing `/`.
fn root() -> &'static str {
    static ROOT: OnceLock<String> = OnceLock::new();
    ROOT.get_or_init(|| clean(concat!(env!("CARGO_MANIFEST_DIR"), "/..")) + "/")
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
}
