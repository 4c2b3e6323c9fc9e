//! The exhibits: each lab's check reports the broken original, and passes the solution.
//!
//! Students edit `labs/`, so the exhibits check `tests/originals/`, a pristine copy of
//! each broken lab (`.ci/run` keeps it byte-identical to `labs/` on main). While the
//! student's copy is still the original, it is checked too, and must show the bug at
//! its `labs/` location.

mod common;

use common::{findings, lab_json, line_of, repo};
use serde_json::Value;

/// Runs `cargo lab exhibit N` and checks what it says about both copies.
/// `spawn` is the text of the line whose location the finding must name.
fn exhibit(lab: u32, file: &str, kind: &str, spawn: &str) -> Value {
    let (code, json) = lab_json(&repo(), &["exhibit", &lab.to_string()]);
    let (original, solution) = (&json["runs"][0], &json["runs"][1]);
    assert_eq!(original["variant"], "original");
    assert_eq!(
        original["passed"], false,
        "the check must report the original bug: {original:#}"
    );
    assert_eq!(solution["variant"], "solution");
    assert_eq!(solution["passed"], true, "the solution must pass: {solution:#}");
    assert!(findings(solution).is_empty());
    assert_eq!(code, 0, "exhibit exits 0 when the check is proven");

    let original_file = format!("tests/originals/{file}");
    let expected_line = line_of(&repo().join(&original_file), spawn);
    let finding = findings(original).into_iter().find(|f| f["kind"] == kind);
    let finding = finding.unwrap_or_else(|| panic!("no {kind} finding for the original: {original:#}"));
    let site = &finding["sites"][0];
    assert_eq!(site["file"], original_file.as_str());
    assert_eq!(
        site["line"], expected_line,
        "the finding names the line of `{spawn}`"
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{original_file}:{expected_line}"))
    );

    let student = repo().join("labs").join(file);
    if std::fs::read(&student).ok() == std::fs::read(repo().join(&original_file)).ok() {
        let (code, json) = lab_json(&repo(), &["check", &lab.to_string()]);
        assert_eq!(code, 1, "an unfixed lab fails its check");
        let run = &json["runs"][0];
        let finding = findings(run)
            .into_iter()
            .find(|f| f["kind"] == kind)
            .expect("the same finding");
        assert_eq!(finding["sites"][0]["file"], format!("labs/{file}").as_str());
    }
    finding.clone()
}

#[test]
fn lab01_reports_one_leaked_task_per_unanswered_request() {
    let finding = exhibit(1, "lab01_orphaned_task.rs", "leaked_task", "tokio::spawn");
    let unanswered = leaklab_checks::lab01::PATIENTS
        .iter()
        .filter(|(_, after)| after.is_none())
        .count();
    assert_eq!(finding["measured"]["alive_tasks"], unanswered as u64);
    assert_eq!(finding["sites"][0]["count"], unanswered as u64);
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        let stack = finding["sites"][0]["stack"]
            .as_str()
            .expect("a task dump on linux");
        assert!(
            stack.contains("LabSystem::lookup"),
            "the stack shows where the task waits: {stack}"
        );
    }
}

#[test]
fn lab02_reports_records_lost_at_shutdown() {
    let finding = exhibit(2, "lab02_missing_join.rs", "lost_work", "tokio::spawn");
    let first_run = leaklab_checks::lab02::RUNS[0].write_ms.len() as u64;
    assert_eq!(finding["measured"]["records_total"], first_run);
    assert_eq!(
        finding["measured"]["records_lost"], first_run,
        "nothing is written before main returns"
    );
    assert_eq!(finding["measured"]["tasks_running"], first_run);
}
