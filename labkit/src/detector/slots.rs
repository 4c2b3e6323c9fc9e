//! What each runtime thread is doing right now, readable from the watchdog thread.
//!
//! Each OS thread that runs a detector's runtime gets one [`Slot`], registered the first
//! time a hook runs on it (that is when its OS thread id is read, once), and keeps a plain
//! pointer to it in a thread-local that needs no lazy-init check.
//!
//! **No hook runs per poll.** tokio's before-poll hook costs a poll about ten per cent of
//! its instructions before the hook does anything at all, and a million polls are what a
//! busy runtime does. A thread instead marks its slot busy when it starts work: when it
//! starts (`on_thread_start`), when it wakes from a park (`on_thread_unpark`), and when
//! `block_on` polls the scenario's own future ([`scenario`]). It marks it idle when it
//! parks (`on_thread_park`). Between those, the watchdog tells a thread that keeps
//! polling from one stuck in a single poll by tokio's own count of the polls each worker
//! has made (`worker_poll_count`, which tokio keeps anyway and publishes at least every
//! 61 polls and at every park): a busy thread whose count and sequence number stay the
//! same for the stall limit holds a poll that does not return (see `stall`). Which task
//! that poll belongs to, the stuck thread says itself when the watchdog samples its stack.
//! (One way out of polling marks nothing: a multi-thread worker that hands its worker to
//! another thread in `block_in_place` goes back to the blocking pool when its poll ends.
//! The watchdog therefore watches only threads that run a worker now, see `stall`.)

use crate::stacks::{self, Tid};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

/// What a busy thread polls: the scenario's own future, which `block_on` polls and which
/// is not a spawned task (tokio's ids start at 1)...
pub(crate) const SCENARIO: u64 = 0;
/// ... or the runtime's tasks, which ones the slot does not say.
pub(crate) const TASKS: u64 = u64::MAX;

/// One thread's poll state. Written only by its own thread; read by the watchdog.
/// Aligned to its own cache lines, so two workers never share one.
#[repr(align(128))]
pub(crate) struct Slot {
    /// The OS thread, for CPU time and stack samples (Linux).
    pub tid: Option<Tid>,
    /// The same thread as tokio's metrics name a worker's.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub thread: ThreadId,
    run: AtomicU64,
    task: AtomicU64,
    /// Bumped each time the thread starts work (see the module docs).
    seq: AtomicU64,
    busy: AtomicBool,
    /// False once the thread has exited.
    alive: AtomicBool,
}

/// A slot as read at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub run: u64,
    /// [`SCENARIO`] or [`TASKS`], when `busy`.
    pub task: u64,
    /// The thread started work and has not parked since.
    pub busy: bool,
    /// Bumped each time the thread starts work.
    pub seq: u64,
}

impl Slot {
    pub fn state(&self) -> State {
        let seq = self.seq.load(Ordering::Acquire);
        State {
            run: self.run.load(Ordering::Relaxed),
            task: self.task.load(Ordering::Relaxed),
            busy: self.busy.load(Ordering::Relaxed),
            seq,
        }
    }

    /// The thread starts work for `run`: written by the one thread that owns the slot
    /// (so stores, never a locked read-modify-write).
    fn work(&self, run: u64, task: u64) {
        self.run.store(run, Ordering::Relaxed);
        self.task.store(task, Ordering::Relaxed);
        self.busy.store(true, Ordering::Relaxed);
        // Release: a reader that sees the new number sees what was written before it.
        self.seq.store(
            self.seq.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }

    /// The thread stops polling: nothing it started is under way any more.
    fn idle(&self) {
        self.busy.store(false, Ordering::Release);
    }
}

/// Every slot of a thread that is still alive.
static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());

/// This thread's slot, registered on first use; marked dead when the thread exits.
struct Mine(Arc<Slot>);

impl Mine {
    fn register() -> Mine {
        let slot = Arc::new(Slot {
            tid: stacks::current_tid(),
            thread: std::thread::current().id(),
            run: AtomicU64::new(0),
            task: AtomicU64::new(TASKS),
            seq: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            alive: AtomicBool::new(true),
        });
        let mut slots = SLOTS.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|s| s.alive.load(Ordering::Relaxed));
        slots.push(slot.clone());
        Mine(slot)
    }
}

impl Drop for Mine {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::Relaxed);
    }
}

thread_local! {
    /// Owns this thread's slot (registers it on first use, and marks it dead at exit).
    static MINE: Mine = Mine::register();
}

/// Runs `f` on this thread's slot, registering it on first use; `None` once the thread
/// is exiting. (Only the thread hooks and the scenario's polls come here, never a task's
/// poll, so the thread-local's lazy-init check costs nothing that matters.)
#[inline]
fn with_slot<R>(f: impl FnOnce(&Slot) -> R) -> Option<R> {
    MINE.try_with(|mine| f(&mine.0)).ok()
}

/// This thread starts work for run `run`: it has started, or woken from a park (the
/// thread-start and unpark hooks).
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
pub(crate) fn work(run: u64) {
    with_slot(|slot| slot.work(run, TASKS));
}

/// This thread is about to park: whatever it polled last has returned (the park hook).
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
pub(crate) fn park() {
    with_slot(Slot::idle);
}

/// Marks this thread busy with the scenario's own future until [`ScenarioPoll::ended`]
/// (or the guard's drop, even by a panic) says what the thread does next.
pub(crate) fn scenario(run: u64) -> ScenarioPoll {
    with_slot(|slot| slot.work(run, SCENARIO));
    ScenarioPoll { tasks_next: false }
}

pub(crate) struct ScenarioPoll {
    tasks_next: bool,
}

impl ScenarioPoll {
    /// The scenario's poll has returned. On the current-thread runtime, a scenario that
    /// is still pending hands the thread back to the scheduler, which polls tasks until
    /// it parks (`tasks_next`); otherwise the thread stops polling.
    pub fn ended(mut self, tasks_next: bool) {
        self.tasks_next = tasks_next;
    }
}

impl Drop for ScenarioPoll {
    fn drop(&mut self) {
        if self.tasks_next {
            with_slot(|slot| slot.task.store(TASKS, Ordering::Relaxed));
        } else {
            park();
        }
    }
}

/// This thread's slot (registering it), for the run to find its `block_on` thread.
pub(crate) fn mine() -> Option<Arc<Slot>> {
    MINE.try_with(|mine| mine.0.clone()).ok()
}

/// This thread's state, if it ever polled.
pub(crate) fn current() -> Option<State> {
    MINE.try_with(|mine| mine.0.state()).ok()
}

/// Every live thread's slot.
pub(crate) fn all() -> Vec<Arc<Slot>> {
    let mut slots = SLOTS.lock().unwrap_or_else(|p| p.into_inner());
    slots.retain(|s| s.alive.load(Ordering::Relaxed));
    slots.clone()
}
