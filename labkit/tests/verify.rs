//! The test attribute and the report, as a crate that adds tokio-leakcheck would meet
//! them: options that reach the runtime, tests that pause time themselves, files named
//! from the crate under test, and counts that agree.

use std::time::Duration;
use tokio_leakcheck::Detector;

/// Spawns a task that waits for ever on a channel nobody answers; returns the sender
/// (keep it) and the line of the spawn.
fn leak_one() -> (tokio::sync::oneshot::Sender<()>, u32) {
    let (keep, never) = tokio::sync::oneshot::channel::<()>();
    let line = line!() + 1;
    tokio::spawn(async move { never.await.ok() });
    (keep, line)
}

#[tokio_leakcheck::test]
async fn a_test_that_pauses_time_itself_keeps_working() {
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    tokio::spawn(tokio::time::sleep(Duration::from_secs(3600)))
        .await
        .unwrap();
    // An hour of virtual time (to the timer's millisecond), in no time at all.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(3600) && elapsed < Duration::from_secs(3601));
}

#[tokio_leakcheck::test(start_paused = true)]
async fn start_paused_starts_on_the_paused_clock() {
    let started = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(started.elapsed(), Duration::from_secs(3600));
}

fn name_the_workers(builder: &mut tokio::runtime::Builder) {
    builder.thread_name("configured-worker");
}

#[tokio_leakcheck::test(flavor = "multi_thread", worker_threads = 2, runtime = name_the_workers)]
async fn the_runtime_option_adjusts_the_builder() {
    let name = tokio::spawn(async { std::thread::current().name().map(str::to_owned) })
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("configured-worker"));
}

#[cfg(tokio_unstable)]
#[tokio_leakcheck::test(ignore = "tests/verify.rs", settle_ms = 10)]
async fn ignored_places_may_outlive_the_test() {
    std::mem::forget(leak_one().0);
}

/// A leak fails the test with the report (the attribute's whole point).
#[tokio_leakcheck::test(settle_ms = 10)]
#[should_panic(expected = "1 task still alive after the test returned")]
async fn a_leak_fails_the_test() {
    std::mem::forget(leak_one().0);
}

/// Files are named from the crate under test, not from the workspace around it.
#[cfg(tokio_unstable)]
#[test]
fn spawn_sites_are_named_from_the_crate_under_test() {
    let outcome = Detector::current_thread()
        .root(env!("CARGO_MANIFEST_DIR"))
        .settle(Duration::from_millis(10))
        .run(|| async { leak_one() });
    let line = outcome.output.1;
    assert_eq!(outcome.leaks[0].file.as_deref(), Some("tests/verify.rs"));
    let report = outcome.report("after the test returned").unwrap().to_string();
    assert!(
        report.starts_with(&format!(
            "1 task still alive after the test returned, spawned at tests/verify.rs:{line}"
        )),
        "{report}"
    );
}

/// On worker threads, with no settle window at all, a task that has just ended may
/// still be counted by the runtime: the detector waits until the runtime's count and
/// its own records agree, so the report never says 1 where the records say 0.
#[cfg(tokio_unstable)]
#[test]
fn on_worker_threads_the_count_and_the_records_agree() {
    let mut disagreed = 0;
    for _ in 0..300 {
        let outcome = Detector::multi_thread(2)
            .settle(Duration::ZERO)
            .without_stacks()
            .run(|| async {
                for _ in 0..50 {
                    tokio::spawn(async {});
                }
            });
        if outcome.alive != outcome.leaks.len() {
            disagreed += 1;
        }
    }
    assert_eq!(
        disagreed, 0,
        "runs where the runtime's count and the records disagreed"
    );
}

/// Without `--cfg tokio_unstable` there are no hooks: the runtime's count still fails
/// the test, and the note says what to add to the reader's own crate.
#[cfg(not(tokio_unstable))]
#[test]
fn without_the_cfg_the_count_still_fails_and_the_note_says_why() {
    let outcome = Detector::current_thread()
        .settle(Duration::from_millis(10))
        .run(|| async { leak_one() });
    let report = outcome.report("after the test returned").unwrap();
    assert_eq!(report.count, 1);
    let text = report.to_string();
    assert!(text.contains("--cfg tokio_unstable"), "{text}");
    assert!(text.contains(".cargo/config.toml` in your crate"), "{text}");
}
