//! The detector's hooks against a plain runtime of the same flavour, in the same run.
//!
//! - `detector_spawn_join`: 10,000 empty tasks spawned, then joined;
//! - `detector_poll_heavy`: 1,000 tasks that each yield 100 times.
//!
//! Each is timed inside its runtime (building it, and the detector's settle and report,
//! are not counted), on CPU time rather than wall time: on the current-thread runtime
//! the CPU time of the one thread that runs every task, on two workers the process's.
//! A core that another job takes then does not count against either side. The
//! `overhead` program times the same two workloads, ten times larger, in alternating
//! rounds, for a ratio that drifting load cannot skew.

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use leaklab_benches::{Flavour, on, spawn_and_join, timed, yield_many};

const SPAWNED: usize = 10_000;
const YIELDERS: usize = 1_000;
const YIELDS: usize = 100;

fn spawn_join(c: &mut Criterion) {
    let mut group = c.benchmark_group("detector_spawn_join");
    group.throughput(Throughput::Elements(SPAWNED as u64));
    for flavour in Flavour::ALL {
        for (side, hooked) in [("plain", false), ("hooked", true)] {
            group.bench_function(BenchmarkId::new(side, flavour.name()), |b| {
                b.iter_custom(|iters| {
                    on(flavour, hooked, || {
                        timed(flavour, iters, || spawn_and_join(SPAWNED))
                    })
                    .1
                })
            });
        }
    }
    group.finish();
}

fn poll_heavy(c: &mut Criterion) {
    let mut group = c.benchmark_group("detector_poll_heavy");
    group.throughput(Throughput::Elements((YIELDERS * YIELDS) as u64));
    for flavour in Flavour::ALL {
        for (side, hooked) in [("plain", false), ("hooked", true)] {
            group.bench_function(BenchmarkId::new(side, flavour.name()), |b| {
                b.iter_custom(|iters| {
                    on(flavour, hooked, || {
                        timed(flavour, iters, || yield_many(YIELDERS, YIELDS))
                    })
                    .1
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = detector;
    config = common::config();
    targets = spawn_join, poll_heavy
}
criterion_main!(detector);
