//! The leak detector: goleak's `VerifyNone`, for tokio.
//!
//! A [`Detector`] builds the runtime a scenario runs on, so that it can hook every
//! task's spawn and termination (with `--cfg tokio_unstable`, the spawn location too).
//! When the scenario returns, it lets the runtime settle for a window of time (on the
//! runtime's clock: on a paused clock the window costs nothing, on the real clock it
//! ends as soon as no task is left), then reports every task still alive and where it
//! was spawned. It inspects *before* the runtime is dropped: shutdown cancels leaked
//! tasks silently and would hide them.
//!
//! The parts, by concern:
//! - `runtime`: building the runtime, its hooks, and the future `block_on` runs;
//! - `tracker`: one run's record of its tasks, and the list of live runs;
//! - `slots`: whether each runtime thread is at work, written lock-free by the
//!   thread-start, unpark and park hooks (no hook runs per poll);
//! - `dump`: await chains from task dumps;
//! - `report`: what a leak reads like, for someone who did not write the detector;
//! - `stall` (leaklab's `lab` feature): what the watchdog ([`crate::watchdog`]) makes of the live runs: a poll that
//!   never returns (`spin`, `deadlock`), a runtime nothing can wake (`hang`).
//!
//! Each run has its own tracker, so detectors on two threads of one process never see
//! each other's tasks.

// Parts of these serve only leaklab's watchdog (the `lab` feature).
#[cfg_attr(not(feature = "lab"), allow(dead_code))]
pub(crate) mod dump;
mod report;
mod runtime;
#[cfg_attr(not(feature = "lab"), allow(dead_code))]
mod slots;
#[cfg(feature = "lab")]
pub(crate) mod stall;
#[cfg_attr(not(feature = "lab"), allow(dead_code))]
mod tracker;

#[cfg(feature = "lab")]
use crate::finding::{Finding, Kind, Site};
#[cfg(feature = "lab")]
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::paths::normalize;
pub use report::{LeakReport, LeakedSite};

/// Which runtime the scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// One thread (`#[tokio::test]`'s default). Its clock may be paused: see
    /// [`Detector::paused`].
    CurrentThread,
    /// Worker threads on the real clock (tokio's paused clock cannot run here).
    MultiThread { workers: usize },
}

/// One task the runtime ran, as the hooks saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(serde::Serialize))]
pub struct TaskRecord {
    pub id: u64,
    /// Where it was spawned, named from the crate under test (`src/db.rs`; see
    /// [`crate::paths`]). `None` without `--cfg tokio_unstable`.
    pub file: Option<String>,
    pub line: u32,
    /// Runtime time since the scenario started (virtual on the paused clock); on the
    /// real clock, to a millisecond or so (see `tracker::Clock`).
    pub spawned_at: Duration,
    pub ended_at: Option<Duration>,
    /// The task's await chain, from a task dump (the `stacks` feature, Linux only).
    pub stack: Option<String>,
}

/// What the detector saw: the scenario's own result, and every task that is still alive.
#[derive(Debug)]
pub struct Outcome<T> {
    pub output: T,
    /// Tasks alive after the settle window, not counting ignored ones.
    pub leaks: Vec<TaskRecord>,
    /// Every task spawned during the run, in spawn order (for timelines).
    pub tasks: Vec<TaskRecord>,
    /// When the scenario's future returned, in runtime time since it started.
    pub returned_at: Duration,
    /// The runtime's own count of alive tasks at inspection (stable API, always there),
    /// ignored tasks included. With the hooks, the detector waits (briefly) for this
    /// count and its own records to agree before it inspects.
    pub alive: usize,
    /// Whether spawn locations were recorded (needs `--cfg tokio_unstable`).
    pub locations: bool,
    /// Why stacks are missing, when they are.
    pub stack_note: Option<&'static str>,
    /// The folder the report names files from ([`Detector::root`]), if one was given.
    root: Option<String>,
}

#[cfg(feature = "lab")]
impl<T> Outcome<T> {
    /// The leaks grouped by spawn site, most first.
    pub fn sites(&self) -> Vec<Site> {
        group_sites(&self.leaks)
    }

    /// A `leaked task` finding, or `None` when nothing leaked.
    pub fn leak_finding(&self, what: &str) -> Option<Finding> {
        let count = self.leaks.len().max(if self.locations { 0 } else { self.alive });
        if count == 0 {
            return None;
        }
        let sites = self.sites();
        let mut message = format!(
            "{count} {} still alive {what}",
            if count == 1 { "task" } else { "tasks" }
        );
        if let Some(site) = sites.first() {
            message.push_str(&format!(", spawned at {site}"));
            match sites.len() {
                1 => {}
                2 => message.push_str(" and 1 other place"),
                n => message.push_str(&format!(" and {} other places", n - 1)),
            }
        } else if !self.locations {
            message.push_str(" (spawn locations need --cfg tokio_unstable)");
        }
        Some(
            Finding::new(Kind::LeakedTask, message)
                .measure("alive_tasks", count as u64)
                .with_sites(sites),
        )
    }

    /// Notes worth showing next to any finding (what could not be measured, and why).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.locations {
            notes.push("spawn locations need --cfg tokio_unstable (set in .cargo/config.toml; an exported RUSTFLAGS overrides it)".into());
        }
        if let (Some(note), false) = (self.stack_note, self.leaks.is_empty()) {
            notes.push(note.into());
        }
        notes
    }
}

/// Runs a scenario on a runtime it watches. See the module docs.
#[derive(Clone)]
pub struct Detector {
    flavor: Flavor,
    paused: bool,
    settle: Duration,
    ignore: Vec<String>,
    stacks: bool,
    configure: Vec<runtime::Configure>,
    root: Option<String>,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("flavor", &self.flavor)
            .field("paused", &self.paused)
            .field("settle", &self.settle)
            .field("ignore", &self.ignore)
            .field("stacks", &self.stacks)
            .field("configure", &self.configure.len())
            .field("root", &self.root)
            .finish()
    }
}

impl Default for Detector {
    fn default() -> Self {
        Detector::current_thread()
    }
}

impl Detector {
    /// A current-thread runtime on the real clock, as `#[tokio::test]` builds, with
    /// every driver on (I/O and time) and a settle window of 250 ms that ends as soon
    /// as no task is left.
    pub fn current_thread() -> Self {
        Detector {
            flavor: Flavor::CurrentThread,
            paused: false,
            settle: Duration::from_millis(250),
            ignore: Vec::new(),
            stacks: true,
            configure: Vec::new(),
            root: None,
        }
    }

    /// A multi-thread runtime with `workers` threads, on the real clock, settling for
    /// up to 250 ms.
    pub fn multi_thread(workers: usize) -> Self {
        Detector {
            flavor: Flavor::MultiThread { workers },
            ..Detector::current_thread()
        }
    }

    /// A current-thread runtime with tokio's clock paused: time advances only when
    /// every task is idle, so timeouts and sleeps are exact and instant, and the settle
    /// window is one virtual second that costs nothing. Needs the `test-util` feature.
    #[cfg(any(feature = "test-util", feature = "lab"))]
    pub fn paused() -> Self {
        Detector {
            paused: true,
            settle: Duration::from_secs(1),
            ..Detector::current_thread()
        }
    }

    /// The same as [`Detector::paused`] (leaklab's scenarios all run on it).
    #[cfg(any(feature = "test-util", feature = "lab"))]
    pub fn new() -> Self {
        Detector::paused()
    }

    /// Adjusts the runtime's builder before the run: `|b| { b.start_paused(true); }`,
    /// `|b| { b.event_interval(7); }`. Called after the detector's own settings and
    /// before its hooks, so a task hook or `on_thread_park` set here is replaced (and,
    /// on the paused clock, `on_thread_unpark`). Calls add up.
    pub fn configure(
        mut self,
        adjust: impl Fn(&mut tokio::runtime::Builder) + Send + Sync + 'static,
    ) -> Self {
        self.configure.push(Arc::new(adjust));
        self
    }

    /// Names files in the report from `folder` (the test attribute passes the crate's
    /// `CARGO_MANIFEST_DIR`). Without it, the folder cargo runs the test binary in.
    pub fn root(mut self, folder: impl Into<String>) -> Self {
        self.root = Some(folder.into());
        self
    }

    /// How long the runtime may settle after the scenario returns. A task that ends
    /// within this window is not a leak.
    pub fn settle(mut self, window: Duration) -> Self {
        self.settle = window;
        self
    }

    /// Ignore tasks spawned from a place whose `file` or `file:line` contains `pattern`
    /// (like goleak's `IgnoreTopFunction`): for tasks that are meant to outlive the test.
    pub fn ignore(mut self, pattern: impl Into<String>) -> Self {
        self.ignore.push(pattern.into());
        self
    }

    /// Skip the task dump (it is the slow part of an inspection).
    pub fn without_stacks(mut self) -> Self {
        self.stacks = false;
        self
    }

    /// Runs `scenario` to completion, settles, and reports what is still alive.
    pub fn run<F, Fut>(&self, scenario: F) -> Outcome<Fut::Output>
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let paused = self.paused && self.flavor == Flavor::CurrentThread;
        let tracker = tracker::Tracker::new(paused);
        // Listed for the watchdog until `registered` drops, even if the scenario panics.
        let registered = tracker::register(&tracker);
        #[cfg(feature = "lab")]
        crate::watchdog::progress();
        let runtime = match runtime::build(self.flavor, paused, &self.configure, &tracker) {
            Ok(runtime) => runtime,
            Err(error) => panic!("tokio-leakcheck: the test's runtime could not be built: {error}"),
        };
        tracker.attach(runtime.handle().clone());
        let (settle, want_stacks) = (self.settle, self.stacks);
        let body = async {
            tracker.start();
            let output = scenario().await;
            tracker.tick();
            let returned_at = Duration::from_nanos(tracker.clock_nanos());
            if paused {
                tokio::time::sleep(settle).await;
            } else {
                settle_until_idle(settle).await;
            }
            let (alive, alive_ids) = counts_agree(&tracker).await;
            let handle = tokio::runtime::Handle::current();
            let stacks = match (want_stacks, alive) {
                (_, 0) => Ok(HashMap::new()),
                (true, _) => dump::dump(&handle).await,
                (false, _) => Err("no await chain: stacks were turned off (without_stacks)"),
            };
            (output, alive, stacks, returned_at, alive_ids)
        };
        let (output, alive, stacks, returned_at, alive_ids) =
            runtime.block_on(runtime::watched(&tracker, self.flavor, body));
        #[cfg(feature = "lab")]
        timelines::keep(&tracker, Some(returned_at));
        tracker.stop();
        let mut tasks = tracker.records();
        let (stacks, stack_note) = match stacks {
            Ok(stacks) => (stacks, None),
            Err(note) => (HashMap::new(), Some(note)),
        };
        for task in &mut tasks {
            task.stack = stacks.get(&task.id).cloned();
            if let (Some(root), Some(file)) = (&self.root, &task.file) {
                task.file = Some(crate::paths::rebase(root, file));
            }
        }
        // The tasks alive at the inspection: on worker threads, some may have ended
        // since, and the report must agree with the count taken at that instant.
        let leaks = tasks
            .iter()
            // `alive_ids` is in id order (see `Tracker::alive`): a search, not a scan
            // per task, or a million tasks with ten thousand leaks take seconds.
            .filter(|t| alive_ids.binary_search(&t.id).is_ok())
            .filter(|t| !self.ignored(t))
            .map(|t| TaskRecord {
                ended_at: None,
                ..t.clone()
            })
            .collect();
        // Shutting down in the background never waits for a task that does not yield.
        runtime.shutdown_background();
        drop(registered);
        #[cfg(feature = "lab")]
        crate::watchdog::progress();
        Outcome {
            output,
            leaks,
            tasks,
            returned_at,
            alive,
            locations: cfg!(tokio_unstable),
            stack_note,
            root: self.root.clone(),
        }
    }

    /// Runs `scenario` and panics with the list of leaked tasks if any is alive after
    /// the settle window: the one call a test needs.
    #[track_caller]
    pub fn verify_none<F, Fut>(&self, scenario: F) -> Fut::Output
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let outcome = self.run(scenario);
        if let Some(report) = outcome.report("after the test returned") {
            panic!("{report}");
        }
        outcome.output
    }

    fn ignored(&self, task: &TaskRecord) -> bool {
        let Some(file) = &task.file else { return false };
        let place = format!("{file}:{}", task.line);
        self.ignore.iter().any(|p| place.contains(p.as_str()))
    }
}

/// Runs `scenario` on a current-thread runtime and panics, with the report, if any
/// task it spawned is still alive after the settle window. Use [`Detector`] for options.
#[track_caller]
pub fn verify_none<F, Fut>(scenario: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    Detector::current_thread().verify_none(scenario)
}

/// Waits, on the runtime's clock, until no task is alive or `window` has passed. On
/// the real clock a clean test pays only for the tasks that are still finishing; a
/// test that paused the clock itself pays nothing.
async fn settle_until_idle(window: Duration) {
    let start = tokio::time::Instant::now();
    let handle = tokio::runtime::Handle::current();
    while handle.metrics().num_alive_tasks() > 0 && start.elapsed() < window {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The runtime's count of alive tasks and the ids of the tasks the hooks saw alive,
/// taken at one instant.
///
/// On worker threads a task ends while the detector looks: its terminate hook runs a
/// moment before the runtime stops counting it, so two reads in a row can disagree
/// (1 alive, 0 records). Read the count on both sides of the records until it has not
/// moved and agrees with them (briefly, in real time; the last reading otherwise).
async fn counts_agree(tracker: &tracker::Tracker) -> (usize, Vec<u64>) {
    let handle = tokio::runtime::Handle::current();
    let deadline = Instant::now() + Duration::from_millis(200);
    loop {
        let before = handle.metrics().num_alive_tasks();
        let ids: Vec<u64> = tracker.alive().iter().map(|t| t.id).collect();
        let after = handle.metrics().num_alive_tasks();
        let agree = before == after && (!cfg!(tokio_unstable) || after == ids.len());
        if agree || Instant::now() >= deadline {
            return (after, ids);
        }
        tokio::task::yield_now().await;
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[cfg(feature = "lab")]
/// Tasks grouped by spawn site, most tasks first; each site keeps the stack of its first
/// task that has one.
pub fn group_sites(tasks: &[TaskRecord]) -> Vec<Site> {
    let mut by_place: BTreeMap<(String, u32), Site> = BTreeMap::new();
    for task in tasks {
        let Some(file) = &task.file else { continue };
        by_place
            .entry((file.clone(), task.line))
            .and_modify(|s| {
                s.count += 1;
                // A task that ended has no await chain: show one that has.
                if s.stack.is_none() {
                    s.stack = task.stack.clone();
                }
            })
            .or_insert_with(|| Site {
                file: file.clone(),
                line: task.line,
                count: 1,
                stack: task.stack.clone(),
            });
    }
    let mut sites: Vec<Site> = by_place.into_values().collect();
    sites.sort_by_key(|s| std::cmp::Reverse(s.count));
    sites
}

/// The tasks alive at this moment in the run this code belongs to (empty outside one).
///
/// For checks that must look at the instant a function returns (when `main` returns,
/// the program ends), rather than after the settle window. Called from the scenario's
/// own future, it reads the run from a task-local; from a task the run spawned, from
/// the slot of the thread polling it. Either way, only that run's tasks are listed.
pub fn alive_now() -> Vec<TaskRecord> {
    let run = runtime::RUN.try_with(|run| run.clone()).ok().or_else(|| {
        let polling = slots::current().filter(|s| s.busy)?;
        tracker::live_runs().into_iter().find(|r| r.id == polling.run)
    });
    run.map(|run| run.alive()).unwrap_or_default()
}

/// The runs' timelines, kept for the picture `cargo lab N --timeline` draws (see
/// [`crate::finding::Timeline`]). Nothing is kept until the check's process asks for
/// it, so tests that run many detectors keep nothing.
#[cfg(feature = "lab")]
pub mod timelines {
    use super::tracker::{self, Tracker, lock};
    use crate::finding::{Span, Timeline};
    use std::sync::Mutex;
    use std::time::Duration;

    /// `None` until [`start`]; then every finished run on the paused clock.
    static KEPT: Mutex<Option<Vec<Timeline>>> = Mutex::new(None);

    /// Keep the timeline of every run from now on.
    pub fn start() {
        lock(&KEPT).get_or_insert_with(Vec::new);
    }

    /// The timelines kept so far, and those of the runs still under way (a run the
    /// watchdog is stopping: it never returned).
    pub fn taken() -> Vec<Timeline> {
        let Some(mut all) = lock(&KEPT).clone() else {
            return Vec::new();
        };
        all.extend(
            tracker::live_runs()
                .iter()
                .filter(|t| t.paused)
                .map(|t| of(t, None)),
        );
        all
    }

    pub(super) fn keep(run: &Tracker, returned_at: Option<Duration>) {
        if !run.paused {
            return; // real time: not the same picture twice
        }
        if let Some(kept) = lock(&KEPT).as_mut() {
            kept.push(of(run, returned_at));
        }
    }

    fn of(run: &Tracker, returned_at: Option<Duration>) -> Timeline {
        let us = |d: Duration| d.as_micros() as u64;
        Timeline {
            tasks: run
                .records()
                .into_iter()
                .map(|t| Span {
                    file: t.file,
                    line: t.line,
                    spawned_us: us(t.spawned_at),
                    ended_us: t.ended_at.map(us),
                })
                .collect(),
            returned_us: returned_at.map(us),
            inspected_us: run.clock_nanos() / 1000,
        }
    }
}
