//! The exhibits: each lab's check reports the broken original, and passes the solution.
//!
//! Students edit `labs/`, so the exhibits check `tests/originals/`, a pristine copy of
//! each broken lab (`cargo lab dev --check` keeps it byte-identical to `labs/` on main).
//! While the student's copy is still the original, it is checked too, and must show the
//! bug at its `labs/` location. What each exhibit must show (the check, the finding
//! kind, the culprit line) comes from the registry, so a new lab is covered by adding
//! its entry.

mod common;

use common::{findings, lab_json, line_of, repo};
use labkit::Variant;
use leaklab_registry::{LABS, Lab};
use serde_json::Value;

/// `cargo lab exhibit N`, checked against the lab's registry entry; returns the
/// exhibit's finding on the original.
fn exhibit(lab: &Lab) -> Value {
    let (code, json) = lab_json(&repo(), &["exhibit", &lab.number.to_string()]);
    let (original, solution) = (&json["runs"][0], &json["runs"][1]);
    assert_eq!(original["variant"], "original");
    assert_eq!(
        original["passed"], false,
        "lab {}: the check must report the original bug: {original:#}",
        lab.number
    );
    assert_eq!(solution["variant"], "solution");
    assert_eq!(
        solution["passed"], true,
        "lab {}: the solution must pass: {solution:#}",
        lab.number
    );
    assert!(findings(solution).is_empty());
    assert_eq!(code, 0, "exhibit exits 0 when the check is proven");

    let original_file = lab.path(Variant::Original);
    let culprit = lab.exhibit.culprit;
    let expected_line = line_of(&repo().join(&original_file), culprit);
    let finding = finding_of(original, lab.exhibit.check.as_str(), &lab.exhibit.kind.name());
    let site = &finding["sites"][0];
    assert_eq!(site["file"], original_file.as_str());
    assert_eq!(
        site["line"], expected_line,
        "lab {}: the finding names the line of `{culprit}`",
        lab.number
    );

    let yours = repo().join(lab.path(Variant::Yours));
    if std::fs::read(&yours).ok() == std::fs::read(repo().join(&original_file)).ok() {
        let (code, json) = lab_json(&repo(), &["check", &lab.number.to_string()]);
        assert_eq!(code, 1, "an unfixed lab fails its check");
        let finding = finding_of(
            &json["runs"][0],
            lab.exhibit.check.as_str(),
            &lab.exhibit.kind.name(),
        );
        assert_eq!(finding["sites"][0]["file"], lab.path(Variant::Yours).as_str());
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

fn lab(number: u32) -> &'static Lab {
    leaklab_registry::lab(number).expect("a lab of the registry")
}

#[test]
fn every_lab_reports_its_original_and_passes_its_solution() {
    for lab in LABS {
        exhibit(lab);
    }
}

#[test]
fn lab01_reports_one_leaked_task_per_unanswered_request() {
    let finding = exhibit(lab(1));
    let line = line_of(
        &repo().join("tests/originals/lab01_orphaned_task.rs"),
        "tokio::spawn",
    );
    let place = format!("tests/originals/lab01_orphaned_task.rs:{line}");
    assert!(
        finding["message"].as_str().unwrap().contains(&place),
        "the message names {place}"
    );
    let unanswered = leaklab_checks::lab01::CASES
        .iter()
        .filter(|case| case.answer_after_ms.is_none())
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
    let finding = exhibit(lab(2));
    let first = &leaklab_checks::lab02::CASES[0];
    let records = first.write_ms.len() as u64;
    assert_eq!(finding["measured"]["records_total"], records);
    assert_eq!(
        finding["measured"]["records_lost"], records,
        "nothing is written before main returns"
    );
    assert_eq!(finding["measured"]["tasks_running"], records);
}

#[test]
fn lab03_loom_finds_the_interleaving_that_loses_an_update() {
    let finding = exhibit(lab(3));
    let (expected, counted) = (&finding["measured"]["expected"], &finding["measured"]["counted"]);
    assert!(
        counted.as_u64() < expected.as_u64(),
        "fewer counted than booked: {finding:#}"
    );
    // The interleaving: both threads read the counter before either writes it back, and
    // the finding points at the load and then the store.
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
    let original = repo().join("tests/originals/lab03_unsynchronised_counter.rs");
    let store_line = line_of(&original, "self.booked.store");
    assert_eq!(
        finding["sites"][1]["line"], store_line,
        "the second site is the store"
    );
}
