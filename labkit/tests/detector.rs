//! The leak detector's own tests: it finds a leak where it was spawned, forgives a task
//! that ends within the settle window, honours the ignore list, and works on both
//! runtime flavours.

use labkit::{Detector, Kind, verify_none};
use std::time::Duration;
use tokio::sync::oneshot;

/// Spawns a task that waits forever on a channel nobody answers; returns the sender
/// (keep it alive) and the line of the spawn.
fn leak_one() -> (oneshot::Sender<()>, u32) {
    let (tx, rx) = oneshot::channel::<()>();
    let line = line!() + 1;
    tokio::spawn(async move { rx.await.ok() });
    (tx, line)
}

#[cfg(tokio_unstable)]
#[test]
fn a_leak_is_reported_where_it_was_spawned() {
    let outcome = Detector::new().run(|| async { leak_one() });
    let line = outcome.output.1;
    assert_eq!(outcome.leaks.len(), 1);
    assert_eq!(outcome.leaks[0].file.as_deref(), Some("labkit/tests/detector.rs"));
    assert_eq!(outcome.leaks[0].line, line);
    let finding = outcome.leak_finding("after the test").expect("a finding");
    assert_eq!(finding.kind, Kind::LeakedTask);
    assert_eq!(finding.measured["alive_tasks"], 1);
    assert!(
        finding
            .message
            .contains(&format!("labkit/tests/detector.rs:{line}")),
        "{}",
        finding.message
    );
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        let stack = outcome.leaks[0].stack.as_deref().expect("a task dump on linux");
        assert!(
            stack.contains("oneshot"),
            "the dump shows what the task waits on: {stack}"
        );
    }
}

#[test]
fn a_task_that_ends_within_the_settle_window_is_not_a_leak() {
    let slow_task = || async {
        tokio::spawn(tokio::time::sleep(Duration::from_millis(500)));
    };
    assert!(
        Detector::new()
            .settle(Duration::from_secs(1))
            .run(slow_task)
            .leaks
            .is_empty()
    );
    let early = Detector::new().settle(Duration::from_millis(100)).run(slow_task);
    assert_eq!(
        early.alive, 1,
        "inspected before the task ended, it is still alive"
    );
    assert!(early.leak_finding("").is_some());
}

#[cfg(tokio_unstable)]
#[test]
fn ignored_places_are_not_reported() {
    let outcome = Detector::new().run(|| async { leak_one() });
    let line = outcome.output.1;
    let ignoring = Detector::new()
        .ignore(format!("detector.rs:{line}"))
        .run(|| async { leak_one() });
    assert!(ignoring.leaks.is_empty());
    assert_eq!(ignoring.alive, 1, "ignored, not gone");
    let elsewhere = Detector::new()
        .ignore("some/other/file.rs")
        .run(|| async { leak_one() });
    assert_eq!(elsewhere.leaks.len(), 1);
}

#[test]
#[should_panic(expected = "1 task still alive")]
fn verify_none_panics_on_a_leak() {
    verify_none(|| async { leak_one() });
}

#[test]
fn verify_none_passes_when_every_task_is_joined() {
    let answer = verify_none(|| async { tokio::spawn(async { 42 }).await.expect("joined") });
    assert_eq!(answer, 42);
}

#[cfg(tokio_unstable)]
#[test]
fn multi_thread_runtime_finds_leaks_and_forgives_finished_tasks() {
    let outcome = Detector::multi_thread(2).run(|| async {
        let finished = tokio::spawn(async { 1 + 1 });
        let _ = finished.await;
        leak_one()
    });
    assert_eq!(outcome.leaks.len(), 1);
    assert_eq!(outcome.leaks[0].line, outcome.output.1);
    assert_eq!(outcome.tasks.len(), 2);
}

#[cfg(not(tokio_unstable))]
#[test]
fn without_tokio_unstable_the_count_still_works() {
    let outcome = Detector::new().run(|| async { leak_one() });
    assert_eq!(outcome.alive, 1);
    let finding = outcome
        .leak_finding("after the test")
        .expect("counted without hooks");
    assert_eq!(finding.measured["alive_tasks"], 1);
    assert!(
        finding.message.contains("need --cfg tokio_unstable"),
        "{}",
        finding.message
    );
    assert!(outcome.notes().iter().any(|n| n.contains("tokio_unstable")));
}
