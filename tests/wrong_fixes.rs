//! The wrong fixes LABS.md lists for each lab, applied to a scratch copy of the lab,
//! must fail `cargo lab check`; a correct fix of another shape must pass. This proves
//! each check tests the property a fix must restore, not one expected shape of code.

mod common;

use common::{Scratch, findings, repo};

/// Checks each case in turn in one scratch copy: (fixture, the finding kind it must
/// produce, or `None` when it must pass).
fn try_fixes(lab: u32, lab_file: &str, cases: &[(&str, Option<&str>)]) {
    let scratch = Scratch::lock();
    for (fixture, expected) in cases {
        let source =
            std::fs::read_to_string(repo().join("tests/wrong_fixes").join(fixture)).expect("read fixture");
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
            ("lab01_drop_handle.rs", Some("leaked_task")),
            ("lab01_sleep.rs", Some("leaked_task")),
            ("lab01_sleep.rs", Some("hang")),
            ("lab01_abort_on_return.rs", None),
        ],
    );
}

#[test]
fn lab02_rejects_a_sleep_in_main_and_abort() {
    try_fixes(
        2,
        "lab02_missing_join.rs",
        &[
            ("lab02_sleep.rs", Some("lost_work")),
            ("lab02_sleep.rs", Some("hang")),
            ("lab02_abort.rs", Some("lost_work")),
            ("lab02_await_handles.rs", None),
        ],
    );
}
