//! What leaklab's benchmarks share: the detector's workloads, the runtimes they run
//! on, and the clocks they are timed with.
//!
//! Two kinds of benchmark live in this crate:
//! - criterion benchmarks (`benches/`): what the labs' fixes cost (`labs`), and the
//!   detector's hooks against a plain runtime (`detector`);
//! - two programs that criterion cannot be: `overhead` times the detector and a plain
//!   runtime in alternating rounds of one process, so both see the same machine load,
//!   and `scale` runs the detector on up to a million tasks, one child process per size
//!   for its peak memory, and checks that the watchdog still finds a stall there.
//!
//! `bench-table` turns what they wrote into the book's tables. `just bench` runs it all.

pub mod measure;

use std::future::Future;

/// The runtime flavours the detector is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Current-thread with the paused clock: what every leaklab scenario runs on.
    Paused,
    /// Two workers on the real clock.
    MultiThread,
}

impl Flavour {
    pub const ALL: [Flavour; 2] = [Flavour::Paused, Flavour::MultiThread];

    pub fn name(self) -> &'static str {
        match self {
            Flavour::Paused => "current-thread",
            Flavour::MultiThread => "multi-thread(2)",
        }
    }

    /// A runtime as the detector builds it, without the detector's hooks.
    pub fn plain(self) -> tokio::runtime::Runtime {
        let mut builder = match self {
            Flavour::Paused => {
                let mut b = tokio::runtime::Builder::new_current_thread();
                b.start_paused(true);
                b
            }
            Flavour::MultiThread => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(2);
                b
            }
        };
        builder.enable_all().build().expect("a plain runtime")
    }

    /// The detector, without task dumps (their cost is the report's, not the hooks').
    pub fn detector(self) -> labkit::Detector {
        match self {
            Flavour::Paused => labkit::Detector::paused(),
            Flavour::MultiThread => labkit::Detector::multi_thread(2),
        }
        .without_stacks()
    }

    /// The clock that counts this flavour's work: on one thread, that thread's CPU time
    /// (another process taking the core does not count); on two workers, the process's.
    pub fn cpu_now(self) -> std::time::Duration {
        match self {
            Flavour::Paused => measure::thread_cpu(),
            Flavour::MultiThread => measure::process_cpu(),
        }
    }
}

/// Runs `work` on `flavour`'s runtime, plain (`hooked` false) or under the detector,
/// and returns what `work` returns. The runtime is built and the detector settles and
/// reports outside `work`, so a time taken inside it is the workload's alone.
pub fn on<Fut: Future>(flavour: Flavour, hooked: bool, work: impl FnOnce() -> Fut) -> Fut::Output {
    if hooked {
        flavour.detector().run(work).output
    } else {
        flavour.plain().block_on(work())
    }
}

/// Spawn-and-join throughput: `tasks` empty tasks spawned, then joined. Each costs the
/// detector a spawn hook and a terminate hook (no hook runs per poll).
pub async fn spawn_and_join(tasks: usize) {
    let handles: Vec<_> = (0..tasks).map(|_| tokio::spawn(async {})).collect();
    for handle in handles {
        handle.await.expect("an empty task does not panic");
    }
}

/// Poll-heavy throughput: `tasks` tasks that each yield `yields` times: a million polls
/// for ten thousand spawns, what a per-poll hook would cost most.
pub async fn yield_many(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("a yielding task does not panic");
    }
}

/// `work` run `times` times after one run to warm the allocator, timed on `flavour`'s
/// clock: (wall, CPU).
pub async fn timed<Fut: Future<Output = ()>>(
    flavour: Flavour,
    times: u64,
    mut work: impl FnMut() -> Fut,
) -> (std::time::Duration, std::time::Duration) {
    work().await;
    let (wall, cpu) = (std::time::Instant::now(), flavour.cpu_now());
    for _ in 0..times {
        work().await;
    }
    (wall.elapsed(), flavour.cpu_now().saturating_sub(cpu))
}
