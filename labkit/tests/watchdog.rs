//! A check that stops for good (a task that never reaches an `.await`, a lock that is
//! never released, a runtime waiting for a message nobody sends, a plain thread in a
//! loop) can only be reported by the child's watchdog, on another thread. These tests
//! run this test binary again as the child (the role is picked by `LABKIT_CHILD`), and
//! read its signed report: what it found, where, and how soon.
//!
//! The places a finding must point at are marked in this file with `// at: <role>`.

// The package is tokio-leakcheck; leaklab calls it labkit.
extern crate tokio_leakcheck as labkit;

mod common;

use common::META;
use labkit::child::{run_check_command, serve};
use labkit::{Detector, Finding, Kind, Report, Verdict};
use std::process::Command;
use std::time::{Duration, Instant};

/// The child's side: runs the named role under `serve`.
#[test]
fn child() {
    let Ok(role) = std::env::var("LABKIT_CHILD") else {
        return;
    };
    serve(META, move || match role.as_str() {
        "spin" => stuck_task(false),
        "deadlock" => stuck_task(true),
        "scenario-spin" => {
            Detector::new().run(|| async {
                #[rustfmt::skip]
                loop { std::hint::spin_loop(); }; // at: scenario-spin
            });
            Verdict::default()
        }
        "hang" => {
            let outcome = Detector::new().run(|| async {
                let (_kept, never) = tokio::sync::oneshot::channel::<()>();
                let waiter = tokio::spawn(never); // at: hang
                let _ = waiter.await;
            });
            notes(outcome.notes())
        }
        "yield-forever" => {
            Detector::new().run(|| async {
                let polite = async {
                    loop {
                        tokio::task::yield_now().await;
                    }
                };
                let polite = tokio::spawn(polite); // at: yield-forever
                let _ = polite.await;
            });
            Verdict::default()
        }
        "thread-spin" => {
            let spinner = std::thread::spawn(|| {
                #[rustfmt::skip]
                loop { std::hint::spin_loop(); }; // at: thread-spin
            });
            let _ = spinner.join();
            Verdict::default()
        }
        "thread-deadlock" => {
            let lock = std::sync::Mutex::new(());
            let _held = lock.lock();
            let _again = lock.lock(); // at: thread-deadlock
            Verdict::default()
        }
        "spin-multi" => {
            Detector::multi_thread(2).run(|| async {
                tokio::spawn(async {
                    #[rustfmt::skip]
                    loop { std::hint::spin_loop(); }; // at: spin-multi
                })
                .await
                .ok();
            });
            Verdict::default()
        }
        "healthy-sleeps" => {
            // Hours of virtual time in many short sleeps, for a few seconds of wall time.
            let outcome = Detector::new().run(|| async {
                let started = Instant::now();
                let mut sleeps = 0;
                while started.elapsed() < Duration::from_millis(2500) {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    sleeps += 1;
                }
                sleeps
            });
            let mut verdict = notes(outcome.notes());
            verdict.measure("sleeps", outcome.output);
            verdict
        }
        "healthy-progress" => {
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(2500) {
                std::thread::sleep(Duration::from_millis(20));
                labkit::progress();
            }
            Verdict::default()
        }
        "healthy-busy" => busy_for(Detector::current_thread()),
        "healthy-busy-multi" => busy_for(Detector::multi_thread(2)),
        "unwatched-poll" => {
            // The checking machinery's own slow work inside the scenario's poll (as
            // symbolising a task dump is): 2.5 s without returning, and not a stall.
            Detector::new().run(|| async {
                labkit::watchdog::unwatched(|| std::thread::sleep(Duration::from_millis(2500)));
            });
            Verdict::default()
        }
        other => panic!("no such role: {other}"),
    })
}

/// A spawned task that spins, or that locks a std `Mutex` twice.
fn stuck_task(deadlock: bool) -> Verdict {
    let outcome = Detector::new().run(|| async move {
        let task = async move {
            if deadlock {
                let lock = std::sync::Mutex::new(());
                let _held = lock.lock();
                let _again = lock.lock(); // at: deadlock
            } else {
                #[rustfmt::skip]
                loop { std::hint::spin_loop(); }; // at: spin
            }
        };
        let stuck = tokio::spawn(task); // at: spawned
        let _ = stuck.await;
    });
    notes(outcome.notes())
}

/// A task that wakes itself at every poll for 4 s of wall time: the runtime never parks,
/// and no single poll lasts a millisecond. Busy is not stuck. (Long enough that even on
/// a loaded machine the thread burns the CPU a stuck poll is judged by.)
fn busy_for(detector: Detector) -> Verdict {
    let outcome = detector.run(|| async {
        let busy = tokio::spawn(async {
            let started = Instant::now();
            let mut polls = 0u64;
            std::future::poll_fn(|cx| {
                polls += 1;
                if started.elapsed() < Duration::from_secs(4) {
                    cx.waker().wake_by_ref();
                    std::task::Poll::Pending
                } else {
                    std::task::Poll::Ready(())
                }
            })
            .await;
            polls
        });
        busy.await.unwrap_or(0)
    });
    let mut verdict = notes(outcome.notes());
    verdict.measure("polls", outcome.output);
    verdict
}

fn notes(notes: Vec<String>) -> Verdict {
    Verdict {
        notes,
        ..Verdict::default()
    }
}

/// Runs the child in `role`; the report, and how long it took to come back.
fn run_child(role: &str) -> (Report, Duration) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("LABKIT_CHILD", role);
    let started = Instant::now();
    let report = run_check_command(command, META, Duration::from_secs(30));
    (report, started.elapsed())
}

/// The line of this file marked `// at: <role>`.
fn line_of(role: &str) -> u32 {
    let marker = format!("// at: {role}");
    let index = include_str!("watchdog.rs")
        .lines()
        .position(|l| l.trim_end().ends_with(&marker))
        .expect("a marked line");
    index as u32 + 1
}

/// The one finding of a stuck child, reported well before the parent's 30 s wall limit
/// (which would report a `hang`, without a place).
fn stuck(role: &str, kind: Kind) -> Finding {
    let (report, took) = run_child(role);
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    let finding = report.findings[0].clone();
    assert_eq!(finding.kind, kind, "{finding:#?}");
    // About a second on an idle machine; far more only on a very loaded one.
    assert!(took < Duration::from_secs(10), "reported after {took:?}");
    assert!(
        finding
            .measured
            .get("stuck_ms")
            .or(finding.measured.get("idle_ms"))
            >= Some(&1000)
    );
    finding
}

/// The finding's first site is the marked line (on Linux, where stacks are sampled).
fn points_at(finding: &Finding, role: &str) {
    if cfg!(target_os = "linux") {
        let site = finding.sites.first().expect("a site");
        assert_eq!(
            (site.file.as_str(), site.line),
            ("labkit/tests/watchdog.rs", line_of(role)),
            "{finding:#?}"
        );
    }
}

#[cfg(tokio_unstable)]
#[test]
fn a_spinning_task_is_reported_as_spin_at_its_line_then_its_spawn_site() {
    let finding = stuck("spin", Kind::Spin);
    assert!(
        finding.message.contains("never reaches an .await"),
        "{}",
        finding.message
    );
    points_at(&finding, "spin");
    let spawned = finding.sites.last().expect("the spawn site");
    assert_eq!(spawned.line, line_of("spawned"), "{finding:#?}");
}

#[cfg(tokio_unstable)]
#[test]
fn a_blocked_task_is_reported_as_deadlock_at_the_second_lock() {
    let finding = stuck("deadlock", Kind::Deadlock);
    assert!(finding.measured["cpu_ms"] < finding.measured["stuck_ms"] / 4);
    points_at(&finding, "deadlock");
}

#[cfg(tokio_unstable)]
#[test]
fn a_task_that_yields_forever_is_reported_as_spin_at_its_spawn_site() {
    // Every poll returns, so nothing is stuck and the runtime is never idle; but the
    // paused clock cannot move while a task is always ready.
    let (report, took) = run_child("yield-forever");
    let finding = &report.findings[0];
    assert_eq!(finding.kind, Kind::Spin, "{report:#?}");
    assert!(took < Duration::from_secs(15), "reported after {took:?}");
    assert!(
        finding.measured["frozen_ms"] >= 3000 && finding.measured["polls"] > 1000,
        "{finding:#?}"
    );
    let spawned = finding.sites.last().expect("the spawn site");
    assert_eq!(spawned.line, line_of("yield-forever"), "{finding:#?}");
}

#[test]
fn a_spin_in_the_scenario_itself_is_reported() {
    let finding = stuck("scenario-spin", Kind::Spin);
    assert!(
        finding.message.contains("the scenario's own future"),
        "{}",
        finding.message
    );
    points_at(&finding, "scenario-spin");
}

#[cfg(tokio_unstable)]
#[test]
fn an_idle_runtime_nothing_can_wake_is_reported_as_hang_with_the_waiting_task() {
    let finding = stuck("hang", Kind::Hang);
    assert!(
        finding.message.contains("nothing can wake it"),
        "{}",
        finding.message
    );
    assert_eq!(finding.measured["alive_tasks"], 1);
    let site = finding.sites.first().expect("the waiting task's spawn site");
    assert_eq!(site.line, line_of("hang"), "{finding:#?}");
    if cfg!(feature = "stacks") {
        let stack = site.stack.as_deref().expect("a task dump on linux");
        assert!(
            stack.contains("oneshot"),
            "the dump shows what the task waits on: {stack}"
        );
    }
}

#[test]
fn a_thread_that_spins_without_a_runtime_is_reported() {
    let finding = stuck(
        "thread-spin",
        if cfg!(target_os = "linux") {
            Kind::Spin
        } else {
            Kind::Hang
        },
    );
    points_at(&finding, "thread-spin");
}

#[test]
fn a_thread_that_deadlocks_without_a_runtime_is_reported() {
    let finding = stuck(
        "thread-deadlock",
        if cfg!(target_os = "linux") {
            Kind::Deadlock
        } else {
            Kind::Hang
        },
    );
    points_at(&finding, "thread-deadlock");
}

#[test]
fn a_long_run_of_virtual_sleeps_is_not_a_hang() {
    let (report, _) = run_child("healthy-sleeps");
    assert!(report.findings.is_empty(), "{report:#?}");
    assert!(report.measured["sleeps"] > 0);
}

#[test]
fn the_checks_own_slow_work_in_a_poll_is_left_alone() {
    let (report, _) = run_child("unwatched-poll");
    assert!(report.findings.is_empty(), "{report:#?}");
}

/// A runtime that polls without a break for longer than the stall limit is not stuck:
/// the watchdog sees tokio's poll count move (on one thread, and on two workers).
#[test]
fn a_runtime_that_keeps_polling_without_parking_is_left_alone() {
    let children =
        ["healthy-busy", "healthy-busy-multi"].map(|role| (role, std::thread::spawn(|| run_child(role))));
    for (role, child) in children {
        let (report, _) = child.join().expect("the child's runner");
        assert!(report.findings.is_empty(), "{role}: {report:#?}");
        assert!(report.measured["polls"] > 1000, "{role}: {report:#?}");
    }
}

#[test]
fn a_check_that_reports_progress_is_left_alone() {
    let (report, _) = run_child("healthy-progress");
    assert!(report.findings.is_empty(), "{report:#?}");
}

#[cfg(tokio_unstable)]
#[test]
fn a_spinning_task_on_the_multi_thread_runtime_is_reported() {
    let finding = stuck("spin-multi", Kind::Spin);
    points_at(&finding, "spin-multi");
}
