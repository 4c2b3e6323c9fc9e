//! The report's hand-off from a check child to its parent: only the report the check
//! signed counts, and anything else in its place says what it found there.
//!
//! These tests run this test binary again as the child (the role is picked by
//! `LABKIT_CHILD`), as `watchdog.rs` does, with a "lab" that writes the report file
//! itself and ends the process before the check can.

// The package is tokio-leakcheck; leaklab calls it labkit.
extern crate tokio_leakcheck as labkit;

mod common;

use common::META;
use labkit::child::{REPORT_ENV, run_check_command, serve};
use labkit::{Kind, Report, Verdict};
use std::process::Command;
use std::time::Duration;

/// The child's side: the "lab" writes `role`'s file where the report goes, and exits 0.
#[test]
fn child() {
    let Ok(role) = std::env::var("LABKIT_CHILD") else {
        return;
    };
    serve(META, move || {
        let path = std::env::var_os(REPORT_ENV).expect("the report path");
        let forged = match role.as_str() {
            "garbage" => "PASS".to_owned(),
            // Well formed, and a passing report of this very check, but with a nonce of
            // the lab's own making.
            "unsigned" => {
                let report = serde_json::to_value(META.report(Verdict::default())).unwrap();
                serde_json::json!({ "nonce": "00000000000000000000000000000000", "report": report })
                    .to_string()
            }
            "nothing" => {
                std::process::exit(0);
            }
            other => panic!("no such role: {other}"),
        };
        std::fs::write(path, forged).expect("write the forged report");
        std::process::exit(0)
    })
}

fn run_child(role: &str) -> Report {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("LABKIT_CHILD", role);
    run_check_command(command, META, Duration::from_secs(30))
}

/// The one finding of a child whose report did not come from the check.
fn crashed(role: &str) -> String {
    let report = run_child(role);
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let finding = &report.findings[0];
    assert_eq!(finding.kind, Kind::Crashed, "{finding:#?}");
    assert!(finding.message.contains("exit status: 0"), "{}", finding.message);
    finding.message.clone()
}

#[test]
fn a_lab_that_exits_leaves_no_report() {
    let message = crashed("nothing");
    assert!(message.contains("before the check could report"), "{message}");
}

#[test]
fn a_lab_that_writes_the_report_file_is_not_believed() {
    let message = crashed("garbage");
    assert!(
        message.contains("a report that does not parse (4 bytes"),
        "{message}"
    );
}

#[test]
fn a_well_formed_report_without_the_nonce_is_not_believed() {
    let message = crashed("unsigned");
    assert!(message.contains("a report this check did not sign"), "{message}");
}
