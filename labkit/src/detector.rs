//! The leak detector: goleak's `VerifyNone`, for tokio.
//!
//! A [`Detector`] builds the runtime a scenario runs on, so that it can hook every
//! task's spawn and termination (with `--cfg tokio_unstable`, the spawn location too).
//! When the scenario returns, it lets the runtime settle for a window of time (virtual
//! time on the paused current-thread runtime, so the window costs nothing), then reports
//! every task still alive and where it was spawned. It inspects *before* the runtime is
//! dropped: shutdown cancels leaked tasks silently and would hide them.

use crate::finding::{Finding, Kind, Site};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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
    /// How many times the task was polled.
    pub polls: u64,
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
        let tracker = Arc::new(Tracker::default());
        *lock(&ACTIVE) = Some(tracker.clone());
        let runtime = self.build(&tracker);
        let settle = self.settle;
        let flavor = self.flavor;
        let want_stacks = self.stacks;
        let (output, alive, stacks) = runtime.block_on(async {
            tracker.start(tokio::time::Instant::now());
            let output = scenario().await;
            match flavor {
                Flavor::CurrentThread => tokio::time::sleep(settle).await,
                Flavor::MultiThread { .. } => settle_real_time(settle).await,
            }
            let handle = tokio::runtime::Handle::current();
            let alive = handle.metrics().num_alive_tasks();
            let stacks = if want_stacks && alive > 0 {
                dump(&handle).await
            } else {
                Ok(HashMap::new())
            };
            (output, alive, stacks)
        });
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
        *lock(&ACTIVE) = None;
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

    fn build(&self, tracker: &Arc<Tracker>) -> tokio::runtime::Runtime {
        let mut builder = match self.flavor {
            Flavor::CurrentThread => {
                let mut b = tokio::runtime::Builder::new_current_thread();
                b.start_paused(true);
                b
            }
            Flavor::MultiThread { workers } => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                b.worker_threads(workers.max(1));
                b
            }
        };
        builder.enable_time();
        hooks(&mut builder, tracker);
        builder.build().expect("build the scenario's runtime")
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

#[cfg(tokio_unstable)]
fn hooks(builder: &mut tokio::runtime::Builder, tracker: &Arc<Tracker>) {
    let (t1, t2, t3, t4) = (tracker.clone(), tracker.clone(), tracker.clone(), tracker.clone());
    builder
        .on_task_spawn(move |meta| {
            let at = meta.spawned_at();
            t1.spawned(id_of(meta.id()), Some(normalize(at.file())), at.line());
        })
        .on_task_terminate(move |meta| t2.ended(id_of(meta.id())))
        .on_before_task_poll(move |meta| t3.poll_started(id_of(meta.id())))
        .on_after_task_poll(move |meta| t4.poll_ended(id_of(meta.id())));
}

#[cfg(not(tokio_unstable))]
fn hooks(_builder: &mut tokio::runtime::Builder, _tracker: &Arc<Tracker>) {}

#[cfg_attr(not(tokio_unstable), allow(dead_code))]
fn id_of(id: tokio::task::Id) -> u64 {
    id.to_string().parse().unwrap_or(0)
}

/// Each leaked task's await chain, keyed by task id. Time-boxed: a dump waits for
/// every task to yield once, which a stuck task never does.
#[cfg(all(
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
async fn dump(handle: &tokio::runtime::Handle) -> Result<HashMap<u64, String>, &'static str> {
    match tokio::time::timeout(Duration::from_secs(1), handle.dump()).await {
        Ok(dump) => Ok(dump
            .tasks()
            .iter()
            .map(|t| (id_of(t.id()), tidy_trace(&t.trace().to_string())))
            // A task parked on something that is not a tokio resource has no await chain.
            .filter(|(_, trace)| !trace.trim().is_empty())
            .collect()),
        Err(_) => Err("the task dump timed out, so stacks are unavailable"),
    }
}

#[cfg(not(all(
    tokio_unstable,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
async fn dump(_handle: &tokio::runtime::Handle) -> Result<HashMap<u64, String>, &'static str> {
    Err("stacks are unavailable: task dumps need Linux (x86_64 or aarch64) and --cfg tokio_unstable")
}

/// Keeps the frames a student can act on: paths shortened to the workspace or crate.
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
fn tidy_trace(trace: &str) -> String {
    trace
        .lines()
        .map(|line| match line.split_once(" at ") {
            Some((frame, path)) => format!("{frame} at {}", normalize(path)),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `checks/src/bin/../../../labs/x.rs` becomes `labs/x.rs`; an absolute path inside
/// the workspace becomes relative; a path into the cargo registry keeps only
/// `crate-1.2.3/src/...`.
pub fn normalize(path: &str) -> String {
    let joined = clean(path);
    let root = clean(concat!(env!("CARGO_MANIFEST_DIR"), "/..")) + "/";
    if let Some(rest) = joined.strip_prefix(&root) {
        return rest.to_owned();
    }
    if let Some(i) = joined.find("/registry/src/") {
        let rest = &joined[i + "/registry/src/".len()..];
        return rest
            .split_once('/')
            .map(|(_, r)| r.to_owned())
            .unwrap_or_else(|| rest.to_owned());
    }
    joined
}

/// Resolves `.` and `..` without touching the file system; a leading `..` that has
/// nothing to cancel is kept.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for (i, part) in path.split('/').enumerate() {
        match part {
            ".." if parts.last().is_some_and(|p| !p.is_empty() && *p != "..") => {
                parts.pop();
            }
            "." => {}
            "" if i > 0 => {}
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

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

/// The tasks alive at this moment in the scenario now running (empty outside one).
///
/// For checks that must look at the instant a function returns (when `main` returns,
/// the program ends), rather than after the settle window.
pub fn alive_now() -> Vec<TaskRecord> {
    let Some(tracker) = lock(&ACTIVE).clone() else {
        return Vec::new();
    };
    tracker
        .records()
        .into_iter()
        .filter(|t| t.ended_at.is_none())
        .collect()
}

/// The tracker of the scenario now running, for the watchdog thread.
static ACTIVE: Mutex<Option<Arc<Tracker>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A poll that has been running for a while, seen from the watchdog thread.
#[derive(Debug)]
pub struct Stall {
    pub task: TaskRecord,
    pub stuck_for: Duration,
    /// CPU time the stuck thread used while stuck, where the OS tells (Linux).
    pub cpu: Option<Duration>,
}

impl Stall {
    /// `spin` when the stuck thread burns CPU, `deadlock` when it is blocked.
    pub fn finding(&self) -> Finding {
        let secs = self.stuck_for.as_secs_f64();
        let place = match &self.task.file {
            Some(file) => format!("the task spawned at {file}:{}", self.task.line),
            None => "a task".to_owned(),
        };
        let (kind, how) = match self.cpu {
            Some(cpu) if cpu.as_secs_f64() < secs / 4.0 => (
                Kind::Deadlock,
                format!(
                    "is blocked (used {} ms of CPU): a lock that is never released?",
                    cpu.as_millis()
                ),
            ),
            Some(cpu) => (
                Kind::Spin,
                format!("is burning CPU ({} ms of CPU in {secs:.1} s)", cpu.as_millis()),
            ),
            None => (Kind::Spin, "never returned".to_owned()),
        };
        let mut finding = Finding::new(
            kind,
            format!(
                "the runtime thread has not yielded for {secs:.1} s: {place} never reaches an .await and {how}"
            ),
        )
        .measure("stuck_ms", self.stuck_for.as_millis() as u64)
        .measure("polls", self.task.polls);
        if let Some(cpu) = self.cpu {
            finding = finding.measure("cpu_ms", cpu.as_millis() as u64);
        }
        finding.with_sites(group_sites(std::slice::from_ref(&self.task)))
    }
}

/// If a poll of the running scenario has lasted longer than `limit`, which task it is.
pub fn stalled(limit: Duration) -> Option<Stall> {
    let tracker = lock(&ACTIVE).clone()?;
    let polls = lock(&tracker.polls);
    let (id, poll) = polls.iter().find(|(_, p)| p.started.elapsed() >= limit)?;
    let task = lock(&tracker.tasks).get(id).cloned()?;
    let cpu = thread_cpu(poll.thread)
        .zip(poll.cpu_at_start)
        .map(|(now, then)| now.saturating_sub(then));
    Some(Stall {
        task,
        stuck_for: poll.started.elapsed(),
        cpu,
    })
}

struct PollStart {
    started: Instant,
    thread: Option<u32>,
    cpu_at_start: Option<Duration>,
}

#[derive(Default)]
struct Tracker {
    tasks: Mutex<BTreeMap<u64, TaskRecord>>,
    polls: Mutex<HashMap<u64, PollStart>>,
    origin: Mutex<Option<tokio::time::Instant>>,
    stopped: std::sync::atomic::AtomicBool,
}

#[cfg_attr(not(tokio_unstable), allow(dead_code))]
impl Tracker {
    fn start(&self, now: tokio::time::Instant) {
        *lock(&self.origin) = Some(now);
    }

    fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn live(&self) -> bool {
        !self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Runtime time since the scenario started; zero outside the runtime.
    fn elapsed(&self) -> Duration {
        let origin = *lock(&self.origin);
        match (origin, tokio::runtime::Handle::try_current()) {
            (Some(origin), Ok(_)) => tokio::time::Instant::now().saturating_duration_since(origin),
            _ => Duration::ZERO,
        }
    }

    fn spawned(&self, id: u64, file: Option<String>, line: u32) {
        if !self.live() {
            return;
        }
        let record = TaskRecord {
            id,
            file,
            line,
            spawned_at: self.elapsed(),
            ended_at: None,
            polls: 0,
            stack: None,
        };
        lock(&self.tasks).insert(id, record);
    }

    fn ended(&self, id: u64) {
        if !self.live() {
            return;
        }
        let at = self.elapsed();
        if let Some(task) = lock(&self.tasks).get_mut(&id) {
            task.ended_at = Some(at);
        }
    }

    fn poll_started(&self, id: u64) {
        if let Some(task) = lock(&self.tasks).get_mut(&id) {
            task.polls += 1;
        }
        let thread = current_thread_id();
        let start = PollStart {
            started: Instant::now(),
            thread,
            cpu_at_start: thread_cpu(thread),
        };
        lock(&self.polls).insert(id, start);
    }

    fn poll_ended(&self, id: u64) {
        lock(&self.polls).remove(&id);
    }

    fn records(&self) -> Vec<TaskRecord> {
        lock(&self.tasks).values().cloned().collect()
    }
}

/// The OS id of the calling thread (Linux), so the watchdog can read its CPU time.
fn current_thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// CPU time (user + system) a thread has used, from `/proc` (Linux).
fn thread_cpu(thread: Option<u32>) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{}/stat", thread?)).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in USER_HZ, which is 100 on every Linux that tokio supports.
    Some(Duration::from_millis(ticks * 10))
}
