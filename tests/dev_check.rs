//! `cargo lab dev --check` fails on every kind of drift between the registry and the
//! tree, each made in turn in a scratch copy; and it passes on the repository as is.

mod common;

use common::{Scratch, repo, told};
use std::process::Command;

#[test]
fn the_repository_is_in_step_with_its_registry() {
    let out = Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .args(["dev", "--check"])
        .env("LEAKLAB_ROOT", repo())
        .env("CARGO_TARGET_DIR", repo().join("target"))
        .output()
        .expect("run leaklab");
    assert_eq!(out.status.code(), Some(0), "{}", told(&out));
}

#[test]
fn each_drift_fails_the_dev_check() {
    let scratch = Scratch::lock();
    let solution1 = scratch.original("solutions/lab01_orphaned_task.rs");
    let original2 = scratch.original("tests/originals/lab02_missing_join.rs");
    let readme = scratch
        .original("README.md")
        .replace("the orphaned task]", "the lost task]");
    let summary = scratch
        .original("book/src/SUMMARY.md")
        .replace("Lab 2", "Lab two");
    let no_banner = original2.replace("//! TODO:", "//! Note:");
    let solved_original = format!("//! TODO: nothing; this original is already fixed.\n{solution1}");
    // Each drift: files to write (or remove, with None), and what the check must say.
    // A drift found before any lab runs is made alone. The two broken exhibits (lab 1's
    // original passes, lab 2's solution fails) are made together: one run of every lab
    // shows both, and each must be named.
    type Drift<'a> = (Vec<(&'a str, Option<&'a str>)>, Vec<&'a str>);
    let drifts: Vec<Drift> = vec![
        (vec![("README.md", Some(&readme))], vec!["README.md is stale"]),
        (
            vec![("book/src/SUMMARY.md", Some(&summary))],
            vec!["book/src/SUMMARY.md is stale"],
        ),
        (
            vec![("book/src/lab02.md", None)],
            vec!["book/src/lab02.md is missing"],
        ),
        (
            vec![("solutions/lab02_missing_join.rs", None)],
            vec!["solutions/lab02_missing_join.rs is missing"],
        ),
        (
            vec![
                ("tests/originals/lab02_missing_join.rs", Some(&no_banner)),
                ("labs/lab02_missing_join.rs", Some(&no_banner)),
            ],
            vec!["has no `//! TODO:` banner"],
        ),
        (
            vec![("labs/lab02_missing_join.rs", Some(&solution1))],
            vec!["differs from tests/originals/lab02_missing_join.rs"],
        ),
        (
            vec![("bins/src/bin/lab99-yours.rs", Some("fn main() {}\n"))],
            vec!["bins/src/bin/lab99-yours.rs belongs to no lab"],
        ),
        (
            vec![
                ("tests/originals/lab01_orphaned_task.rs", Some(&solved_original)),
                ("labs/lab01_orphaned_task.rs", Some(&solved_original)),
                ("solutions/lab02_missing_join.rs", Some(&original2)),
            ],
            vec![
                "✗ lab 1: the scenario check must report leaked task on tests/originals/lab01_orphaned_task.rs",
                "✗ lab 2: solutions/lab02_missing_join.rs must pass",
            ],
        ),
    ];
    for (changes, says) in &drifts {
        scratch.restore();
        let _ = std::fs::remove_file(scratch.root.join("bins/src/bin/lab99-yours.rs"));
        for (path, text) in changes {
            match text {
                Some(text) => scratch.write(path, text),
                None => std::fs::remove_file(scratch.root.join(path)).expect("remove a file"),
            }
        }
        let (code, out) = scratch.lab(&["dev", "--check"]);
        assert_eq!(code, 1, "{says:?}: the check must fail:\n{out}");
        for problem in says {
            assert!(out.contains(problem), "expected `{problem}` in:\n{out}");
        }
    }
    let _ = std::fs::remove_file(scratch.root.join("bins/src/bin/lab99-yours.rs"));
    scratch.restore();
}
