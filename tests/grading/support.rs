//! Shared by the grading tests (`tests/grade*.rs`): student clones made from the
//! shipped labs with some files swapped for the misbehaving ones in this folder, and
//! `cargo lab grade` run on them, its results read back.

#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// The repository, as the test was built from it.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory the test binary lives in: the grader builds there too, so the
/// checks' dependencies are the test build's.
pub fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leaklab"))
        .ancestors()
        .nth(2)
        .expect("target/<profile>/leaklab")
        .to_path_buf()
}

/// Where these tests keep their clones and results.
pub fn work() -> PathBuf {
    target_dir().join("grade-tests")
}

/// Gradings take turns: each would take a scratch workspace of its own, and cargo
/// rebuilds the check binaries whenever the workspace it builds for changes.
pub fn serial() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A misbehaving lab of this folder: its file name, and its header's expectation
/// (`//! expect: fail leaked_task`).
pub struct Misbehaving {
    pub file: &'static str,
    pub lab: u32,
    pub status: String,
    pub kind: String,
}

pub fn misbehaving(file: &'static str) -> Misbehaving {
    let path = repo().join("tests/grading").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let expect = text
        .lines()
        .find_map(|line| line.strip_prefix("//! expect: "))
        .unwrap_or_else(|| panic!("{file} has no `//! expect: <status> <kind>` line"));
    let (status, kind) = expect.split_once(' ').expect("a status and a kind");
    let lab = file[3..5].parse().expect("files are named labNN_...");
    Misbehaving {
        file,
        lab,
        status: status.to_owned(),
        kind: kind.to_owned(),
    }
}

/// The shipped lab file of `lab` (`lab01_orphaned_task.rs`).
pub fn lab_file(lab: u32) -> String {
    let prefix = format!("lab{lab:02}_");
    std::fs::read_dir(repo().join("tests/originals"))
        .expect("tests/originals")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| name.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no original of lab {lab}"))
}

/// A student clone called `name`: every lab as shipped, then each `(lab, source)` put in.
pub fn clone_with(name: &str, swaps: &[(u32, String)]) -> PathBuf {
    let dir = work().join("students").join(name);
    let labs = dir.join("labs");
    let _ = std::fs::remove_dir_all(&labs);
    std::fs::create_dir_all(&labs).expect("create a clone");
    for entry in std::fs::read_dir(repo().join("tests/originals"))
        .expect("tests/originals")
        .flatten()
    {
        std::fs::copy(entry.path(), labs.join(entry.file_name())).expect("copy an original");
    }
    for (lab, source) in swaps {
        std::fs::write(labs.join(lab_file(*lab)), source).expect("write a lab");
    }
    dir
}

/// The source of a file in this folder, or of a solution.
pub fn source(file: &str) -> String {
    let path = if file.starts_with("solutions/") {
        repo().join(file)
    } else {
        repo().join("tests/grading").join(file)
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What one `cargo lab grade` said: its exit code, its output, and its results.
pub struct Graded {
    pub code: i32,
    pub output: String,
    pub results: Value,
    pub junit: String,
}

impl Graded {
    /// Each lab's status, finding kinds and message, by number.
    pub fn labs(&self) -> BTreeMap<u64, (String, Vec<String>, String)> {
        self.results["labs"]
            .as_array()
            .expect("labs")
            .iter()
            .map(|lab| {
                let kinds = lab["kinds"]
                    .as_array()
                    .expect("kinds")
                    .iter()
                    .map(|k| k.as_str().expect("a kind").to_owned())
                    .collect();
                let status = lab["status"].as_str().expect("status").to_owned();
                let message = lab["message"].as_str().expect("message").to_owned();
                (lab["number"].as_u64().expect("number"), (status, kinds, message))
            })
            .collect()
    }

    /// The results without the times, which are the only thing allowed to differ
    /// between two gradings of the same copy.
    pub fn timeless(&self) -> Value {
        let mut results = self.results.clone();
        strip_times(&mut results);
        results
    }
}

fn strip_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("time_ms");
            map.values_mut().for_each(strip_times);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_times),
        _ => {}
    }
}

/// `cargo lab grade <args>` on the copy at `root`, its results written to `out`.
pub fn grade(root: &Path, args: &[&str], out: &Path) -> Graded {
    let _ = std::fs::remove_dir_all(out);
    let output = Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .arg("grade")
        .args(args)
        .arg("--out")
        .arg(out)
        .env("LEAKLAB_ROOT", root)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("LEAKLAB_HIDDEN")
        .env_remove("LEAKLAB_MANIFEST_SHA256")
        .output()
        .expect("run leaklab grade");
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let json = std::fs::read_to_string(out.join("results.json"))
        .unwrap_or_else(|e| panic!("no results.json ({e}) from `cargo lab grade {args:?}`:\n{text}"));
    Graded {
        code: output.status.code().unwrap_or(-1),
        output: text,
        results: serde_json::from_str(&json).expect("results.json is JSON"),
        junit: std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml"),
    }
}

/// `cargo lab grade --student <clone> --timeout 5`, from the repository.
pub fn grade_student(clone: &Path, out: &str) -> Graded {
    let clone = clone.to_str().expect("a UTF-8 path");
    grade(
        &repo(),
        &["--student", clone, "--timeout", "5"],
        &work().join("results").join(out),
    )
}

/// Whether a process whose command line contains `marker` is running.
pub fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .any(|cmdline| {
            String::from_utf8_lossy(&cmdline)
                .replace('\0', " ")
                .contains(marker)
        })
}
