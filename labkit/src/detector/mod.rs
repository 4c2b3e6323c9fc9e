//! The leak detector: goleak's `VerifyNone`, for tokio.
//!
//! A [`Detector`] builds the runtime a scenario runs on, so that it can hook every
//! task's spawn and termination (with `--cfg tokio_unstable`, the spawn location too).
//! When the scenario returns, it lets the runtime settle for a window of time (virtual
//! time on the paused current-thread runtime, so the window costs nothing), then reports
//! every task still alive and where it was spawned. It inspects *before* the runtime is
//! dropped: shutdown cancels leaked tasks silently and would hide them.
//!
//! The parts, by concern:
//! - `runtime`: building the runtime, its hooks, and the future `block_on` runs;
//! - `tracker`: one run's record of its tasks, and the list of live runs;
//! - `slots`: what each runtime thread is polling, written lock-free by the poll hooks;
//! - `dump`: await chains from task dumps;
//! - `stall`: what the watchdog ([`crate::watchdog`]) makes of the live runs: a poll that
//!   never returns (`spin`, `deadlock`), a runtime nothing can wake (`hang`).
//!
//! Each run has its own tracker, so detectors on two threads of one process never see
//! each other's tasks.

mod dump;
mod runtime;
mod slots;
pub(crate) mod stall;
mod tracker;

use crate::finding::{Finding, Kind, Site};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

pub use crate::paths::normalize;

/// Which runtime the scenario runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// One thread, with tokio's clock paused: time advances only when every task is
    /// idle, so timeouts and sleeps are exact and instant. The default.
    CurrentThread,
    /// Worker threads and the real clock (the paused clock cannot run here). The
    /// settle window is real time, so keep it short.
    MultiThread { workers: usize },
}

/// One task the runtime ran, as the hooks saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRecord {
    pub id: u64,
    /// Where it was spawned: `labs/lab01_orphaned_task.rs`, relative to the workspace.
    /// `None` without `--cfg tokio_unstable`.
    pub file: Option<String>,
    pub line: u32,
    /// Runtime time since the scenario started (virtual on the paused clock).
    pub spawned_at: Duration,
    pub ended_at: Option<Duration>,
    /// The task's await chain, from a task dump (Linux only).
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
    /// The runtime's own count of alive tasks at inspection (stable API, always right).
    pub alive: usize,
    /// Whether spawn locations were recorded (needs `--cfg tokio_unstable`).
    pub locations: bool,
    /// Why stacks are missing, when they are.
    pub stack_note: Option<&'static str>,
}

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
            if sites.len() > 1 {
                message.push_str(&format!(" and {} other places", sites.len() - 1));
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
#[derive(Clone, Debug)]
pub struct Detector {
    flavor: Flavor,
    settle: Duration,
    ignore: Vec<String>,
    stacks: bool,
}

impl Default for Detector {
    fn default() -> Self {
        Detector::new()
    }
}

impl Detector {
    /// A paused current-thread runtime with a one-second settle window.
    pub fn new() -> Self {
        Detector {
            flavor: Flavor::CurrentThread,
            settle: Duration::from_secs(1),
            ignore: Vec::new(),
            stacks: true,
        }
    }

    /// A multi-thread runtime on the real clock, settling for 100 ms of real time.
    pub fn multi_thread(workers: usize) -> Self {
        Detector {
            flavor: Flavor::MultiThread { workers },
            settle: Duration::from_millis(100),
            ..Detector::new()
        }
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
        let tracker = tracker::Tracker::new(self.flavor == Flavor::CurrentThread);
        // Listed for the watchdog until `registered` drops, even if the scenario panics.
        let registered = tracker::register(&tracker);
        crate::watchdog::progress();
        let runtime = runtime::build(self.flavor, &tracker);
        tracker.attach(runtime.handle().clone());
        let (settle, flavor, want_stacks) = (self.settle, self.flavor, self.stacks);
        let body = async {
            tracker.start();
            let output = scenario().await;
            match flavor {
                Flavor::CurrentThread => tokio::time::sleep(settle).await,
                Flavor::MultiThread { .. } => settle_real_time(settle).await,
            }
            let handle = tokio::runtime::Handle::current();
            let alive = handle.metrics().num_alive_tasks();
            let stacks = if want_stacks && alive > 0 {
                dump::dump(&handle).await
            } else {
                Ok(HashMap::new())
            };
            (output, alive, stacks)
        };
        let (output, alive, stacks) = runtime.block_on(runtime::watched(&tracker, body));
        tracker.stop();
        let mut tasks = tracker.records();
        let (stacks, stack_note) = match stacks {
            Ok(stacks) => (stacks, None),
            Err(note) => (HashMap::new(), Some(note)),
        };
        for task in &mut tasks {
            task.stack = stacks.get(&task.id).cloned();
        }
        let leaks = tasks
            .iter()
            .filter(|t| t.ended_at.is_none())
            .filter(|t| !self.ignored(t))
            .cloned()
            .collect();
        // Shutting down in the background never waits for a task that does not yield.
        runtime.shutdown_background();
        drop(registered);
        crate::watchdog::progress();
        Outcome {
            output,
            leaks,
            tasks,
            alive,
            locations: cfg!(tokio_unstable),
            stack_note,
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
        if let Some(finding) = outcome.leak_finding("after the scenario returned") {
            let mut text = finding.message.clone();
            for site in &finding.sites {
                text.push_str(&format!("\n  {} task(s) spawned at {site}", site.count));
                if let Some(stack) = &site.stack {
                    text.push_str(&format!("\n{}", indent(stack, "    ")));
                }
            }
            for note in outcome.notes() {
                text.push_str(&format!("\n  note: {note}"));
            }
            panic!("{text}");
        }
        outcome.output
    }

    fn ignored(&self, task: &TaskRecord) -> bool {
        let Some(file) = &task.file else { return false };
        let place = format!("{file}:{}", task.line);
        self.ignore.iter().any(|p| place.contains(p.as_str()))
    }
}

/// Runs `scenario` on a paused current-thread runtime and panics if any task it
/// spawned is still alive after one virtual second. Use [`Detector`] for options.
#[track_caller]
pub fn verify_none<F, Fut>(scenario: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    Detector::new().verify_none(scenario)
}

/// On a multi-thread runtime a task may be finishing on another worker: wait, in real
/// time, until none is alive or the window closes.
async fn settle_real_time(window: Duration) {
    let deadline = Instant::now() + window;
    let handle = tokio::runtime::Handle::current();
    while handle.metrics().num_alive_tasks() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tasks grouped by spawn site, most tasks first; each site keeps the first task's stack.
pub fn group_sites(tasks: &[TaskRecord]) -> Vec<Site> {
    let mut by_place: BTreeMap<(String, u32), Site> = BTreeMap::new();
    for task in tasks {
        let Some(file) = &task.file else { continue };
        by_place
            .entry((file.clone(), task.line))
            .and_modify(|s| s.count += 1)
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
        let polling = slots::current().filter(|s| s.depth > 0)?;
        tracker::live_runs().into_iter().find(|r| r.id == polling.run)
    });
    run.map(|run| run.alive()).unwrap_or_default()
}
