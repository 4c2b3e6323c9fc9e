//! The loom suite: lab 3's model must catch the original, pass the solution, and show
//! each wrong fix's interleaving for what it is. (`tests/fixtures.rs` checks every
//! fixture's finding kind through the runner; this suite looks at the interleavings.)
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg tokio_unstable" LOOM_MAX_PREEMPTIONS=2 \
//!     cargo test -p leaklab-models --release --target-dir target/loom
//! ```
//!
//! The original and the solution run as their check binaries, in child processes, so a
//! model that aborts cannot take this test binary down. The fixtures are known code and
//! run in process.
#![cfg(loom)]

use labkit::child::{Meta, Subject, run_check};
use labkit::{Check, Kind, Report, Variant, Verdict};
use leaklab_models::lab03;
use leaklab_models::steps::{self, Step};
use std::path::Path;
use std::time::Duration;

#[path = "../../fixtures/lab03/wrong/bypasses_the_shim.rs"]
mod bypasses_the_shim;
#[path = "../../fixtures/lab03/right/cas_loop.rs"]
mod cas_loop;
#[path = "../../fixtures/lab03/wrong/cas_once.rs"]
mod cas_once;
#[path = "../../fixtures/lab03/right/fetch_update.rs"]
mod fetch_update;
#[path = "../../fixtures/lab03/right/one_lock.rs"]
mod one_lock;
#[path = "../../fixtures/lab03/wrong/read_then_write_lock.rs"]
mod read_then_write_lock;
#[path = "../../fixtures/lab03/wrong/relock.rs"]
mod relock;
#[path = "../../fixtures/lab03/wrong/seqcst.rs"]
mod seqcst;
#[path = "../../fixtures/lab03/wrong/two_locks.rs"]
mod two_locks;

/// A lab's loom check binary, run as a child (a model that aborts cannot take this
/// test binary down).
fn run_binary(lab: u32, exe: &str, variant: Variant) -> Report {
    let meta = Meta {
        lab,
        variant,
        check: Check::Loom,
    };
    run_check(Path::new(exe), meta, Duration::from_secs(60))
}

/// The lines of `source` (the file `file`) that a finding's sites point at, in order.
fn site_lines<'a>(finding: &labkit::Finding, file: &str, source: &'a str) -> Vec<&'a str> {
    finding
        .sites
        .iter()
        .map(|site| {
            assert_eq!(site.file, file);
            source
                .lines()
                .nth(site.line as usize - 1)
                .expect("the site's line exists")
        })
        .collect()
}

/// The lost-update finding's interleaving, read back into steps.
fn lost_update(report: &Verdict) -> (&labkit::Finding, Vec<Step>) {
    let finding = report
        .findings
        .iter()
        .find(|finding| finding.kind == Kind::LostUpdate)
        .unwrap_or_else(|| panic!("expected a lost update, got {report:#?}"));
    let steps = steps::parse(
        finding
            .detail
            .as_deref()
            .expect("the finding shows its interleaving"),
    );
    (finding, steps)
}

/// A fixture's file, as the model's sites name it.
macro_rules! check {
    ($lab:ident) => {{
        let subject = Subject {
            lab: 3,
            variant: Variant::Fixture,
            file: "fixtures/lab03/wrong/x.rs",
        };
        lab03::check(
            &subject,
            $lab::BookingCounter::new,
            $lab::BookingCounter::record_booking,
            $lab::BookingCounter::total,
        )
    }};
}

#[test]
fn the_original_loses_a_booking_and_the_model_shows_how() {
    let report = run_binary(3, env!("CARGO_BIN_EXE_lab03-loom-original"), Variant::Original);
    let verdict = Verdict {
        findings: report.findings.clone(),
        ..Verdict::default()
    };
    let (finding, steps) = lost_update(&verdict);
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

    // The sites are the lines that raced: the load, then the store.
    let source = include_str!("../../tests/originals/lab03_unsynchronised_counter.rs");
    let lines = site_lines(finding, "tests/originals/lab03_unsynchronised_counter.rs", source);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains(".load(") && lines[1].contains(".store("),
        "{lines:?}"
    );
}

#[test]
fn the_solution_passes() {
    let report = run_binary(3, env!("CARGO_BIN_EXE_lab03-loom-solution"), Variant::Solution);
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
fn std_sync_types_the_model_cannot_see_are_unchecked() {
    let report = check!(bypasses_the_shim);
    assert_eq!(report.findings[0].kind, Kind::Unchecked, "{report:#?}");
    assert!(report.findings[0].message.contains("leaklab_sync"), "{report:#?}");
}

#[test]
fn one_lock_held_across_the_update_passes() {
    let report = check!(one_lock);
    assert!(report.findings.is_empty(), "{report:#?}");
}

#[test]
fn a_retried_compare_exchange_passes() {
    let report = check!(cas_loop);
    assert!(report.findings.is_empty(), "{report:#?}");
}

#[test]
fn fetch_update_passes() {
    let report = check!(fetch_update);
    assert!(report.findings.is_empty(), "{report:#?}");
}

#[test]
fn an_interleaving_reads_back_as_it_was_written() {
    let steps = vec![
        Step {
            thread: "booking thread 1".into(),
            op: "load".into(),
            read: Some(0),
            wrote: None,
            at: Some("labs/lab03_unsynchronised_counter.rs:24".into()),
        },
        Step {
            thread: "booking thread 2".into(),
            op: "fetch_add".into(),
            read: Some(0),
            wrote: Some(1),
            at: Some("labs/lab03_unsynchronised_counter.rs:25".into()),
        },
        Step {
            thread: "booking thread 1".into(),
            op: "lock".into(),
            read: None,
            wrote: None,
            at: None,
        },
        Step {
            thread: "main".into(),
            op: "store".into(),
            read: None,
            wrote: Some(7),
            at: None,
        },
    ];
    let text = steps::render(&steps) + "\n=> total() returned 1 after 2 bookings";
    assert_eq!(steps::parse(&text), steps);
}

// Lab 11, the early wake-up: the model must show `wait` returning before the uploads
// have finished (or sleeping through its wake-up) for what it is, and pass the fixes.

#[path = "../../fixtures/lab11/wrong/count_in_under_lock.rs"]
mod lab11_count_in_under_lock;
#[path = "../../fixtures/lab11/right/join_handles.rs"]
mod lab11_join_handles;
#[path = "../../fixtures/lab11/right/mutex_count.rs"]
mod lab11_mutex_count;
#[path = "../../fixtures/lab11/wrong/mutex_count_inside.rs"]
mod lab11_mutex_count_inside;
#[path = "../../fixtures/lab11/wrong/notify_without_lock.rs"]
mod lab11_notify_without_lock;
#[path = "../../fixtures/lab11/wrong/relaxed.rs"]
mod lab11_relaxed;
#[path = "../../fixtures/lab11/wrong/seqcst.rs"]
mod lab11_seqcst;
#[path = "../../fixtures/lab11/wrong/unlocked_check.rs"]
mod lab11_unlocked_check;
#[path = "../../fixtures/lab11/wrong/yield_before_wait.rs"]
mod lab11_yield_before_wait;

/// Lab 11's model on a fixture, with the sites named by the fixture's own file.
macro_rules! check11 {
    ($fixture:ident, $file:literal) => {{
        let subject = Subject {
            lab: 11,
            variant: Variant::Fixture,
            file: $file,
        };
        leaklab_models::lab11!($fixture, &subject)
    }};
}

/// The early return's finding, and its interleaving read back: the steps before `wait`
/// returned, and those after.
fn early_return(report: &Verdict) -> (&labkit::Finding, Vec<Step>, Vec<Step>) {
    let finding = report
        .findings
        .iter()
        .find(|finding| finding.kind == Kind::LostWork)
        .unwrap_or_else(|| panic!("expected lost work, got {report:#?}"));
    let detail = finding
        .detail
        .as_deref()
        .expect("the finding shows its interleaving");
    let (before, after) = detail
        .split_once("=> wait() returned with")
        .unwrap_or_else(|| panic!("the log is cut where wait() returned: {detail}"));
    (finding, steps::parse(before), steps::parse(after))
}

/// The batch job's last load of the count before `wait` returned read zero, and the
/// first step an upload took after the return is the count that came too late.
fn assert_counted_in_too_late(before: &[Step], after: &[Step]) {
    let decided = before
        .iter()
        .rev()
        .find(|step| step.thread == lab11::BATCH_JOB && step.read.is_some())
        .unwrap_or_else(|| panic!("the batch job read the count: {before:#?}"));
    assert_eq!(decided.read, Some(0), "{before:#?}");
    let late = after
        .iter()
        .find(|step| step.thread.starts_with("upload "))
        .unwrap_or_else(|| panic!("an upload ran after the return: {after:#?}"));
    assert!(
        late.read == Some(0) && late.wrote == Some(1),
        "the late step counts an upload in: {late:#?}"
    );
}

use leaklab_models::lab11;

#[test]
fn lab11_the_original_returns_before_the_uploads_start_and_the_model_shows_how() {
    let report = run_binary(11, env!("CARGO_BIN_EXE_lab11-loom-original"), Variant::Original);
    let verdict = Verdict {
        findings: report.findings.clone(),
        ..Verdict::default()
    };
    let (finding, before, after) = early_return(&verdict);
    assert_eq!(finding.measured["uploads"], 2);
    assert!(finding.measured["finished_at_return"] < 2, "{finding:#?}");
    assert_counted_in_too_late(&before, &after);

    // The sites: the count that came too late, inside the upload's thread, then the
    // check in wait() that read zero.
    let source = include_str!("../../tests/originals/lab11_early_wake_up.rs");
    let lines = site_lines(finding, "tests/originals/lab11_early_wake_up.rs", source);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("uploads.in_flight.fetch_add") && lines[1].contains(".load("),
        "{lines:?}"
    );
}

#[test]
fn lab11_the_solution_passes() {
    let report = run_binary(11, env!("CARGO_BIN_EXE_lab11-loom-solution"), Variant::Solution);
    assert!(report.passed(), "{report:#?}");
    assert!(report.measured["executions"] > 1);
}

#[test]
fn lab11_seqcst_with_the_count_still_in_the_thread_is_rejected() {
    let report = check11!(lab11_seqcst, "fixtures/lab11/wrong/seqcst.rs");
    let (finding, before, after) = early_return(&report);
    assert_counted_in_too_late(&before, &after);
    assert!(!finding.sites.is_empty(), "{finding:#?}");
}

#[test]
fn lab11_a_yield_or_a_lock_around_the_late_count_is_rejected() {
    for report in [
        check11!(
            lab11_yield_before_wait,
            "fixtures/lab11/wrong/yield_before_wait.rs"
        ),
        check11!(
            lab11_count_in_under_lock,
            "fixtures/lab11/wrong/count_in_under_lock.rs"
        ),
        check11!(
            lab11_mutex_count_inside,
            "fixtures/lab11/wrong/mutex_count_inside.rs"
        ),
    ] {
        let (finding, _, _) = early_return(&report);
        assert!(finding.measured["finished_at_return"] < 2, "{finding:#?}");
    }
}

/// A missed wake-up: the last upload notified before the batch job slept, and the batch
/// job's last step is that sleep.
fn assert_missed_wake_up(report: &Verdict) {
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let finding = &report.findings[0];
    assert_eq!(finding.kind, Kind::Deadlock, "{report:#?}");
    let steps = steps::parse(finding.detail.as_deref().expect("the log"));
    let slept = steps
        .iter()
        .rposition(|step| step.thread == lab11::BATCH_JOB)
        .expect("the batch job took steps");
    assert_eq!(steps[slept].op, "wait", "{steps:#?}");
    let notified = steps
        .iter()
        .position(|step| step.op == "notify_all")
        .unwrap_or_else(|| panic!("an upload notified: {steps:#?}"));
    assert!(notified < slept, "{steps:#?}");
}

#[test]
fn lab11_checking_the_count_outside_the_lock_misses_the_wake_up() {
    assert_missed_wake_up(&check11!(
        lab11_unlocked_check,
        "fixtures/lab11/wrong/unlocked_check.rs"
    ));
}

#[test]
fn lab11_notifying_without_the_lock_misses_the_wake_up() {
    assert_missed_wake_up(&check11!(
        lab11_notify_without_lock,
        "fixtures/lab11/wrong/notify_without_lock.rs"
    ));
}

#[test]
fn lab11_relaxed_orderings_hide_the_uploads_work_from_the_batch_job() {
    let report = check11!(lab11_relaxed, "fixtures/lab11/wrong/relaxed.rs");
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let finding = &report.findings[0];
    // wait() returned in time; what the batch job saw of the uploads was not ordered.
    assert_eq!(finding.kind, Kind::LostWork, "{report:#?}");
    assert!(finding.message.contains("causality violation"), "{finding:#?}");
    let steps = steps::parse(finding.detail.as_deref().expect("the log"));
    let last_read = steps
        .iter()
        .rev()
        .find(|step| step.thread == lab11::BATCH_JOB && step.read.is_some())
        .expect("the batch job read the count");
    assert_eq!(last_read.read, Some(0), "{steps:#?}");
}

#[test]
fn lab11_a_count_under_one_lock_passes() {
    let report = check11!(lab11_mutex_count, "fixtures/lab11/right/mutex_count.rs");
    assert!(report.findings.is_empty(), "{report:#?}");
}

#[test]
fn lab11_joining_every_upload_passes() {
    let report = check11!(lab11_join_handles, "fixtures/lab11/right/join_handles.rs");
    assert!(report.findings.is_empty(), "{report:#?}");
}
