//! The watchdog's view of the live detector runs: a poll that never returns, and a
//! paused runtime that is idle with nothing that can wake it.
//!
//! **A stuck poll.** A slot (see [`super::slots`]) that stays busy with the same
//! sequence number, while tokio's count of its worker's polls stands still too, for the
//! stall limit holds a poll that does not return: a loop with no `.await`, or a blocking
//! call that never comes back. (tokio publishes that count at least every 61 polls, so a
//! runtime whose every poll took over a sixtieth of the limit, 16 ms, would also look
//! stuck: no lab's poll takes a millisecond.) On a multi-thread runtime only the
//! threads that run a worker now are watched (and the one that runs `block_on`): a thread
//! that gave its worker away in `block_in_place` is back in the blocking pool once its
//! poll returns, with nothing to mark its slot idle. The CPU time its thread used
//! meanwhile tells a `spin` from a `deadlock`; `/proc` is read only for a poll that has
//! already lasted one sample (50 ms), never on the poll path. A stack sample of the
//! thread gives the line it is stuck on, and the task it is polling.
//!
//! **A hang.** On the paused current-thread runtime, time jumps to the next timer as soon
//! as every task is idle, so a pending timer never leaves it idle for long. If nothing
//! was polled there for the stall limit, no timer is pending, no blocking-pool thread is
//! busy (those inhibit the jump, and may still wake a task), and no other thread reported
//! [`progress`](crate::watchdog::progress), nothing will ever wake it. The runtime is then
//! asked, from outside, for its tasks' await chains (see `runtime::watched`).
//!
//! **A frozen clock.** On the paused clock, a task that yields in a loop (`yield_now`,
//! a `select!` branch that is always ready) is polled again and again, so the runtime is
//! never idle, no poll is stuck, and the clock never gets to move: no timer fires, ever.
//! A paused run whose clock has not moved for [`FROZEN_LIMIT`] of wall time while its
//! tasks kept being polled is reported as a spin, with the task that stack samples of the
//! thread find it polling most often.
//! (No lab does seconds of real work at one virtual instant: a burst of a thousand
//! requests takes milliseconds.)
//!
//! Without `--cfg tokio_unstable` there are no thread hooks and no worker metrics:
//! only the scenario's own future is watched, and a hang is left to the parent's wall
//! clock. A task that blocks on purpose in `block_in_place` (multi-thread runtimes only)
//! gives its worker to another thread, so its thread is not watched while it blocks
//! (see above): a stall there is left to the parent's wall clock too.

use super::slots::{self, SCENARIO, Slot, State};
use super::tracker::{Tracker, live_runs};
use super::{TaskRecord, group_sites};
use crate::finding::{Finding, Kind, Site};
use crate::stacks;
use crate::watchdog::{Still, classify};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the live runs look like at one sample.
pub(crate) enum Runs {
    /// No detector run is live.
    None,
    /// Some are, and none is stuck.
    Live,
    Stuck(Box<Finding>),
}

/// The watchdog's memory between samples.
#[derive(Default)]
pub(crate) struct Monitor {
    /// Busy slots, by slot.
    polls: HashMap<usize, PollWatch>,
    /// Paused runs' runtime threads, by run: (sequence, progress counter) while idle.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    idle: HashMap<u64, Still<(u64, u64)>>,
    /// Paused runs' clocks, by run, while they stand still.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    frozen: HashMap<u64, Frozen>,
}

/// How long a paused run's clock may stand still while its tasks are polled.
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
pub(crate) const FROZEN_LIMIT: Duration = Duration::from_secs(3);

/// A paused run's clock standing still: since when, and then the runtime's poll count
/// and its thread's sequence number.
#[derive(Default)]
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
struct Frozen {
    clock: Still<u64>,
    from: (u64, u64),
}

#[derive(Default)]
struct PollWatch {
    /// (run, sequence number, tokio's poll count)
    still: Still<(u64, u64, u64)>,
    /// When the poll had lasted one sample, and its thread's CPU time then.
    cpu_from: Option<(Instant, Duration)>,
}

impl Monitor {
    pub fn sample(&mut self, now: Instant, limit: Duration) -> Runs {
        let runs = live_runs();
        if runs.is_empty() {
            self.polls.clear();
            self.idle.clear();
            return Runs::None;
        }
        let mut busy = Vec::new();
        for slot in slots::all() {
            let state = slot.state();
            let Some(run) = runs.iter().find(|r| r.id == state.run) else {
                continue;
            };
            if !state.busy {
                continue;
            }
            let Some(polls) = polls_by(run, &slot) else {
                continue;
            };
            let key = Arc::as_ptr(&slot) as usize;
            busy.push(key);
            let watch = self.polls.entry(key).or_default();
            watch.still.observe((state.run, state.seq, polls), now);
            match watch.still.samples() {
                1 => watch.cpu_from = None,
                2 => watch.cpu_from = slot.tid.and_then(stacks::stat).map(|s| (now, s.cpu)),
                5 => stacks::prepare(),
                _ => {}
            }
            if let Some(stuck) = watch.still.stuck(now, limit) {
                let seen = watch.cpu_from.zip(slot.tid.and_then(stacks::stat));
                if let Some(((_, before), stat)) = seen
                    && starved(stat.state, stat.cpu.saturating_sub(before), limit)
                {
                    continue; // not yet: see `starved`
                }
                let finding = stuck_poll(run, &slot, state, stuck, watch.cpu_from);
                return Runs::Stuck(Box::new(finding));
            }
        }
        self.polls.retain(|key, _| busy.contains(key));

        #[cfg(tokio_unstable)]
        for run in runs.iter().filter(|r| r.paused) {
            if let Some(finding) = self.hang(run, now, limit) {
                return Runs::Stuck(Box::new(finding));
            }
            if let Some(finding) = self.frozen(run, now) {
                return Runs::Stuck(Box::new(finding));
            }
        }
        self.idle.retain(|id, _| runs.iter().any(|r| r.id == *id));
        self.frozen.retain(|id, _| runs.iter().any(|r| r.id == *id));
        Runs::Live
    }

    /// A hang of paused run `run`, once it is certain.
    #[cfg(tokio_unstable)]
    fn hang(&mut self, run: &Arc<Tracker>, now: Instant, limit: Duration) -> Option<Finding> {
        let main = run.main.get()?;
        let state = main.state();
        let idle = self.idle.entry(run.id).or_default();
        if state.busy {
            *idle = Still::default();
            return None;
        }
        idle.observe((state.seq, crate::watchdog::progress_mark()), now);
        let stuck = idle.stuck(now, limit)?;
        let metrics = run.handle()?.metrics();
        if metrics.num_blocking_threads() > metrics.num_idle_blocking_threads() {
            // Blocking work runs: it may yet wake a task, and the clock waits for it.
            *idle = Still::default();
            return None;
        }
        if main.tid.and_then(stacks::stat).is_some_and(|s| s.state == 'R') {
            return None;
        }
        let (reply, answer) = std::sync::mpsc::channel();
        *super::tracker::lock(&run.dump_reply) = Some(reply);
        run.dump_request.notify_one();
        // The runtime answers at once, but symbolising the chains takes a second of CPU
        // the first time: the wait is a backstop for a runtime that never answers.
        let dump = answer.recv_timeout(Duration::from_secs(10)).ok();
        Some(hang(run, stuck, dump))
    }
}

impl Monitor {
    /// A paused run whose clock stands still while its tasks keep being polled.
    #[cfg(tokio_unstable)]
    fn frozen(&mut self, run: &Arc<Tracker>, now: Instant) -> Option<Finding> {
        let main = run.main.get()?;
        let polls_now = polls_by(run, main)?;
        let seq_now = main.state().seq;
        let frozen = self.frozen.entry(run.id).or_default();
        frozen.clock.observe(run.clock_nanos(), now);
        if frozen.clock.samples() == 1 {
            frozen.from = (polls_now, seq_now);
        }
        let still = frozen.clock.stuck(now, FROZEN_LIMIT)?;
        // The tasks' polls, and the scenario's (with the thread's wake-ups, a few).
        let task_polls = polls_now.wrapping_sub(frozen.from.0);
        let polls = task_polls + seq_now.wrapping_sub(frozen.from.1);
        if polls == 0 {
            return None; // idle, not busy: the hang rule's business
        }
        let (busiest, frames) = busiest_task(main);
        let task = busiest.and_then(|t| run.record(t));
        let mut sites = Vec::new();
        if let Some((file, line)) = stacks::innermost_code_under_test(&frames) {
            sites.push(Site {
                file,
                line,
                count: 1,
                stack: None,
            });
        }
        sites.extend(group_sites(task.as_slice()));
        let who = match &task {
            Some(TaskRecord {
                file: Some(file),
                line,
                ..
            }) => format!("the task spawned at {file}:{line}"),
            _ if task_polls == 0 => "the scenario's own future".to_owned(),
            _ => "a task".to_owned(),
        };
        let message = format!(
            "the runtime kept polling ({polls} polls) but its clock has not moved for {:.1} s of wall \
             time: {who} yields in a loop and never waits (yield_now, or a select! branch that is \
             always ready), so no timer can ever fire",
            still.as_secs_f64()
        );
        Some(
            Finding::new(Kind::Spin, message)
                .measure("frozen_ms", still.as_millis() as u64)
                .measure("polls", polls)
                .with_sites(sites),
        )
    }
}

/// tokio's count of the polls `slot`'s thread has made for `run`, if the watchdog
/// watches that thread: the thread that runs `block_on` (its count is the runtime's one
/// worker's on the current-thread runtime, and none on a multi-thread one, where it
/// polls only the scenario), or on a multi-thread runtime, one that runs a worker now
/// (see the module docs).
fn polls_by(run: &Tracker, slot: &Arc<Slot>) -> Option<u64> {
    let main = run.main.get().is_some_and(|main| Arc::ptr_eq(main, slot));
    #[cfg(tokio_unstable)]
    if let Some(handle) = run.handle() {
        let metrics = handle.metrics();
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
            return main.then(|| metrics.worker_poll_count(0));
        }
        let worker = (0..metrics.num_workers()).find(|&w| metrics.worker_thread_id(w) == Some(slot.thread));
        return match worker {
            Some(worker) => Some(metrics.worker_poll_count(worker)),
            None => main.then_some(0),
        };
    }
    main.then_some(0)
}

/// The task `main`'s thread is polling, from stack samples, and the frames of the
/// sample that found it (of the last sample, if none did).
#[cfg(tokio_unstable)]
fn busiest_task(main: &Slot) -> (Option<u64>, Vec<crate::stacks::Frame>) {
    // A yield in a loop is a short poll between long stretches of scheduler work.
    const TRIES: usize = 1000;
    match main.tid.and_then(|tid| stacks::sample_task(tid, TRIES)) {
        Some(sample) => (sample.task, sample.frames),
        None => (None, Vec::new()),
    }
}

/// The finding for a poll that has not returned for `stuck`.
/// Whether a poll that has not returned for the stall limit is a thread starved of CPU
/// rather than stuck: it is runnable, yet it has used less than half the limit in CPU
/// time. A loaded machine (tests in parallel on two cores) can keep a healthy poll of a
/// few milliseconds waiting for a core that long; a spinning poll shows itself by the
/// CPU it burns, however slowly it gets it, and a blocked one by sleeping.
pub(crate) fn starved(state: char, cpu: Duration, limit: Duration) -> bool {
    state == 'R' && cpu < limit / 2
}

fn stuck_poll(
    run: &Tracker,
    slot: &Slot,
    state: State,
    stuck: Duration,
    cpu_from: Option<(Instant, Duration)>,
) -> Finding {
    let stat = slot.tid.and_then(stacks::stat);
    let (window, cpu) = match (cpu_from, stat) {
        (Some((at, before)), Some(now)) => (at.elapsed(), Some(now.cpu.saturating_sub(before))),
        _ => (stuck, None),
    };
    // A stuck poll is found inside its task at once; a few tries for a task that is
    // between polls, in the scheduler, when the signal lands.
    let sample = slot
        .tid
        .and_then(|tid| stacks::sample_task(tid, 5))
        .unwrap_or_default();
    let frames = sample.frames;
    let at = stacks::innermost_code_under_test(&frames);
    let task = (state.task != SCENARIO)
        .then(|| sample.task.and_then(|id| run.record(id)))
        .flatten();
    let place = match &task {
        Some(TaskRecord {
            file: Some(file),
            line,
            ..
        }) => format!("the task spawned at {file}:{line}"),
        _ if state.task == SCENARIO => "the scenario's own future".to_owned(),
        _ => "a task".to_owned(),
    };
    let secs = stuck.as_secs_f64();
    let (kind, how) = match (classify(window, cpu, stat.map(|s| s.state)), cpu) {
        (Some(Kind::Deadlock), Some(cpu)) => (
            Kind::Deadlock,
            format!(
                "is blocked (used {} ms of CPU): a lock that is never released?",
                cpu.as_millis()
            ),
        ),
        (Some(_), Some(cpu)) => (
            Kind::Spin,
            format!(
                "is burning CPU ({} ms of CPU in {:.1} s)",
                cpu.as_millis(),
                window.as_secs_f64()
            ),
        ),
        _ => (Kind::Spin, "never returned".to_owned()),
    };
    let stuck_at = at
        .as_ref()
        .map_or(String::new(), |(file, line)| format!(" (stuck at {file}:{line})"));
    let mut finding = Finding::new(
        kind,
        format!("the runtime thread has not yielded for {secs:.1} s: {place} never reaches an .await{stuck_at} and {how}"),
    )
    .measure("stuck_ms", stuck.as_millis() as u64);
    if let Some(cpu) = cpu {
        finding = finding.measure("cpu_ms", cpu.as_millis() as u64);
    }
    // Where it is stuck (with the thread's stack), then where the task was spawned.
    let mut sites = Vec::new();
    if let Some((file, line)) = at {
        sites.push(Site {
            file,
            line,
            count: 1,
            stack: Some(stacks::render(&frames)),
        });
    }
    for spawned in group_sites(task.as_slice()) {
        if !sites
            .iter()
            .any(|s| s.file == spawned.file && s.line == spawned.line)
        {
            sites.push(spawned);
        }
    }
    finding.with_sites(sites)
}

/// The finding for a paused run idle for `idle`, with the await chains it sent back.
#[cfg(tokio_unstable)]
fn hang(run: &Tracker, idle: Duration, dump: Option<super::dump::HangDump>) -> Finding {
    let mut alive = run.alive();
    let (stacks, scenario) = match dump {
        Some(dump) => (dump.tasks.unwrap_or_default(), dump.scenario),
        None => (HashMap::new(), None),
    };
    for task in &mut alive {
        task.stack = stacks.get(&task.id).cloned();
    }
    let sites = group_sites(&alive);
    let who = match alive.len() {
        0 => "the scenario waits forever, and no task is alive to wake it".to_owned(),
        1 => "1 task waits forever".to_owned(),
        n => format!("{n} tasks wait forever"),
    };
    let spawned = match sites.as_slice() {
        [] => String::new(),
        [one] => format!(", spawned at {one}"),
        [first, rest @ ..] => format!(", spawned at {first} and {} other places", rest.len()),
    };
    let also = if alive.is_empty() {
        ""
    } else {
        ", and the scenario has not returned"
    };
    let mut finding = Finding::new(
        Kind::Hang,
        format!(
            "the runtime is idle and nothing can wake it: {who}{spawned}{also} (nothing was polled for \
             {:.1} s, no timer is pending and no blocking work runs)",
            idle.as_secs_f64()
        ),
    )
    .measure("idle_ms", idle.as_millis() as u64)
    .measure("alive_tasks", alive.len() as u64)
    .with_sites(sites);
    if let Some(scenario) = scenario {
        finding = finding.with_detail(format!("the scenario waits at:\n{scenario}"));
    }
    finding
}

#[cfg(all(test, tokio_unstable))]
mod tests {
    use super::*;
    use crate::Detector;
    use tokio::runtime::Handle;

    /// Each test looks for its run among the live ones: one test's run at a time.
    static ONE_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn the_run() -> Arc<Tracker> {
        live_runs().pop().expect("the test's run is live")
    }

    /// The slot of the thread that runs the runtime's one worker now.
    fn worker_slot(handle: &Handle) -> Arc<Slot> {
        let thread = handle.metrics().worker_thread_id(0).expect("a started worker");
        slots::all()
            .into_iter()
            .find(|slot| slot.thread == thread)
            .expect("the worker has polled")
    }

    /// Waits until the runtime's one worker has parked (so its park hook has run): an
    /// event that comes within microseconds; the bound is only a backstop.
    fn until_parked(handle: &Handle) {
        let metrics = handle.metrics();
        let backstop = Instant::now() + Duration::from_secs(20);
        while metrics.worker_park_unpark_count(0) % 2 == 0 {
            assert!(Instant::now() < backstop, "the worker never parked");
            std::thread::yield_now();
        }
    }

    /// A worker thread that calls `block_in_place` hands its worker to another thread; when
    /// its poll returns it goes back to the blocking pool, and no hook marks its slot
    /// idle. Its slot stays busy with that poll for good, so it must not be watched; the
    /// thread that took the worker over must.
    #[test]
    fn a_thread_that_gave_its_worker_away_is_not_watched() {
        let _one = ONE_RUN.lock().unwrap_or_else(|p| p.into_inner());
        let (handed_over, handed) = std::sync::mpsc::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let run = std::thread::spawn(move || {
            Detector::multi_thread(1).without_stacks().run(|| async move {
                let blocking = tokio::spawn(async {
                    tokio::task::block_in_place(|| {
                        // With one worker, only the thread that took it over can run this
                        // task: once it has, the worker does not come back to this thread.
                        let (ran, runs) = std::sync::mpsc::channel();
                        tokio::spawn(async move { ran.send(()) });
                        runs.recv().map(|()| std::thread::current().id())
                    })
                });
                let thread = blocking.await.ok().and_then(Result::ok);
                let handed = (thread, Handle::current());
                handed_over.send(handed).expect("the test waits");
                let _ = released.await;
            })
        });
        let (thread, handle) = handed.recv().expect("the run hands its runtime over");
        let thread = thread.expect("the blocking task ran");
        let run_now = the_run();
        let gave_away = slots::all()
            .into_iter()
            .find(|slot| slot.thread == thread)
            .expect("the slot of the thread that blocked");
        let busy = gave_away.state().busy;
        let watched = polls_by(&run_now, &gave_away).is_some();
        let took_over = polls_by(&run_now, &worker_slot(&handle)).is_some();
        release.send(()).expect("the run waits");
        run.join().expect("the run ends");
        assert!(busy, "nothing marks the slot idle");
        assert!(!watched, "a thread that runs no worker is not watched");
        assert!(took_over, "the worker's thread is watched");
    }

    /// A worker that ran out of tasks has parked: whatever it polled last has returned.
    #[test]
    fn a_worker_that_parked_after_its_polls_is_idle() {
        let _one = ONE_RUN.lock().unwrap_or_else(|p| p.into_inner());
        let (polled, polls) = std::sync::mpsc::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let run = std::thread::spawn(move || {
            Detector::multi_thread(1).without_stacks().run(|| async move {
                let done = tokio::spawn(async {}).await.is_ok();
                polled.send((done, Handle::current())).expect("the test waits");
                let _ = released.await;
            })
        });
        let (done, handle) = polls.recv().expect("the run hands its runtime over");
        assert!(done);
        until_parked(&handle);
        let worker = worker_slot(&handle).state();
        release.send(()).expect("the run waits");
        run.join().expect("the run ends");
        assert!(worker.seq > 0 && !worker.busy, "{worker:?}");
    }
}

#[cfg(test)]
mod starving {
    use super::starved;
    use std::time::Duration;

    #[test]
    fn a_runnable_poll_with_little_cpu_is_starved_not_stuck() {
        let limit = Duration::from_secs(1);
        // Waiting for a core: a healthy poll on a loaded machine.
        assert!(starved('R', Duration::from_millis(120), limit));
        // Burning CPU: a spin, however loaded the machine.
        assert!(!starved('R', Duration::from_millis(600), limit));
        // Asleep in the kernel: blocked, whatever CPU it used before.
        assert!(!starved('S', Duration::ZERO, limit));
        assert!(!starved('D', Duration::from_millis(120), limit));
    }
}
