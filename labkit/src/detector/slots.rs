//! What each runtime thread is polling right now, readable from the watchdog thread.
//!
//! The poll hook runs before every poll of every task, so it must cost next to nothing:
//! no lock, no system call, no allocation, no read-modify-write. Each OS thread that
//! polls gets one [`Slot`], registered the first time it polls (that is when its OS
//! thread id is read, once), and keeps a plain pointer to it in a thread-local that
//! needs no lazy-init check. A poll's start is then three plain stores into the thread's
//! own slot: which run, which task, and a sequence number bumped at every start.
//!
//! There is no hook after a poll: calling one cost tokio as much again as the hook
//! before it. A thread stops polling only to park (the runtime's park hook marks the slot
//! idle, see [`park`]) or, on the thread that runs `block_on`, to poll the scenario's
//! own future, which marks it idle again when its poll ends ([`scenario`]). Between two
//! polls a thread runs only the scheduler, for microseconds. So a slot is busy from a
//! poll's start until the next park: the watchdog reads the slots every 50 ms, and a busy
//! slot whose sequence number stays the same for a second holds a poll that does not
//! return; a runtime thread whose sequence number does not move at all has polled
//! nothing. (One way out of polling marks nothing: a multi-thread worker that hands its
//! worker to another thread in `block_in_place` goes back to the blocking pool when its
//! poll ends. The watchdog therefore watches only threads that run a worker now, see
//! `stall`.)

use crate::stacks::{self, Tid};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

/// The "task" id of the scenario's own future, which `block_on` polls and which is not
/// a spawned task (tokio's ids start at 1).
pub(crate) const SCENARIO: u64 = 0;

/// One thread's poll state. Written only by its own thread; read by the watchdog.
/// Aligned to its own cache lines, so two workers never share one.
#[repr(align(128))]
pub(crate) struct Slot {
    /// The OS thread, for CPU time and stack samples (Linux).
    pub tid: Option<Tid>,
    /// The same thread as tokio's metrics name a worker's.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub thread: ThreadId,
    /// Numbers threads in the order they first polled (or spawned).
    pub index: usize,
    run: AtomicU64,
    task: AtomicU64,
    /// Bumped at every poll's start.
    seq: AtomicU64,
    /// What `seq` was when the thread last stopped polling.
    idle_at: AtomicU64,
    /// False once the thread has exited.
    alive: AtomicBool,
}

/// A slot as read at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub run: u64,
    /// The task being polled (or [`SCENARIO`]), when `busy`. A poll nested in another
    /// (a `LocalSet`) leaves the inner task's id here until the thread parks.
    pub task: u64,
    /// A poll started and the thread has not stopped polling since.
    pub busy: bool,
    /// Bumped at every poll's start.
    pub seq: u64,
}

impl Slot {
    pub fn state(&self) -> State {
        let seq = self.seq.load(Ordering::Acquire);
        State {
            run: self.run.load(Ordering::Relaxed),
            task: self.task.load(Ordering::Relaxed),
            busy: self.idle_at.load(Ordering::Relaxed) != seq,
            seq,
        }
    }

    /// A poll starts: only what the watchdog reads, written by the one thread that owns
    /// the slot (so stores, never a locked read-modify-write).
    #[inline]
    fn enter(&self, run: u64, task: u64) {
        self.run.store(run, Ordering::Relaxed);
        self.task.store(task, Ordering::Relaxed);
        // One writer, so a load and a store, not a locked add. Release: a reader that
        // sees the new number sees the run and task written before it.
        self.seq.store(
            self.seq.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }

    /// The thread stops polling: nothing it started is under way any more.
    #[inline]
    fn idle(&self) {
        self.idle_at
            .store(self.seq.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Every slot of a thread that is still alive.
static SLOTS: Mutex<Vec<Arc<Slot>>> = Mutex::new(Vec::new());

/// This thread's slot, registered on first use; marked dead when the thread exits.
struct Mine(Arc<Slot>);

impl Mine {
    fn register() -> Mine {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let slot = Arc::new(Slot {
            tid: stacks::current_tid(),
            thread: std::thread::current().id(),
            index: NEXT.fetch_add(1, Ordering::Relaxed),
            run: AtomicU64::new(0),
            task: AtomicU64::new(SCENARIO),
            seq: AtomicU64::new(0),
            idle_at: AtomicU64::new(0),
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
        // Hooks that run later in this thread's exit find no slot, rather than a freed one.
        FAST.set(std::ptr::null());
        self.0.alive.store(false, Ordering::Relaxed);
    }
}

thread_local! {
    /// Owns this thread's slot (registers it on first use, and marks it dead at exit).
    static MINE: Mine = Mine::register();
    /// The same slot as a plain pointer, for the hooks: a `const` thread-local with no
    /// destructor is read without the lazy-init check `MINE` costs. Null until the
    /// thread's first hook registers the slot, and again once `MINE` has dropped.
    static FAST: Cell<*const Slot> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` on this thread's slot, registering it on first use; `None` once the thread
/// is exiting.
#[inline]
fn with_slot<R>(f: impl FnOnce(&Slot) -> R) -> Option<R> {
    let fast = FAST.get();
    if !fast.is_null() {
        // SAFETY: `FAST` points into the `Arc<Slot>` that `MINE` owns on this thread, and
        // `MINE` nulls it before dropping that `Arc`.
        return Some(f(unsafe { &*fast }));
    }
    with_slot_slow(f)
}

#[cold]
fn with_slot_slow<R>(f: impl FnOnce(&Slot) -> R) -> Option<R> {
    MINE.try_with(|mine| {
        FAST.set(Arc::as_ptr(&mine.0));
        f(&mine.0)
    })
    .ok()
}

/// A poll of `task` in run `run` starts on this thread (the before-poll hook).
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
#[inline]
pub(crate) fn enter(run: u64, task: u64) {
    let fast = FAST.get();
    if fast.is_null() {
        // The two numbers by value: the common path keeps them in registers.
        return enter_slow(run, task);
    }
    // SAFETY: as in `with_slot`.
    unsafe { &*fast }.enter(run, task);
}

#[cold]
#[inline(never)]
fn enter_slow(run: u64, task: u64) {
    with_slot_slow(|slot| slot.enter(run, task));
}

/// This thread is about to park: whatever it polled last has returned (the park hook).
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
#[inline]
pub(crate) fn park() {
    with_slot(Slot::idle);
}

/// Marks this thread busy with the scenario's own future until the guard drops, which
/// marks it idle, even if the scenario panics.
pub(crate) fn scenario(run: u64) -> ScenarioPoll {
    with_slot(|slot| slot.enter(run, SCENARIO));
    ScenarioPoll(())
}

pub(crate) struct ScenarioPoll(());

impl Drop for ScenarioPoll {
    fn drop(&mut self) {
        // `block_on` polls nothing else while the scenario's poll is under way, so when it
        // ends, this thread is between polls.
        park();
    }
}

/// This thread's slot (registering it), for the run to find its `block_on` thread.
pub(crate) fn mine() -> Option<Arc<Slot>> {
    MINE.try_with(|mine| mine.0.clone()).ok()
}

/// A small number that differs between threads: where this thread's hooks write in a
/// sharded record (see `tracker`).
#[inline]
pub(crate) fn thread_index() -> usize {
    with_slot(|slot| slot.index).unwrap_or(0)
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
