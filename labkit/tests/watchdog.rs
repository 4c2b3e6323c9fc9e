//! A task that never reaches an `.await` stops its runtime thread for good; only the
//! child's watchdog, on another thread, can report it. These tests run this test binary
//! again as the child (selected by `LABKIT_CHILD`), and read its signed report.

#![cfg(tokio_unstable)]

use labkit::child::{Meta, run_check_command, serve};
use labkit::{Detector, Kind, Report, Variant};
use std::process::Command;
use std::time::Duration;

const META: Meta = Meta {
    lab: 0,
    variant: Variant::Solution,
    check: "scenario",
};

/// The child's side: runs the named stuck scenario under `serve`.
#[test]
fn child() {
    let Ok(role) = std::env::var("LABKIT_CHILD") else {
        return;
    };
    serve(META, || {
        let outcome = Detector::new().run(|| async move {
            let stuck = tokio::spawn(async move {
                match role.as_str() {
                    "spin" => loop {
                        std::hint::spin_loop();
                    },
                    _ => {
                        let lock = std::sync::Mutex::new(());
                        let _held = lock.lock();
                        let _again = lock.lock(); // a std Mutex is not reentrant: blocks forever
                    }
                }
            });
            let _ = stuck.await;
        });
        let mut report = Report::new(0, Variant::Solution, "scenario");
        report.notes = outcome.notes();
        report
    })
}

fn run_child(role: &str) -> Report {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("LABKIT_CHILD", role);
    run_check_command(command, META, Duration::from_secs(30))
}

#[test]
fn a_spinning_task_is_reported_as_spin_with_its_spawn_site() {
    let report = run_child("spin");
    let finding = &report.findings[0];
    assert_eq!(finding.kind, Kind::Spin, "{finding:?}");
    assert!(finding.measured["stuck_ms"] >= 2000);
    assert_eq!(finding.sites[0].file, "labkit/tests/watchdog.rs");
    assert!(finding.message.contains("never reaches an .await"));
}

#[test]
fn a_blocked_task_is_reported_as_deadlock() {
    let report = run_child("deadlock");
    let finding = &report.findings[0];
    assert_eq!(finding.kind, Kind::Deadlock, "{finding:?}");
    assert!(finding.measured["cpu_ms"] < finding.measured["stuck_ms"] / 4);
}
