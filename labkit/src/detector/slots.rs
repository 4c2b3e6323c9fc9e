//! What each runtime thread is polling right now, readable from the watchdog thread.
//!
//! The poll hooks run around every poll of every task, so they must cost next to
//! nothing: no lock, no system call, no allocation, no read-modify-write. Each OS thread
//! that polls gets one [`Slot`], registered the first time it polls (that is when its OS
//! thread id is read, once), and keeps a plain pointer to it in a thread-local that
//! needs no lazy-init check. A poll is then a handful of plain atomic loads and stores
//! into the thread's own slot: which run, which task, how deep, and a sequence number
//! bumped at every start and every end: under 30 instructions for the two hooks of a
//! poll. The watchdog reads the slots every 50 ms: a slot that stays busy with the
//! same sequence number for a second holds a poll that does not return, and a runtime
//! thread whose sequence number does not move at all has polled nothing.

use crate::stacks::{self, Tid};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The "task" id of the scenario's own future, which `block_on` polls and which is not
/// a spawned task (tokio's ids start at 1).
pub(crate) const SCENARIO: u64 = 0;

/// One thread's poll state. Written only by its own thread; read by the watchdog.
/// Aligned to its own cache lines, so two workers never share one.
#[repr(align(128))]
pub(crate) struct Slot {
    /// The OS thread, for CPU time and stack samples (Linux).
    pub tid: Option<Tid>,
    /// Numbers threads in the order they first polled (or spawned).
    pub index: usize,
    run: AtomicU64,
    task: AtomicU64,
    depth: AtomicU32,
    seq: AtomicU64,
    /// False once the thread has exited.
    alive: AtomicBool,
}

/// A slot as read at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub run: u64,
    /// The task being polled (or [`SCENARIO`]), when `depth > 0`. A poll nested in
    /// another (a `LocalSet`) leaves the inner task's id here until the outer one ends.
    pub task: u64,
    /// Polls under way on this thread: 0 between polls.
    pub depth: u32,
    /// Bumped at every poll's start and end.
    pub seq: u64,
}

impl Slot {
    pub fn state(&self) -> State {
        let seq = self.seq.load(Ordering::Acquire);
        State {
            run: self.run.load(Ordering::Relaxed),
            task: self.task.load(Ordering::Relaxed),
            depth: self.depth.load(Ordering::Relaxed),
            seq,
        }
    }

    #[inline]
    fn bump(&self) {
        // One writer (this slot's thread), so a load and a store, not a locked add.
        self.seq.store(
            self.seq.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Release,
        );
    }

    /// A poll starts: only what the watchdog reads, written by the one thread that owns
    /// the slot (so loads and stores, never a locked read-modify-write).
    #[inline]
    fn enter(&self, run: u64, task: u64) {
        let depth = self.depth.load(Ordering::Relaxed);
        self.run.store(run, Ordering::Relaxed);
        self.task.store(task, Ordering::Relaxed);
        self.depth.store(depth + 1, Ordering::Relaxed);
        self.bump();
    }

    /// A poll of the scenario starts; returns the state to put back when it ends.
    fn enter_saving(&self, run: u64, task: u64) -> State {
        let before = self.state();
        self.enter(run, task);
        before
    }

    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    #[inline]
    fn leave(&self) {
        let depth = self.depth.load(Ordering::Relaxed);
        self.depth.store(depth.saturating_sub(1), Ordering::Relaxed);
        self.bump();
    }

    fn restore(&self, before: State) {
        self.run.store(before.run, Ordering::Relaxed);
        self.task.store(before.task, Ordering::Relaxed);
        self.depth.store(before.depth, Ordering::Relaxed);
        self.bump();
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
            index: NEXT.fetch_add(1, Ordering::Relaxed),
            run: AtomicU64::new(0),
            task: AtomicU64::new(SCENARIO),
            depth: AtomicU32::new(0),
            seq: AtomicU64::new(0),
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
    with_slot(|slot| slot.enter(run, task));
}

/// The poll that started last on this thread ended (the after-poll hook).
#[cfg_attr(not(tokio_unstable), allow(dead_code))]
#[inline]
pub(crate) fn leave() {
    with_slot(Slot::leave);
}

/// Marks this thread busy with the scenario's own future until the guard drops, which
/// puts the slot back as it was, even if the scenario panics.
pub(crate) fn scenario(run: u64) -> Option<ScenarioPoll> {
    MINE.try_with(|mine| ScenarioPoll {
        before: mine.0.enter_saving(run, SCENARIO),
        slot: mine.0.clone(),
    })
    .ok()
}

pub(crate) struct ScenarioPoll {
    pub slot: Arc<Slot>,
    before: State,
}

impl Drop for ScenarioPoll {
    fn drop(&mut self) {
        self.slot.restore(self.before);
    }
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
