//! The wrong fixes LABS.md lists for each lab, applied to a scratch copy of the lab,
//! must fail `cargo lab check`; a correct fix of another shape must pass. This proves
//! each check tests the property a fix must restore, not one expected shape of code.

mod common;

use common::{Scratch, findings, repo};

/// Checks each case in turn in one scratch copy: (fixture, relative to the repository;
/// the finding kind it must produce, or `None` when it must pass).
fn try_fixes(lab: u32, lab_file: &str, cases: &[(&str, Option<&str>)]) {
    let scratch = Scratch::lock();
    for (fixture, expected) in cases {
        let source = std::fs::read_to_string(repo().join(fixture)).expect("read fixture");
        scratch.write_lab(lab_file, &source);
        let (code, json) = scratch.check(lab);
        let run = &json["runs"][0];
        match expected {
            Some(kind) => {
                assert_eq!(code, 1, "{fixture} must fail: {run:#}");
                assert!(
                    findings(run).iter().any(|f| f["kind"] == *kind),
                    "{fixture}: expected {kind}: {run:#}"
                );
            }
            None => assert_eq!(
                (code, &run["passed"]),
                (0, &true.into()),
                "{fixture} must pass: {run:#}"
            ),
        }
    }
}

#[test]
fn lab01_rejects_dropping_the_handle_and_sleeping() {
    try_fixes(
        1,
        "lab01_orphaned_task.rs",
        &[
            ("tests/wrong_fixes/lab01_drop_handle.rs", Some("leaked_task")),
            ("tests/wrong_fixes/lab01_sleep.rs", Some("leaked_task")),
            ("tests/wrong_fixes/lab01_sleep.rs", Some("hang")),
            ("tests/wrong_fixes/lab01_abort_on_return.rs", None),
        ],
    );
}

#[test]
fn lab02_rejects_a_sleep_in_main_and_abort() {
    try_fixes(
        2,
        "lab02_missing_join.rs",
        &[
            ("tests/wrong_fixes/lab02_sleep.rs", Some("lost_work")),
            ("tests/wrong_fixes/lab02_sleep.rs", Some("hang")),
            ("tests/wrong_fixes/lab02_abort.rs", Some("lost_work")),
            ("tests/wrong_fixes/lab02_await_handles.rs", None),
        ],
    );
}

#[test]
fn lab03_rejects_seqcst_and_two_locks() {
    // The loom suite (models/tests/loom.rs) has more variants; these go through `cargo lab check 3`.
    try_fixes(
        3,
        "lab03_unsynchronised_counter.rs",
        &[
            ("models/tests/wrong_fixes/seqcst.rs", Some("lost_update")),
            ("models/tests/wrong_fixes/two_locks.rs", Some("lost_update")),
            ("models/tests/right_fixes/one_lock.rs", None),
        ],
    );
}
