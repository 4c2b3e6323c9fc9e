//! The leak detector's own tests: it finds a leak where it was spawned, forgives a task
//! that ends within the settle window, honours the ignore list, and works on both
//! runtime flavours.

// The package is tokio-leakcheck; leaklab calls it labkit.
extern crate tokio_leakcheck as labkit;

#[cfg(tokio_unstable)]
use labkit::Kind;
use labkit::{Detector, verify_none};
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
    if cfg!(feature = "stacks") {
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

#[cfg(tokio_unstable)]
/// Spawns `n` tasks that wait forever; returns their senders (keep them alive) and the
/// line of the spawn.
fn leak_many(n: usize) -> (Vec<oneshot::Sender<()>>, u32) {
    let line = line!() + 4;
    let senders = (0..n)
        .map(|_| {
            let (tx, rx) = oneshot::channel::<()>();
            tokio::spawn(async move { rx.await.ok() });
            tx
        })
        .collect();
    (senders, line)
}

#[cfg(tokio_unstable)]
#[test]
fn two_detectors_at_once_each_see_only_their_own_tasks() {
    use std::sync::{Arc, Barrier};
    // Both scenarios are mid-run at the same time: each spawns, then waits for the other.
    let both = Arc::new(Barrier::new(2));
    let run = |leaks: usize| {
        let both = both.clone();
        std::thread::spawn(move || {
            Detector::new().run(|| async move {
                let (senders, line) = leak_many(leaks);
                both.wait();
                let alive = labkit::detector::alive_now();
                both.wait();
                (senders, line, alive)
            })
        })
    };
    let (one, three) = (run(1), run(3));
    for (outcome, leaks) in [(one.join().unwrap(), 1), (three.join().unwrap(), 3)] {
        let (_, line, alive) = &outcome.output;
        assert_eq!(alive.len(), leaks, "alive_now sees only its own run: {alive:?}");
        assert_eq!(outcome.leaks.len(), leaks);
        assert_eq!(outcome.tasks.len(), leaks);
        assert!(outcome.leaks.iter().all(|t| t.line == *line));
        assert_eq!(outcome.alive, leaks);
    }
}

#[cfg(tokio_unstable)]
#[test]
fn alive_now_from_a_spawned_task_sees_its_run() {
    let outcome = Detector::new().run(|| async {
        let (_tx, _) = leak_one();
        tokio::spawn(async { labkit::detector::alive_now().len() })
            .await
            .unwrap()
    });
    assert_eq!(outcome.output, 2, "the leaked task and the asking one");
}

#[cfg(tokio_unstable)]
#[test]
fn records_keep_spawn_and_end_times_on_the_virtual_clock() {
    let outcome = Detector::new().run(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        tokio::spawn(tokio::time::sleep(Duration::from_secs(2)))
            .await
            .unwrap();
    });
    let task = &outcome.tasks[0];
    assert_eq!(task.spawned_at, Duration::from_secs(5));
    assert_eq!(task.ended_at, Some(Duration::from_secs(7)));
}
