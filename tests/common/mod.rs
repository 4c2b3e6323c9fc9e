//! Shared by the integration tests: running `cargo lab` and reading its JSON, and a
//! scratch copy of the workspace in which a test may rewrite a lab file without
//! touching the student's copy.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository, as the test was built from it.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory the test binary lives in.
pub fn target_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_leaklab"));
    exe.ancestors()
        .nth(2)
        .expect("target/<profile>/leaklab")
        .to_path_buf()
}

/// `cargo lab <args> --json`, run on the workspace at `root`: its exit code and output.
pub fn lab_json(root: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .args(args)
        .arg("--json")
        .env("LEAKLAB_ROOT", root)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .output()
        .expect("run leaklab");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("leaklab {args:?} printed no JSON ({e}):\n{}", told(&out)));
    (out.status.code().unwrap_or(-1), json)
}

/// Every finding in one run of a `--json` answer.
pub fn findings(run: &Value) -> Vec<&Value> {
    run["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["findings"].as_array().into_iter().flatten())
        .collect()
}

/// The 1-based number of the first line of `file` that contains `needle`.
pub fn line_of(file: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(file).expect("read lab file");
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} in {file:?}"));
    index as u64 + 1
}

/// A copy of the workspace (sources only) under the target directory, at a stable path
/// so that its builds are cached from one test run to the next. It has its own target
/// dir: cargo names a workspace's artifacts by their place in the workspace, so two
/// copies sharing one would take each other's binaries for fresh.
///
/// There is one copy, and a test holds it (a file lock, since nextest runs each test in
/// a process of its own) from `Scratch::lock` until the `Scratch` is dropped.
pub struct Scratch {
    pub root: PathBuf,
    _held: std::fs::File,
}

impl Scratch {
    pub fn lock() -> Scratch {
        let root = target_dir().join("scratch");
        std::fs::create_dir_all(&root).expect("create scratch dir");
        let held = std::fs::File::create(root.join(".lock")).expect("create lock file");
        held.lock().expect("lock the scratch copy");
        let scratch = Scratch { root, _held: held };
        scratch.restore();
        scratch
    }

    /// Makes every file of the scratch copy the repository's again, with `labs/` as
    /// shipped (files added to the copy are left; remove them yourself).
    pub fn restore(&self) {
        let repo = repo();
        for entry in [
            "Cargo.toml",
            "Cargo.lock",
            ".cargo",
            "README.md",
            "rustfmt.toml",
            "src",
            "labkit",
            "registry",
            "clinic",
            "checks",
            "bins",
            "shim",
            "models",
            "benches",
            "solutions",
            "fixtures",
            "book/src",
            "book/book.toml",
            // Every test file: a workspace member may name one in its `[[test]]` table.
            "tests",
            "classroom",
        ] {
            copy_tree(&repo.join(entry), &self.root.join(entry));
        }
        // The labs as shipped, not as a student may have edited them: the tests must
        // pass in a copy where work on the labs is under way.
        copy_tree(&repo.join("tests/originals"), &self.root.join("labs"));
    }

    /// Writes `text` to `path`, relative to the scratch copy.
    pub fn write(&self, path: &str, text: &str) {
        let path = self.root.join(path);
        std::fs::create_dir_all(path.parent().expect("a file has a folder")).expect("create dir");
        std::fs::write(path, text).expect("write file");
    }

    /// Reads `path`, relative to the repository.
    pub fn original(&self, path: &str) -> String {
        std::fs::read_to_string(repo().join(path)).expect("read a file of the repository")
    }

    /// `cargo lab <args>` on the scratch copy: exit code and stdout.
    pub fn lab(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_leaklab"))
            .args(args)
            .env("LEAKLAB_ROOT", &self.root)
            .env("CARGO_TARGET_DIR", self.root.join("target"))
            .output()
            .expect("run leaklab");
        (out.status.code().unwrap_or(-1), told(&out))
    }
}

/// What a `cargo lab` run told, for an assertion's message: its exit status, its
/// standard output, then its standard error without the build's progress lines, which
/// would crowd out the error that matters where CI shows only part of a failure.
pub fn told(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.starts_with("leaklab: building"))
        .collect();
    format!(
        "[{}]\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        errors.join("\n")
    )
}

/// Makes `to` a copy of `from`: files written only when they differ (so cargo rebuilds
/// only what changed), and files `from` no longer has removed (a module moved into a
/// folder must not leave its old file behind).
fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("dir entry");
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
        for entry in std::fs::read_dir(to).into_iter().flatten().flatten() {
            if !from.join(entry.file_name()).exists() {
                let path = entry.path();
                let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir_all(&path));
            }
        }
    } else {
        write_if_changed(to, &std::fs::read(from).expect("read source file"));
    }
}

/// Writes only when the content differs, so cargo does not rebuild what did not change.
fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dir");
        std::fs::write(path, bytes).expect("write file");
    }
}
