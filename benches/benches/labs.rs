//! What the labs' fixes cost: each group puts a lab's broken form (or its cheapest
//! alternative) next to its fixes, so a student can see whether the fix is slow.
//!
//! - `counter` (lab 3): the broken load-then-store, `fetch_add` (Relaxed and SeqCst),
//!   one `Mutex`, and a counter sharded per thread, on 1, 2 and 4 threads;
//! - `join` (lab 2): `Vec<JoinHandle>`, `JoinSet` and `TaskTracker`, 10 to 10,000 tasks;
//! - `cancel` (lab 4): the token checked on every item, every 1,024 items, or never;
//! - `timeout` (lab 9): `tokio::time::timeout` around a future that is ready at once;
//! - `locks` (lab 12): a read-heavy chart cache behind std's and tokio's `Mutex` and
//!   `RwLock`, four tasks on two workers.
//!
//! Each benchmark reports time per iteration; its throughput (elements per iteration)
//! lets `bench-table` divide it into a time per increment, per task, per item or per
//! call. Sample sizes are small and windows short so that `just bench` stays within
//! minutes on two cores: enough to rank these, not to split hairs.

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Increments each thread makes per iteration.
const INCREMENTS: u64 = 100_000;

/// The shapes of lab 3's counter, each counting `INCREMENTS` bookings per thread.
#[derive(Clone, Copy)]
enum Counter {
    /// The bug: a read and a write, with room for another thread between them.
    LoadStore,
    Relaxed,
    SeqCst,
    Mutex,
    /// One counter per thread on its own cache line, added up when read.
    Sharded,
}

impl Counter {
    const ALL: [Counter; 5] = [
        Counter::LoadStore,
        Counter::Relaxed,
        Counter::SeqCst,
        Counter::Mutex,
        Counter::Sharded,
    ];

    fn name(self) -> &'static str {
        match self {
            Counter::LoadStore => "load_store_broken",
            Counter::Relaxed => "fetch_add_relaxed",
            Counter::SeqCst => "fetch_add_seqcst",
            Counter::Mutex => "mutex",
            Counter::Sharded => "sharded",
        }
    }

    /// `threads` threads count their bookings at once; returns the total counted.
    fn count(self, threads: usize) -> u64 {
        #[repr(align(128))]
        #[derive(Default)]
        struct Line(AtomicU64);
        let shared = AtomicU64::new(0);
        let locked = Mutex::new(0u64);
        let shards: Vec<Line> = (0..threads).map(|_| Line::default()).collect();
        // All threads start counting together: started one by one, each could finish
        // before the next began, and nothing would be shared.
        let start = std::sync::Barrier::new(threads);
        std::thread::scope(|scope| {
            for shard in &shards {
                let (shared, locked, start) = (&shared, &locked, &start);
                scope.spawn(move || {
                    start.wait();
                    for _ in 0..INCREMENTS {
                        match self {
                            Counter::LoadStore => {
                                let seen = shared.load(Ordering::Relaxed);
                                shared.store(seen + 1, Ordering::Relaxed);
                            }
                            Counter::Relaxed => {
                                shared.fetch_add(1, Ordering::Relaxed);
                            }
                            Counter::SeqCst => {
                                shared.fetch_add(1, Ordering::SeqCst);
                            }
                            Counter::Mutex => *locked.lock().expect("not poisoned") += 1,
                            Counter::Sharded => {
                                shard.0.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
        });
        let sharded: u64 = shards.iter().map(|s| s.0.load(Ordering::Relaxed)).sum();
        shared.load(Ordering::Relaxed) + *locked.lock().expect("not poisoned") + sharded
    }
}

fn counter(c: &mut Criterion) {
    let mut group = c.benchmark_group("counter");
    for threads in [1, 2, 4] {
        group.throughput(Throughput::Elements(INCREMENTS * threads as u64));
        for counter in Counter::ALL {
            group.bench_with_input(
                BenchmarkId::new(counter.name(), threads),
                &threads,
                |b, &threads| b.iter(|| black_box(counter.count(threads))),
            );
        }
    }
    group.finish();
}

/// Lab 2's three ways to wait for every task spawned.
#[derive(Clone, Copy)]
enum WaitFor {
    Handles,
    JoinSet,
    TaskTracker,
}

impl WaitFor {
    fn name(self) -> &'static str {
        match self {
            WaitFor::Handles => "vec_join_handle",
            WaitFor::JoinSet => "join_set",
            WaitFor::TaskTracker => "task_tracker",
        }
    }

    /// Spawns `tasks` record syncs and waits for all of them.
    async fn sync_records(self, tasks: u64) {
        let sync = |record: u64| async move {
            black_box(record);
        };
        match self {
            WaitFor::Handles => {
                let handles: Vec<_> = (0..tasks).map(|r| tokio::spawn(sync(r))).collect();
                for handle in handles {
                    handle.await.expect("a sync does not panic");
                }
            }
            WaitFor::JoinSet => {
                let mut set = tokio::task::JoinSet::new();
                for r in 0..tasks {
                    set.spawn(sync(r));
                }
                while let Some(done) = set.join_next().await {
                    done.expect("a sync does not panic");
                }
            }
            WaitFor::TaskTracker => {
                let tracker = tokio_util::task::TaskTracker::new();
                for r in 0..tasks {
                    tracker.spawn(sync(r));
                }
                tracker.close();
                tracker.wait().await;
            }
        }
    }
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn join(c: &mut Criterion) {
    let mut group = c.benchmark_group("join");
    let runtime = current_thread();
    for tasks in [10u64, 100, 1_000, 10_000] {
        group.throughput(Throughput::Elements(tasks));
        for way in [WaitFor::Handles, WaitFor::JoinSet, WaitFor::TaskTracker] {
            group.bench_with_input(BenchmarkId::new(way.name(), tasks), &tasks, |b, &tasks| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let started = Instant::now();
                        for _ in 0..iters {
                            way.sync_records(tasks).await;
                        }
                        started.elapsed()
                    })
                })
            });
        }
    }
    group.finish();
}

/// Notes the lab 4 worker redacts per iteration.
const NOTES: u64 = 100_000;

/// Lab 4's redaction loop, checking the token every `every` notes (never for 0).
fn redact_notes(token: &tokio_util::sync::CancellationToken, every: u64) -> u64 {
    let mut redacted = 0u64;
    // A countdown rather than `note % every`: a division per note would cost more
    // than the check being measured.
    let mut until_check = every;
    for note in 0..NOTES {
        if every != 0 {
            until_check -= 1;
            if until_check == 0 {
                until_check = every;
                if token.is_cancelled() {
                    break;
                }
            }
        }
        // Stands in for the redaction: a few instructions of work per note.
        redacted = redacted.wrapping_add(black_box(note).wrapping_mul(0x9E37_79B9));
    }
    redacted
}

fn cancel(c: &mut Criterion) {
    let mut group = c.benchmark_group("cancel");
    group.throughput(Throughput::Elements(NOTES));
    let token = tokio_util::sync::CancellationToken::new();
    for (name, every) in [("every_item", 1), ("every_1024", 1024), ("never", 0)] {
        group.bench_function(name, |b| b.iter(|| redact_notes(&token, black_box(every))));
    }
    group.finish();
}

/// Calls per iteration of the timeout group.
const CALLS: u64 = 1_000;

fn timeout(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout");
    group.throughput(Throughput::Elements(CALLS));
    let runtime = current_thread();
    let fetch = |i: u64| async move { black_box(i) };
    group.bench_function("none", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for i in 0..iters * CALLS {
                    black_box(fetch(i).await);
                }
                started.elapsed()
            })
        })
    });
    group.bench_function("timeout_1s", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let started = Instant::now();
                for i in 0..iters * CALLS {
                    let answer = tokio::time::timeout(Duration::from_secs(1), fetch(i)).await;
                    black_box(answer.expect("ready long before the deadline"));
                }
                started.elapsed()
            })
        })
    });
    group.finish();
}

/// Lab 12's chart cache: clinicians open charts (reads) and now and then one is
/// refreshed (a write).
const CHARTS: u64 = 64;
const OPENS_PER_TASK: u64 = 10_000;
const WRITE_EVERY: u64 = 32;
const CLINICIANS: u64 = 4;

#[derive(Clone, Copy)]
enum ChartLock {
    StdMutex,
    StdRwLock,
    TokioMutex,
    TokioRwLock,
}

impl ChartLock {
    fn name(self) -> &'static str {
        match self {
            ChartLock::StdMutex => "std_mutex",
            ChartLock::StdRwLock => "std_rwlock",
            ChartLock::TokioMutex => "tokio_mutex",
            ChartLock::TokioRwLock => "tokio_rwlock",
        }
    }
}

type Charts = std::collections::HashMap<u64, u64>;

/// One clinician: `OPENS_PER_TASK` chart opens, one in `WRITE_EVERY` a refresh. No lock
/// is held across an `.await` (that is lab 12's bug, not what is measured here).
async fn open_charts(lock: ChartLock, clinician: u64, cache: Arc<Caches>) -> u64 {
    let mut seen = 0u64;
    for open in 0..OPENS_PER_TASK {
        let chart = (open * 7 + clinician) % CHARTS;
        let write = open % WRITE_EVERY == 0;
        seen = seen.wrapping_add(match (lock, write) {
            (ChartLock::StdMutex, _) => {
                let mut charts = cache.std_mutex.lock().expect("not poisoned");
                touch(&mut charts, chart, write)
            }
            (ChartLock::StdRwLock, false) => cache.std_rwlock.read().expect("not poisoned")[&chart],
            (ChartLock::StdRwLock, true) => {
                touch(&mut cache.std_rwlock.write().expect("not poisoned"), chart, true)
            }
            (ChartLock::TokioMutex, _) => touch(&mut *cache.tokio_mutex.lock().await, chart, write),
            (ChartLock::TokioRwLock, false) => cache.tokio_rwlock.read().await[&chart],
            (ChartLock::TokioRwLock, true) => touch(&mut *cache.tokio_rwlock.write().await, chart, true),
        });
    }
    seen
}

fn touch(charts: &mut Charts, chart: u64, write: bool) -> u64 {
    let entry = charts.get_mut(&chart).expect("every chart is cached");
    if write {
        *entry += 1;
    }
    *entry
}

struct Caches {
    std_mutex: Mutex<Charts>,
    std_rwlock: RwLock<Charts>,
    tokio_mutex: tokio::sync::Mutex<Charts>,
    tokio_rwlock: tokio::sync::RwLock<Charts>,
}

fn locks(c: &mut Criterion) {
    let mut group = c.benchmark_group("locks");
    group.throughput(Throughput::Elements(OPENS_PER_TASK * CLINICIANS));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let charts: Charts = (0..CHARTS).map(|c| (c, c)).collect();
    let caches = Arc::new(Caches {
        std_mutex: Mutex::new(charts.clone()),
        std_rwlock: RwLock::new(charts.clone()),
        tokio_mutex: tokio::sync::Mutex::new(charts.clone()),
        tokio_rwlock: tokio::sync::RwLock::new(charts),
    });
    for lock in [
        ChartLock::StdMutex,
        ChartLock::StdRwLock,
        ChartLock::TokioMutex,
        ChartLock::TokioRwLock,
    ] {
        group.bench_function(lock.name(), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        let clinicians: Vec<_> = (0..CLINICIANS)
                            .map(|n| tokio::spawn(open_charts(lock, n, caches.clone())))
                            .collect();
                        for clinician in clinicians {
                            black_box(clinician.await.expect("a clinician does not panic"));
                        }
                    }
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = labs;
    config = common::config();
    targets = counter, join, cancel, timeout, locks
}
criterion_main!(labs);
