//! The exhibits: each lab's check reports the broken original, and passes the solution.
//!
//! Students edit `labs/`, so the exhibits check `tests/originals/`, a pristine copy of
//! each broken lab (`.ci/run` keeps it byte-identical to `labs/` on main). While the
//! student's copy is still the original, it is checked too, and must show the bug at
//! its `labs/` location.

mod common;

use common::{findings, lab_json, line_of, repo};
use serde_json::Value;

/// Runs `cargo lab exhibit N` and checks what it says about both copies: the `check`
/// report on the original has a `kind` finding whose first site is the line of the
/// original that contains `culprit`. Returns that finding.
fn exhibit(lab: u32, file: &str, check: &str, kind: &str, culprit: &str) -> Value {
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
    let expected_line = line_of(&repo().join(&original_file), culprit);
    let finding = finding_of(original, check, kind);
    let site = &finding["sites"][0];
    assert_eq!(site["file"], original_file.as_str());
    assert_eq!(
        site["line"], expected_line,
        "the finding names the line of `{culprit}`"
    );

    let student = repo().join("labs").join(file);
    if std::fs::read(&student).ok() == std::fs::read(repo().join(&original_file)).ok() {
        let (code, json) = lab_json(&repo(), &["check", &lab.to_string()]);
        assert_eq!(code, 1, "an unfixed lab fails its check");
        let yours = finding_of(&json["runs"][0], check, kind);
        assert_eq!(yours["sites"][0]["file"], format!("labs/{file}").as_str());
    }
    finding.clone()
}

/// The `kind` finding in the `check` report of one run.
fn finding_of<'a>(run: &'a Value, check: &str, kind: &str) -> &'a Value {
    let reports = run["reports"].as_array().expect("reports");
    let report = reports.iter().find(|r| r["check"] == check);
    let report = report.unwrap_or_else(|| panic!("no {check} report: {run:#}"));
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == kind);
    finding.unwrap_or_else(|| panic!("no {kind} finding in the {check} report: {run:#}"))
}

#[test]
fn lab01_reports_one_leaked_task_per_unanswered_request() {
    let finding = exhibit(
        1,
        "lab01_orphaned_task.rs",
        "scenario",
        "leaked_task",
        "tokio::spawn",
    );
    let line = line_of(
        &repo().join("tests/originals/lab01_orphaned_task.rs"),
        "tokio::spawn",
    );
    let place = format!("tests/originals/lab01_orphaned_task.rs:{line}");
    assert!(
        finding["message"].as_str().unwrap().contains(&place),
        "the message names {place}"
    );
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
    let finding = exhibit(
        2,
        "lab02_missing_join.rs",
        "scenario",
        "lost_work",
        "tokio::spawn",
    );
    let first_run = leaklab_checks::lab02::RUNS[0].write_ms.len() as u64;
    assert_eq!(finding["measured"]["records_total"], first_run);
    assert_eq!(
        finding["measured"]["records_lost"], first_run,
        "nothing is written before main returns"
    );
    assert_eq!(finding["measured"]["tasks_running"], first_run);
}

#[test]
fn lab03_loom_finds_the_interleaving_that_loses_an_update() {
    let finding = exhibit(
        3,
        "lab03_unsynchronised_counter.rs",
        "loom",
        "lost_update",
        "fn record_booking",
    );
    let (expected, counted) = (&finding["measured"]["expected"], &finding["measured"]["counted"]);
    assert!(
        counted.as_u64() < expected.as_u64(),
        "fewer counted than booked: {finding:#}"
    );
    // The interleaving: both threads read the counter before either writes it back.
    let detail = finding["detail"].as_str().expect("the interleaving is printed");
    let steps: Vec<&str> = detail
        .lines()
        .filter(|l| l.contains(": load") || l.contains(": store"))
        .collect();
    let first_store = steps.iter().position(|l| l.contains(": store")).expect("a store");
    let loads_before: Vec<&str> = steps[..first_store]
        .iter()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert!(
        loads_before.len() >= 2,
        "two loads before the first store: {detail}"
    );
    assert_ne!(
        loads_before[0], loads_before[1],
        "by two different threads: {detail}"
    );
}
