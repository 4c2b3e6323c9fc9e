//! A lab cannot pass by ending the check early: the verdict comes from the report the
//! check signs with the runner's nonce, never from the exit code or from what the lab
//! prints. Each cheat replaces lab 1 in a scratch copy of the workspace and goes
//! through `cargo lab check 1`, as a student's file would.

mod common;

use common::{Scratch, findings, repo};

#[test]
fn exiting_printing_pass_or_panicking_fails_the_check() {
    let scratch = Scratch::lock();
    for (cheat, says) in [
        ("lab01_exit_zero.rs", "before the check could report"),
        ("lab01_prints_pass.rs", "before the check could report"),
        ("lab01_panics.rs", "panicked"),
    ] {
        let source = std::fs::read_to_string(repo().join("tests/cheats").join(cheat)).expect("read cheat");
        scratch.write_lab("lab01_orphaned_task.rs", &source);
        let (code, json) = scratch.check(1);
        let run = &json["runs"][0];
        assert_eq!(code, 1, "{cheat}: check must exit 1: {json:#}");
        assert_eq!(run["passed"], false, "{cheat}");
        let finding = findings(run).into_iter().find(|f| f["kind"] == "crashed");
        let finding = finding.unwrap_or_else(|| panic!("{cheat}: no crashed finding: {run:#}"));
        assert!(
            finding["message"].as_str().unwrap().contains(says),
            "{cheat}: {finding:#}"
        );
    }
}
