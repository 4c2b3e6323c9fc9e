//! The loom suite: lab 3's model must catch the original, pass the solution, and reject
//! the wrong fixes that look right.
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg tokio_unstable" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p leaklab-models --release --target-dir target/loom
//! ```
//!
//! The original and the solution run as their check binaries, in child processes, so a
//! model that aborts cannot take this test binary down. The fixes in `wrong_fixes/` and
//! `right_fixes/` are known code and run in process.
#![cfg(loom)]

use labkit::child::{Meta, run_check};
use labkit::{Kind, Report, Variant};
use leaklab_models::counter::{self, Step};
use std::path::Path;
use std::time::Duration;

#[path = "wrong_fixes/bypasses_the_shim.rs"]
mod bypasses_the_shim;
#[path = "right_fixes/cas_loop.rs"]
mod cas_loop;
#[path = "wrong_fixes/cas_once.rs"]
mod cas_once;
#[path = "right_fixes/fetch_update.rs"]
mod fetch_update;
#[path = "right_fixes/one_lock.rs"]
mod one_lock;
#[path = "wrong_fixes/read_then_write_lock.rs"]
mod read_then_write_lock;
#[path = "wrong_fixes/relock.rs"]
mod relock;
#[path = "wrong_fixes/seqcst.rs"]
mod seqcst;
#[path = "wrong_fixes/two_locks.rs"]
mod two_locks;

fn run_binary(exe: &str, variant: Variant) -> Report {
    run_check(
        Path::new(exe),
        Meta {
            lab: 3,
            variant,
            check: "loom",
        },
        Duration::from_secs(60),
    )
}

/// The lost-update finding's interleaving, read back into steps.
fn lost_update(report: &Report) -> (&labkit::Finding, Vec<Step>) {
    let finding = report
        .findings
        .iter()
        .find(|finding| finding.kind == Kind::LostUpdate)
        .unwrap_or_else(|| panic!("expected a lost update, got {report:#?}"));
    let steps = counter::parse(
        finding
            .detail
            .as_deref()
            .expect("the finding shows its interleaving"),
    );
    (finding, steps)
}

macro_rules! check {
    ($lab:ident) => {
        counter::check(
            Variant::Student,
            $lab::BookingCounter::new,
            $lab::BookingCounter::record_booking,
            $lab::BookingCounter::total,
        )
    };
}

#[test]
fn the_original_loses_a_booking_and_the_model_shows_how() {
    let report = run_binary(env!("CARGO_BIN_EXE_lab03-original"), Variant::Original);
    let (finding, steps) = lost_update(&report);
    assert_eq!(
        (
            finding.measured["expected"],
            finding.measured["counted"],
            finding.measured["lost"]
        ),
        (2, 1, 1)
    );

    // Both threads load before either stores, read the same count and store the same
    // successor: that is how one booking disappears.
    let first_store = steps.iter().position(|step| step.op == "store").expect("a store");
    let loads: Vec<&Step> = steps[..first_store]
        .iter()
        .filter(|step| step.op == "load")
        .collect();
    assert_eq!(loads.len(), 2, "two loads before the first store in {steps:#?}");
    assert_ne!(loads[0].thread, loads[1].thread);
    assert_eq!(loads[0].read, loads[1].read);
    let stores: Vec<&Step> = steps.iter().filter(|step| step.op == "store").collect();
    assert_eq!(stores.len(), 2);
    assert!(
        stores
            .iter()
            .all(|store| store.wrote == loads[0].read.map(|read| read + 1))
    );

    let site = &finding.sites[0];
    assert_eq!(site.file, "tests/originals/lab03_unsynchronised_counter.rs");
    let source = include_str!("../../tests/originals/lab03_unsynchronised_counter.rs");
    let line = source
        .lines()
        .nth(site.line as usize - 1)
        .expect("the site's line exists");
    assert!(
        line.contains("fn record_booking"),
        "the site points at record_booking, not {line:?}"
    );
}

#[test]
fn the_solution_passes() {
    let report = run_binary(env!("CARGO_BIN_EXE_lab03-solution"), Variant::Solution);
    assert!(report.passed(), "{report:#?}");
    assert!(report.measured["executions"] > 1);
}

#[test]
fn seqcst_on_the_same_load_and_store_is_rejected() {
    let report = check!(seqcst);
    let (_, steps) = lost_update(&report);
    let ops: Vec<&str> = steps.iter().map(|step| step.op.as_str()).collect();
    assert_eq!(ops, ["load", "load", "store", "store"], "{steps:#?}");
}

#[test]
fn a_lock_to_read_and_another_to_write_is_rejected() {
    let report = check!(two_locks);
    let (_, steps) = lost_update(&report);
    // Each thread took the lock twice, and the other got it in between.
    let threads: Vec<&str> = steps
        .iter()
        .filter(|step| step.op == "lock")
        .map(|step| step.thread.as_str())
        .collect();
    assert_eq!(threads.len(), 4);
    assert_ne!(threads[0], threads[1], "{steps:#?}");
}

#[test]
fn a_read_lock_then_a_write_lock_is_rejected() {
    lost_update(&check!(read_then_write_lock));
}

#[test]
fn a_compare_exchange_that_is_not_retried_is_rejected() {
    let report = check!(cas_once);
    let (_, steps) = lost_update(&report);
    assert!(
        steps
            .iter()
            .any(|step| step.op == "compare_exchange" && step.wrote.is_none()),
        "{steps:#?}"
    );
}

#[test]
fn locking_the_lock_again_is_reported_as_a_deadlock() {
    // loom's deadlock detector panics; the model must turn that into a finding, in
    // process, without aborting.
    let report = check!(relock);
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    assert_eq!(report.findings[0].kind, Kind::Deadlock);
}

#[test]
fn std_sync_types_the_model_cannot_see_are_not_a_pass() {
    let report = check!(bypasses_the_shim);
    assert!(!report.passed());
    assert!(report.findings[0].message.contains("leaklab_sync"), "{report:#?}");
}

#[test]
fn one_lock_held_across_the_update_passes() {
    let report = check!(one_lock);
    assert!(report.passed(), "{report:#?}");
}

#[test]
fn a_retried_compare_exchange_passes() {
    let report = check!(cas_loop);
    assert!(report.passed(), "{report:#?}");
}

#[test]
fn fetch_update_passes() {
    let report = check!(fetch_update);
    assert!(report.passed(), "{report:#?}");
}

#[test]
fn an_interleaving_reads_back_as_it_was_written() {
    let steps = vec![
        Step {
            thread: "booking thread 1".into(),
            op: "load".into(),
            read: Some(0),
            wrote: None,
        },
        Step {
            thread: "booking thread 2".into(),
            op: "fetch_add".into(),
            read: Some(0),
            wrote: Some(1),
        },
        Step {
            thread: "booking thread 1".into(),
            op: "lock".into(),
            read: None,
            wrote: None,
        },
        Step {
            thread: "main".into(),
            op: "store".into(),
            read: None,
            wrote: Some(7),
        },
    ];
    let text = counter::render(&steps) + "\n=> total() returned 1 after 2 bookings";
    assert_eq!(counter::parse(&text), steps);
}
