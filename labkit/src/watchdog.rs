//! The watchdog: a thread of the check's child process that notices when the check
//! stops making progress, says where it stopped, and ends the process.
//!
//! Why a thread: a task that never reaches an `.await`, a thread parked on a lock that
//! is never released, or a runtime waiting for a message nobody will send, all stop
//! the check where it stands; nothing on the check's own threads can notice. The
//! watchdog samples from outside, every 50 ms:
//!
//! - **Detector runs** ([`crate::detector`]): a poll that has not returned for
//!   [`STALL_LIMIT`] is a `spin` or a `deadlock`, told apart by the CPU time the stuck
//!   thread used; a paused runtime that was idle that long, with nothing that could
//!   ever wake it, is a `hang`.
//! - **Checks with no tokio runtime** (real threads, loom models): they call
//!   [`progress`] while they work. When no detector run is live and the counter has not
//!   moved for [`STALL_LIMIT`], the watchdog samples every thread's stack and reports the
//!   one stuck in code under test.
//!
//! "For a second" always also means [`SAMPLES`] samples in a row: a process that was not
//! scheduled at all for a second (a loaded machine, a suspended laptop) wakes up to a
//! second-long gap, which must not read as a stuck check. The finding is written as the
//! check's signed report, and the process ends: nothing can stop the stuck thread.

use crate::child::{Meta, STALL_LIMIT};
use crate::finding::{Finding, Kind, Report, Site};
use crate::stacks::{self, Tid};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the watchdog looks.
pub const EVERY: Duration = Duration::from_millis(50);

/// How many samples in a row a condition must hold, besides lasting [`STALL_LIMIT`].
pub const SAMPLES: u32 = 15;

static PROGRESS: AtomicU64 = AtomicU64::new(0);

/// How many threads are in [`unwatched`] work right now.
static UNWATCHED: AtomicU64 = AtomicU64::new(0);

/// Tells the watchdog that the check is still making progress.
///
/// A check that runs without a detector (real threads, a loom model) calls it at least
/// every ~100 ms while it is healthy; when it has not been called for [`STALL_LIMIT`],
/// the watchdog reports the check as stuck. A relaxed increment: call it from any thread,
/// as often as you like, but not in a loop whose timing is being measured.
pub fn progress() {
    PROGRESS.fetch_add(1, Ordering::Relaxed);
}

/// Runs `work`, the checking machinery's own, while the watchdog judges nothing.
///
/// For work that takes long but cannot get stuck: symbolising a task dump takes about
/// a second of CPU the first time (it loads the binary's debug info), and it runs inside
/// the scenario's poll. On a loaded machine that is more than [`STALL_LIMIT`] of wall
/// time, which the watchdog would otherwise report as a poll that never returns. Never
/// wrap code under test in it: a stall there would go unreported until the parent's
/// wall limit.
pub fn unwatched<R>(work: impl FnOnce() -> R) -> R {
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            UNWATCHED.fetch_sub(1, Ordering::SeqCst);
            progress();
        }
    }
    UNWATCHED.fetch_add(1, Ordering::SeqCst);
    let _done = Done;
    work()
}

/// The progress counter, to compare between samples.
pub(crate) fn progress_mark() -> u64 {
    PROGRESS.load(Ordering::Relaxed)
}

/// Starts the watchdog thread: when it finds the check stuck, it hands `report` the
/// report to write, then ends the process.
pub(crate) fn spawn(meta: Meta, report: impl FnOnce(Report) + Send + 'static) {
    std::thread::Builder::new()
        .name("leaklab-watchdog".into())
        .spawn(move || {
            let finding = watch(STALL_LIMIT);
            report(meta.failed(finding));
            std::process::exit(0);
        })
        .expect("spawn the watchdog thread");
}

/// Samples until something is stuck for `limit`, and says what.
pub(crate) fn watch(limit: Duration) -> Finding {
    #[cfg(feature = "runtime")]
    let mut runs = crate::detector::stall::Monitor::default();
    let mut quiet = Quiet::default();
    loop {
        std::thread::sleep(EVERY);
        if UNWATCHED.load(Ordering::SeqCst) > 0 {
            // What was seen so far may have been that work: judge afresh after it.
            #[cfg(feature = "runtime")]
            {
                runs = crate::detector::stall::Monitor::default();
            }
            quiet = Quiet::default();
            continue;
        }
        let now = Instant::now();
        #[cfg(feature = "runtime")]
        match runs.sample(now, limit) {
            crate::detector::stall::Runs::Stuck(finding) => return *finding,
            crate::detector::stall::Runs::Live => {
                quiet = Quiet::default();
                continue;
            }
            crate::detector::stall::Runs::None => {}
        }
        if let Some(finding) = quiet.sample(now, limit) {
            return finding;
        }
    }
}

/// How long a sampled value has stayed the same.
#[derive(Debug)]
pub(crate) struct Still<T> {
    seen: Option<(T, Instant)>,
    samples: u32,
}

impl<T> Default for Still<T> {
    fn default() -> Self {
        Still {
            seen: None,
            samples: 0,
        }
    }
}

impl<T: PartialEq> Still<T> {
    /// Records a sample taken at `now`.
    pub fn observe(&mut self, value: T, now: Instant) {
        match &self.seen {
            Some((seen, _)) if *seen == value => self.samples += 1,
            _ => {
                self.seen = Some((value, now));
                self.samples = 1;
            }
        }
    }

    /// Samples in a row that saw the same value.
    pub fn samples(&self) -> u32 {
        self.samples
    }

    /// How long the value has been the same, once that is at least `limit` over at
    /// least [`SAMPLES`] samples.
    pub fn stuck(&self, now: Instant, limit: Duration) -> Option<Duration> {
        let (_, since) = self.seen.as_ref()?;
        let still = now.saturating_duration_since(*since);
        (still >= limit && self.samples >= SAMPLES).then_some(still)
    }
}

/// What a thread that stopped was doing: `spin` when it burns CPU (or is runnable and
/// waiting for a CPU), `deadlock` when it sleeps; `None` where the OS does not say.
pub(crate) fn classify(window: Duration, cpu: Option<Duration>, state: Option<char>) -> Option<Kind> {
    // A blocked thread sleeps in the kernel and uses next to no CPU; a spinning one on
    // a loaded machine (tests in parallel on two cores) may get only a share of a core,
    // so a tenth of the window is the line.
    let busy = cpu? >= window / 10 || state == Some('R');
    Some(if busy { Kind::Spin } else { Kind::Deadlock })
}

/// The no-runtime rule: the progress counter, and a snapshot of every thread's CPU time
/// taken once the counter has been still for a while (the window the classification
/// reads).
#[derive(Default)]
struct Quiet {
    still: Still<u64>,
    cpu_before: Option<(Instant, HashMap<Tid, Duration>)>,
}

impl Quiet {
    fn sample(&mut self, now: Instant, limit: Duration) -> Option<Finding> {
        self.still.observe(progress_mark(), now);
        if self.still.samples() == 1 {
            self.cpu_before = None;
        } else if self.still.samples() == 5 {
            stacks::prepare();
            let cpu = stacks::threads()
                .into_iter()
                .filter_map(|tid| Some((tid, stacks::stat(tid)?.cpu)))
                .collect();
            self.cpu_before = Some((now, cpu));
        }
        let stuck = self.still.stuck(now, limit)?;
        Some(stuck_threads(stuck, self.cpu_before.take()))
    }
}

/// One thread of the process, as sampled when the check stopped.
struct Sampled {
    tid: Tid,
    at: Option<(String, u32)>,
    stack: Option<String>,
    kind: Option<Kind>,
    cpu: Option<Duration>,
}

/// The finding for a check with no runtime that stopped reporting progress.
fn stuck_threads(stuck: Duration, cpu_before: Option<(Instant, HashMap<Tid, Duration>)>) -> Finding {
    let me = stacks::current_tid();
    // CPU times first, all at one instant, then the (slower) stack samples.
    let stats: Vec<(Tid, Option<stacks::ThreadStat>)> = stacks::threads()
        .into_iter()
        .filter(|&tid| Some(tid) != me)
        .map(|tid| (tid, stacks::stat(tid)))
        .collect();
    let window = cpu_before.as_ref().map_or(stuck, |(at, _)| at.elapsed());
    let threads: Vec<Sampled> = stats
        .into_iter()
        .map(|(tid, stat)| {
            let before = cpu_before.as_ref().and_then(|(_, cpu)| cpu.get(&tid)).copied();
            let cpu = stat.zip(before).map(|(s, b)| s.cpu.saturating_sub(b));
            let frames = stacks::sample(tid).unwrap_or_default();
            Sampled {
                tid,
                at: stacks::innermost_code_under_test(&frames),
                stack: (!frames.is_empty()).then(|| stacks::render(&frames)),
                kind: classify(window, cpu, stat.map(|s| s.state)),
                cpu,
            }
        })
        .collect();
    // The thread in code under test that is busiest, then newest: a spinning worker over
    // the thread that waits to join it, a worker over the thread that started it.
    let chosen = threads
        .iter()
        .filter(|t| t.at.is_some())
        .max_by_key(|t| (t.kind == Some(Kind::Spin), t.tid));
    let secs = stuck.as_secs_f64();
    let place = chosen
        .and_then(|t| t.at.as_ref())
        .map_or(String::new(), |(file, line)| format!(" at {file}:{line}"));
    let cpu = chosen.and_then(|t| t.cpu);
    let (kind, how) = match (chosen.and_then(|t| t.kind), cpu) {
        (Some(Kind::Spin), Some(cpu)) => (
            Kind::Spin,
            format!(
                "a thread is burning CPU{place} ({} ms of CPU in {:.1} s)",
                cpu.as_millis(),
                window.as_secs_f64()
            ),
        ),
        (Some(Kind::Deadlock), Some(cpu)) => (
            Kind::Deadlock,
            format!(
                "a thread is blocked{place} (used {} ms of CPU): a lock that is never released?",
                cpu.as_millis()
            ),
        ),
        _ if chosen.is_some() => (Kind::Hang, format!("a thread is stuck{place}")),
        _ if threads.is_empty() => (
            Kind::Hang,
            "where it stopped is unknown (stacks and CPU times need Linux)".to_owned(),
        ),
        _ => (Kind::Hang, "no thread is in the lab's code".to_owned()),
    };
    let mut finding = Finding::new(
        kind,
        format!("the check has made no progress for {secs:.1} s: {how}"),
    )
    .measure("stuck_ms", stuck.as_millis() as u64);
    if let Some(cpu) = cpu {
        finding = finding.measure("cpu_ms", cpu.as_millis() as u64);
    }
    // The chosen thread's place first, with its stack; then where the others stand.
    let mut sites = Vec::new();
    if let Some(t) = chosen
        && let Some((file, line)) = &t.at
    {
        sites.push(Site {
            file: file.clone(),
            line: *line,
            count: 1,
            stack: t.stack.clone(),
        });
    }
    let mut others: BTreeMap<(String, u32), Site> = BTreeMap::new();
    for t in threads.iter().filter(|t| Some(t.tid) != chosen.map(|c| c.tid)) {
        let Some((file, line)) = &t.at else { continue };
        others
            .entry((file.clone(), *line))
            .and_modify(|s| s.count += 1)
            .or_insert_with(|| Site {
                file: file.clone(),
                line: *line,
                count: 1,
                stack: t.stack.clone(),
            });
    }
    sites.extend(others.into_values());
    finding
        .measure(
            "threads_in_code_under_test",
            sites.iter().map(|s| u64::from(s.count)).sum(),
        )
        .with_sites(sites)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn still_needs_both_the_time_and_the_samples() {
        let start = Instant::now();
        let mut still = Still::default();
        still.observe(7, start);
        // One late sample a second on is a process that was not scheduled, not a stall.
        still.observe(7, start + Duration::from_secs(2));
        assert_eq!(
            still.stuck(start + Duration::from_secs(2), Duration::from_secs(1)),
            None
        );
        for i in 2..=SAMPLES {
            still.observe(7, start + Duration::from_secs(2) + EVERY * i);
        }
        assert!(
            still
                .stuck(start + Duration::from_secs(3), Duration::from_secs(1))
                .is_some()
        );
        still.observe(8, start + Duration::from_secs(3));
        assert_eq!(
            still.stuck(start + Duration::from_secs(3), Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn cpu_time_tells_a_spin_from_a_deadlock() {
        let second = Duration::from_secs(1);
        assert_eq!(classify(second, Some(second), Some('R')), Some(Kind::Spin));
        assert_eq!(
            classify(second, Some(Duration::ZERO), Some('S')),
            Some(Kind::Deadlock)
        );
        // Runnable but starved of CPU by other processes: still spinning.
        assert_eq!(
            classify(second, Some(Duration::ZERO), Some('R')),
            Some(Kind::Spin)
        );
        assert_eq!(classify(second, None, None), None);
    }
}
