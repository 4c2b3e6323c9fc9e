//! What the detector's hooks cost: the same two workloads on a runtime a [`Detector`]
//! builds (hooks on) and on a plain runtime of the same flavour, in one process.
//!
//! - spawn-and-join: 100,000 empty tasks spawned, then joined (the spawn and
//!   terminate hooks, one poll each);
//! - yield: 10,000 tasks that each yield 100 times (the poll hooks, a million polls).
//!
//! What to expect (2 cores, release): with hooks that read `/proc` and took two global
//! locks on every poll, the detector made these 50x and 200x slower; with per-thread
//! poll slots (atomic stores) and append-only spawn logs, about 1.1x.
//!
//! Run it in release: `cargo run --release -p labkit --example overhead`. Each
//! measurement is the best of a few alternating rounds, timed inside the runtime, so
//! building the runtime and the settle window are not counted.

use labkit::Detector;
use std::future::Future;
use std::time::{Duration, Instant};

const SPAWNED: usize = 100_000;
const YIELDERS: usize = 10_000;
const YIELDS: usize = 100;
const ROUNDS: usize = 11;

async fn spawn_and_join() {
    let handles: Vec<_> = (0..SPAWNED).map(|_| tokio::spawn(async {})).collect();
    for handle in handles {
        handle.await.expect("joined");
    }
}

async fn yield_many() {
    let handles: Vec<_> = (0..YIELDERS)
        .map(|_| {
            tokio::spawn(async {
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("joined");
    }
}

/// Times the second of two runs of `work` inside the runtime: the first one warms the
/// allocator, so that both runtimes are timed on memory they already have.
async fn timed<Fut: Future<Output = ()>>(work: fn() -> Fut) -> Duration {
    work().await;
    let started = Instant::now();
    work().await;
    started.elapsed()
}

fn plain(multi: bool) -> tokio::runtime::Runtime {
    let mut builder = if multi {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    } else {
        let mut b = tokio::runtime::Builder::new_current_thread();
        b.start_paused(true);
        b
    };
    builder.enable_time().build().expect("a runtime")
}

fn detector(multi: bool) -> Detector {
    let d = if multi {
        Detector::multi_thread(2)
    } else {
        Detector::new()
    };
    d.without_stacks()
}

/// The best of a few rounds of `work`, plain and hooked; the rounds alternate, so both
/// see the same allocator and the same machine load.
fn best<Fut: Future<Output = ()>>(multi: bool, work: fn() -> Fut) -> (Duration, Duration) {
    let (mut plain_best, mut hooked_best) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        plain_best = plain_best.min(plain(multi).block_on(timed(work)));
        hooked_best = hooked_best.min(detector(multi).run(|| timed(work)).output);
    }
    (plain_best, hooked_best)
}

fn main() {
    println!(
        "{:<16} {:<14} {:>10} {:>10} {:>8}",
        "workload", "runtime", "plain", "detector", "ratio"
    );
    for multi in [false, true] {
        let flavour = if multi {
            "multi-thread(2)"
        } else {
            "current-thread"
        };
        let rows = [
            ("spawn-and-join", best(multi, spawn_and_join)),
            ("yield x100", best(multi, yield_many)),
        ];
        for (name, (plain, hooked)) in rows {
            println!(
                "{name:<16} {flavour:<14} {:>8.1}ms {:>8.1}ms {:>7.2}x",
                plain.as_secs_f64() * 1e3,
                hooked.as_secs_f64() * 1e3,
                hooked.as_secs_f64() / plain.as_secs_f64()
            );
        }
    }
}
