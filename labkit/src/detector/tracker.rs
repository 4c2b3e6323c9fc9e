//! One run's record of its tasks, and the list of runs now live.
//!
//! A [`Tracker`] belongs to one [`Detector::run`](super::Detector::run): the runtime's
//! spawn and terminate hooks write into it, `alive_now` and the outcome read it, and the
//! watchdog finds it through the list of live runs. Nothing is global but that list, so
//! two detectors can run at once in one process (two tests on two threads) and each
//! sees only its own tasks.
//!
//! The hooks run for every task, so they must cost next to nothing beside tokio's own
//! spawn and join: no lock, no locked read-modify-write, no search and no allocation,
//! but on a rare path (a run's first task, the first of each page). Tokio numbers its
//! tasks from one counter for the whole process, so a run's ids are nearly consecutive,
//! and a task's id can say where its line is: the table is indexed by the id less the
//! run's first, its spawn hook stores the spawn location and time there and its
//! terminate hook the end time, each with a plain store (no two hooks write one field).
//! Ids that went to another run at the same time leave empty lines; a reader skips
//! them. An id the table has no place for (a worker's hook coming in late for an id
//! below the run's first, or one too far past it) is logged aside, under a lock, and
//! merged in when someone reads.
//!
//! Reading the table is a walk over it, in id order, which is also spawn order: fine for
//! the outcome and `alive_now`. The settle window, which asks every millisecond whether
//! anything is alive, asks the runtime's own count instead (`num_alive_tasks`): a task's
//! terminate hook runs before the runtime stops counting it, so that count is never
//! below the table's, and the hooks need keep no count of their own. A spawn keeps its
//! location as tokio hands it (`&'static Location`); files are named only when someone
//! reads.

use super::TaskRecord;
use super::slots::Slot;
use crate::paths;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

/// One task's line in the table. Its spawn hook writes the first two fields and its
/// terminate hook the third, each with a plain store. Times are kept plus one, so that
/// 0 says "not yet" (the clock never reads `u64::MAX`: see [`Clock`]). Pages of them
/// are allocated zeroed, which is every entry's "not yet".
struct Entry {
    /// Where it was spawned (null for unknown); only ever a `&'static Location`.
    at: AtomicPtr<Location<'static>>,
    /// Nanoseconds since the start, plus one, when it was spawned; 0 if it was not (a
    /// gap: that id went to another runtime), or not yet.
    spawned: AtomicU64,
    /// The same for its end.
    ended: AtomicU64,
}

impl Entry {
    #[inline]
    fn spawn(&self, at: Option<&'static Location<'static>>, when: u64) {
        let at = at.map_or(std::ptr::null_mut(), |at| std::ptr::from_ref(at).cast_mut());
        self.at.store(at, Ordering::Relaxed);
        // Release: whoever sees the spawn time sees the location too.
        self.spawned.store(when.wrapping_add(1), Ordering::Release);
    }

    #[inline]
    fn end(&self, when: u64) {
        self.ended.store(when.wrapping_add(1), Ordering::Release);
    }

    /// (location, spawned, ended) in nanoseconds, if the task was spawned.
    fn read(&self) -> Option<Spawned> {
        let spawned = self.spawned.load(Ordering::Acquire).checked_sub(1)?;
        // SAFETY: `at` is null or was stored from a `&'static Location` (see `spawn`),
        // and the acquire above makes that store visible.
        let at = unsafe { self.at.load(Ordering::Relaxed).as_ref() };
        let ended = self.ended.load(Ordering::Acquire).checked_sub(1);
        Some(Spawned {
            at,
            when: spawned,
            ended,
        })
    }
}

/// What the hooks wrote about one task.
struct Spawned {
    at: Option<&'static Location<'static>>,
    /// Nanoseconds since the start.
    when: u64,
    ended: Option<u64>,
}

/// Entries to a page: a page is made when the first id of its range reaches a hook.
/// Large (384 KiB), so that few are made: glibc tidies its free lists before each
/// allocation this large, and usually maps one afresh, already zero, so that a short run
/// pays only for the few kilobytes it writes.
const PAGE: usize = 16 * 1024;
/// Pages in a table: room for 16 million tasks a run.
const PAGES: usize = 1024;
const CAPACITY: u64 = (PAGE * PAGES) as u64;
/// The base for an id that nothing may be written at yet (before the first hook) or any
/// more (after the run stopped): every id is then out of range.
const UNSET: u64 = 1 << 63;
/// How far below the first id the hooks see the base is put: on worker threads, a task
/// given a smaller id may reach its hook a moment later.
const SLACK: u64 = 64;

type Page = [Entry; PAGE];

/// Every task of the run, at the index of its id less a base (the first id the hooks
/// saw, less [`SLACK`]).
///
/// The entries live in pages that never move, made as the ids reach them; a page is a
/// `OnceLock`, so the thread that first needs one makes it and every other thread finds
/// it with a load.
struct Table {
    /// The base, for readers.
    base: AtomicU64,
    /// The base, for the hooks: [`UNSET`] until the first page is made and after the
    /// run stops, so that a hook's only check is that its id is in range.
    writable: AtomicU64,
    pages: Box<[OnceLock<Box<Page>>; PAGES]>,
}

impl Default for Table {
    fn default() -> Self {
        let pages: Box<[OnceLock<Box<Page>>]> = (0..PAGES).map(|_| OnceLock::new()).collect();
        Table {
            base: AtomicU64::new(UNSET),
            writable: AtomicU64::new(UNSET),
            pages: pages.try_into().unwrap_or_else(|_| unreachable!("PAGES pages")),
        }
    }
}

impl Table {
    /// The entry of `id`, if the hooks may write and its page exists.
    #[inline]
    fn get(&self, id: u64) -> Option<&Entry> {
        let index = id.wrapping_sub(self.writable.load(Ordering::Relaxed));
        self.at(index)
    }

    #[inline]
    fn at(&self, index: u64) -> Option<&Entry> {
        if index >= CAPACITY {
            return None;
        }
        let index = index as usize;
        let page = self.pages[index / PAGE].get()?;
        Some(&page[index % PAGE])
    }

    /// The entry of `id`, setting the base on the first call and making its page if
    /// need be; `None` for an id the table has no place for. Called under the strays'
    /// lock, as [`Table::stop`] is.
    #[cold]
    fn make(&self, id: u64) -> Option<&Entry> {
        let mut base = self.base.load(Ordering::Relaxed);
        if base == UNSET {
            base = id.saturating_sub(SLACK).max(1);
            self.base.store(base, Ordering::Relaxed);
        }
        let index = id.wrapping_sub(base);
        if index >= CAPACITY {
            return None;
        }
        let index = index as usize;
        let page = self.pages[index / PAGE].get_or_init(|| {
            // Zeroed rather than filled: a large allocation comes from the system already
            // zero, so a page costs nothing until its entries are written.
            let layout = std::alloc::Layout::new::<Page>();
            // SAFETY: the layout is a page's, not zero-sized; an entry is a pointer and
            // two integers, all atomics, and all-zero bytes are a valid value of each
            // (null, 0, 0); and a box frees with the global allocator, as allocated.
            unsafe {
                let page = std::alloc::alloc_zeroed(layout).cast::<Page>();
                if page.is_null() {
                    std::alloc::handle_alloc_error(layout);
                }
                Box::from_raw(page)
            }
        });
        self.writable.store(base, Ordering::Relaxed);
        Some(&page[index % PAGE])
    }

    /// Hooks write no more; called under the strays' lock, as [`Table::make`] is.
    fn stop(&self) {
        self.writable.store(UNSET, Ordering::Relaxed);
    }

    /// Every spawned task (of the ids `wanted` picks), in id order.
    fn each(&self, wanted: impl Fn(u64) -> bool, mut found: impl FnMut(u64, Spawned)) {
        let base = self.base.load(Ordering::Relaxed);
        if base == UNSET {
            return;
        }
        for (first, page) in (base..).step_by(PAGE).zip(self.pages.iter()) {
            let Some(page) = page.get() else { continue };
            for (id, entry) in (first..).zip(page.iter()) {
                if wanted(id) {
                    if let Some(task) = entry.read() {
                        found(id, task);
                    }
                }
            }
        }
    }
}

/// The tasks whose ids fall outside the table: spawned before the base (a worker
/// thread's late hook) or very far past it. Logged under a lock, as the table is not.
#[derive(Default)]
struct Strays {
    /// (task id, location, nanoseconds since the start)
    spawned: Vec<(u64, Option<&'static Location<'static>>, u64)>,
    /// (task id, nanoseconds since the start)
    ended: Vec<(u64, u64)>,
}

pub(crate) struct Tracker {
    /// This run, as the thread hooks write it into the slots.
    pub id: u64,
    /// The paused current-thread flavour, the one where an idle runtime is a hang.
    pub paused: bool,
    table: Table,
    strays: Mutex<Strays>,
    clock: Clock,
    stopped: AtomicBool,
    /// The runtime, for its metrics (dropped when the run stops: the runtime holds the
    /// hooks, which hold the tracker).
    handle: Mutex<Option<tokio::runtime::Handle>>,
    /// The thread that runs `block_on`, once the scenario was first polled.
    pub main: OnceLock<Arc<Slot>>,
    /// The watchdog's way into a hung runtime, see `runtime::watched`.
    pub dump_request: tokio::sync::Notify,
    pub dump_reply: Mutex<Option<std::sync::mpsc::Sender<super::dump::HangDump>>>,
}

impl Tracker {
    pub fn new(paused: bool) -> Arc<Tracker> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Arc::new(Tracker {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            paused,
            table: Table::default(),
            strays: Mutex::default(),
            clock: Clock::default(),
            stopped: AtomicBool::new(false),
            handle: Mutex::new(None),
            main: OnceLock::new(),
            dump_request: tokio::sync::Notify::new(),
            dump_reply: Mutex::new(None),
        })
    }

    /// Starts the clock; called from inside the runtime, before the scenario runs.
    pub fn start(&self) {
        self.clock.start(self.paused);
    }

    /// Refreshes the hooks' copy of the clock; called where time may have moved (see
    /// [`Clock`]).
    pub fn tick(&self) {
        self.clock.tick();
    }

    pub fn attach(&self, handle: tokio::runtime::Handle) {
        *lock(&self.handle) = Some(handle);
    }

    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        lock(&self.handle).clone()
    }

    /// The run is over: hooks ignore what the runtime's shutdown does from now on.
    pub fn stop(&self) {
        let strays = lock(&self.strays);
        self.stopped.store(true, Ordering::SeqCst);
        self.table.stop();
        drop(strays);
        lock(&self.handle).take();
        lock(&self.dump_reply).take();
    }

    pub fn live(&self) -> bool {
        !self.stopped.load(Ordering::Relaxed)
    }

    /// The spawn hook: two stores in the task's entry.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    #[inline]
    pub fn spawned(&self, id: u64, at: Option<&'static Location<'static>>) {
        let when = self.clock.for_task(id);
        match self.table.get(id) {
            Some(entry) => entry.spawn(at, when),
            None => self.spawned_aside(id, at, when),
        }
    }

    /// A spawn whose entry is not there to write: the run's first, the first of a page,
    /// a stray, or one after the run stopped.
    #[cold]
    fn spawned_aside(&self, id: u64, at: Option<&'static Location<'static>>, when: u64) {
        let mut strays = lock(&self.strays);
        if !self.live() {
            return;
        }
        match self.table.make(id) {
            Some(entry) => entry.spawn(at, when),
            None => strays.spawned.push((id, at, when)),
        }
    }

    /// The terminate hook.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    #[inline]
    pub fn ended(&self, id: u64) {
        let when = self.clock.for_task(id);
        match self.table.get(id) {
            Some(entry) => entry.end(when),
            None => self.ended_aside(id, when),
        }
    }

    #[cold]
    fn ended_aside(&self, id: u64, when: u64) {
        let mut strays = lock(&self.strays);
        if !self.live() {
            return;
        }
        match self.table.make(id) {
            Some(entry) => entry.end(when),
            None => strays.ended.push((id, when)),
        }
    }

    /// The run's clock as the hooks last read it, in nanoseconds since the start.
    pub fn clock_nanos(&self) -> u64 {
        self.clock.nanos()
    }

    /// Every task spawned so far, in spawn order (tokio's ids grow with each spawn).
    pub fn records(&self) -> Vec<TaskRecord> {
        self.collect(|_| true, false)
    }

    /// The tasks not ended yet. Only their records are built: a scenario that calls
    /// `alive_now` around each of a thousand requests must not rebuild every record
    /// ever spawned each time.
    pub fn alive(&self) -> Vec<TaskRecord> {
        self.collect(|_| true, true)
    }

    /// How many tasks were spawned and have not ended (a walk over the table, for tests).
    #[cfg(test)]
    pub fn alive_count(&self) -> usize {
        self.alive().len()
    }

    /// One task's record.
    pub fn record(&self, id: u64) -> Option<TaskRecord> {
        let base = self.table.base.load(Ordering::Relaxed);
        let task = match self.table.at(id.wrapping_sub(base)) {
            Some(entry) => entry.read(),
            None => self.stray(id),
        };
        task.map(|task| Self::to_record(id, task, &mut HashMap::new()))
    }

    fn stray(&self, id: u64) -> Option<Spawned> {
        let strays = lock(&self.strays);
        let &(_, at, when) = strays.spawned.iter().find(|(stray, _, _)| *stray == id)?;
        let ended = strays.ended.iter().find(|(stray, _)| *stray == id);
        Some(Spawned {
            at,
            when,
            ended: ended.map(|(_, when)| *when),
        })
    }

    /// The records of the tasks `wanted` picks (of those still alive, if `alive_only`):
    /// the table's in id order, then the strays' merged in.
    fn collect(&self, wanted: impl Fn(u64) -> bool, alive_only: bool) -> Vec<TaskRecord> {
        let mut files = HashMap::new();
        let mut records = Vec::new();
        let mut found = |id: u64, task: Spawned| {
            if !(alive_only && task.ended.is_some()) {
                records.push(Self::to_record(id, task, &mut files));
            }
        };
        self.table.each(&wanted, &mut found);
        let strays = lock(&self.strays);
        if strays.spawned.iter().any(|(id, _, _)| wanted(*id)) {
            let mut ended = strays.ended.clone();
            ended.sort_unstable();
            for &(id, at, when) in strays.spawned.iter().filter(|(id, _, _)| wanted(*id)) {
                let ended = ended
                    .binary_search_by_key(&id, |(id, _)| *id)
                    .ok()
                    .map(|i| ended[i].1);
                found(id, Spawned { at, when, ended });
            }
            records.sort_unstable_by_key(|r| r.id);
        }
        records
    }

    fn to_record(
        id: u64,
        task: Spawned,
        files: &mut HashMap<*const Location<'static>, String>,
    ) -> TaskRecord {
        let at = task.at;
        TaskRecord {
            id,
            file: at.map(|at| {
                files
                    .entry(std::ptr::from_ref(at))
                    .or_insert_with(|| paths::normalize(at.file()))
                    .clone()
            }),
            line: at.map_or(0, |at| at.line()),
            spawned_at: Duration::from_nanos(task.when),
            ended_at: task.ended.map(Duration::from_nanos),
            stack: None,
        }
    }
}

/// Runtime time since the scenario started, readable in a hook without asking tokio.
///
/// The hooks read a copy, one relaxed load, and the copy is refreshed where the time
/// may have moved: each unpark of a worker (the unpark hook), each poll of the
/// scenario, and, on the real clock, the spawn and the end of every 64th task (by id),
/// so that a runtime that spawns without ever parking keeps its copy within 64 tasks
/// of the time. Reading a clock on every spawn and every end was most of what the
/// hooks cost per task.
///
/// The real clock is the system's coarse monotonic clock (see [`real_now`]), to the
/// millisecond or so: plenty to say when a task was spawned and when it ended. The
/// paused clock is tokio's, and reading it means finding the runtime's handle and
/// locking its clock. A paused clock only moves while the runtime parks (it jumps to
/// the next timer), so the unpark refresh sees each jump; only a `tokio::time::advance`
/// inside a task is missed until the next one.
#[derive(Default)]
struct Clock {
    paused: AtomicBool,
    /// [`real_now`] at the start.
    real: OnceLock<u64>,
    virtual_origin: OnceLock<tokio::time::Instant>,
    /// Nanoseconds since the origin, as last read: never goes back, and never
    /// `u64::MAX` (the table keeps times plus one).
    now: AtomicU64,
}

impl Clock {
    /// Tasks by id between two readings of the real clock in the hooks.
    const REFRESH_EVERY: u64 = 64;

    fn start(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
        let _ = self.real.set(real_now());
        let _ = self.virtual_origin.set(tokio::time::Instant::now());
    }

    /// Refreshes the copy. Called inside the runtime: the paused clock is the
    /// runtime's own.
    fn tick(&self) {
        let since = if self.paused.load(Ordering::Relaxed) {
            let Some(origin) = self.virtual_origin.get() else {
                return;
            };
            let since = tokio::time::Instant::now().saturating_duration_since(*origin);
            since.as_nanos().min(u64::MAX as u128) as u64
        } else {
            let Some(origin) = self.real.get() else {
                return;
            };
            real_now().saturating_sub(*origin)
        };
        self.now.fetch_max(since.min(u64::MAX - 1), Ordering::Relaxed);
    }

    /// Nanoseconds since the start, for the hook of task `id`.
    #[inline]
    fn for_task(&self, id: u64) -> u64 {
        if id % Self::REFRESH_EVERY == 0 && !self.paused.load(Ordering::Relaxed) {
            self.tick();
        }
        self.nanos()
    }

    /// Nanoseconds since the start, as last read.
    fn nanos(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }
}

/// Nanoseconds of real time from some fixed origin, as cheaply as they can be read.
///
/// On Linux, `CLOCK_MONOTONIC_COARSE`: the time of the kernel's last tick, read from
/// memory the kernel shares with the process, so a few nanoseconds where a precise
/// reading (`Instant::now`) costs tens, twice per task (its spawn and its end). One
/// function of the C library, declared here rather than pulling in a crate for it.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn real_now() -> u64 {
    #[repr(C)]
    struct Timespec {
        secs: i64,
        nanos: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, now: *mut Timespec) -> i32;
    }
    const CLOCK_MONOTONIC_COARSE: i32 = 6;
    let mut now = Timespec { secs: 0, nanos: 0 };
    // SAFETY: `now` is a valid timespec for the call to write, and this clock exists
    // on every Linux since 2.6.32.
    if unsafe { clock_gettime(CLOCK_MONOTONIC_COARSE, &mut now) } != 0 {
        return precise_now();
    }
    (now.secs as u64).saturating_mul(1_000_000_000) + now.nanos as u64
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn real_now() -> u64 {
    precise_now()
}

/// Nanoseconds since this process first asked.
fn precise_now() -> u64 {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    let elapsed = ORIGIN.get_or_init(std::time::Instant::now).elapsed();
    elapsed.as_nanos().min(u64::MAX as u128) as u64
}

/// The runs now live, for the watchdog (and for `alive_now` outside the scenario).
static RUNS: Mutex<Vec<Weak<Tracker>>> = Mutex::new(Vec::new());

/// Lists a run as live until the returned guard drops (even by a panic), when the
/// run is stopped and unlisted.
pub(crate) fn register(tracker: &Arc<Tracker>) -> Registered {
    let mut runs = lock(&RUNS);
    runs.retain(|r| r.strong_count() > 0);
    runs.push(Arc::downgrade(tracker));
    Registered(tracker.clone())
}

pub(crate) struct Registered(Arc<Tracker>);

impl Drop for Registered {
    fn drop(&mut self) {
        self.0.stop();
        lock(&RUNS).retain(|r| r.strong_count() > 0 && !std::ptr::eq(r.as_ptr(), Arc::as_ptr(&self.0)));
    }
}

/// The runs now live.
pub(crate) fn live_runs() -> Vec<Arc<Tracker>> {
    lock(&RUNS)
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|t| t.live())
        .collect()
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tasks 1 to 6 spawned, spread over threads as a multi-thread runtime would, and
    /// ended out of spawn order: the merge pairs each end with its own spawn.
    fn tracker() -> Arc<Tracker> {
        let tracker = Tracker::new(false);
        let here = Location::caller();
        let (spawned, ended) = (tracker.clone(), tracker.clone());
        std::thread::spawn(move || {
            for id in [2, 4, 6] {
                spawned.spawned(id, Some(here));
            }
        })
        .join()
        .expect("a spawning thread");
        for id in [1, 3, 5] {
            tracker.spawned(id, None);
        }
        std::thread::spawn(move || {
            for id in [5, 2] {
                ended.ended(id);
            }
        })
        .join()
        .expect("an ending thread");
        tracker.ended(1);
        tracker
    }

    #[test]
    fn records_pair_every_end_with_its_spawn_whatever_the_order() {
        let records = tracker().records();
        let ids: Vec<u64> = records.iter().map(|r| r.id).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
        let ended: Vec<u64> = records
            .iter()
            .filter(|r| r.ended_at.is_some())
            .map(|r| r.id)
            .collect();
        assert_eq!(ended, [1, 2, 5]);
        assert!(records[1].file.is_some() && records[0].file.is_none());
    }

    #[test]
    fn the_alive_count_agrees_with_the_alive_records() {
        let tracker = tracker();
        let alive: Vec<u64> = tracker.alive().iter().map(|r| r.id).collect();
        assert_eq!(alive, [3, 4, 6]);
        assert_eq!(tracker.alive_count(), 3);
        assert_eq!(tracker.record(4).map(|r| r.ended_at), Some(None));
        assert!(tracker.record(5).and_then(|r| r.ended_at).is_some());
    }

    /// Two runs at once take turns at tokio's ids, so each run's table has gaps; and a
    /// worker's hook may come late, for an id below the run's first, or (in a long
    /// process) an id may lie past the table: those go aside, and are still answered.
    #[test]
    fn another_runs_ids_and_ids_out_of_the_table_are_kept_apart() {
        let (first, second) = (Tracker::new(false), Tracker::new(false));
        for id in 1000..1010 {
            let run = if id % 2 == 0 { &first } else { &second };
            run.spawned(id, None);
        }
        let (late, far) = (1000 - SLACK - 5, 1000 + CAPACITY);
        let here = Location::caller();
        let worker = first.clone();
        std::thread::spawn(move || {
            worker.spawned(late, Some(here));
            worker.spawned(far, None);
            worker.ended(1002);
        })
        .join()
        .expect("a worker thread");
        first.ended(late);
        second.ended(1001);

        let ids = |records: Vec<TaskRecord>| records.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(first.records()), [late, 1000, 1002, 1004, 1006, 1008, far]);
        assert_eq!(ids(first.alive()), [1000, 1004, 1006, 1008, far]);
        assert_eq!(first.alive_count(), 5);
        assert_eq!(ids(second.alive()), [1003, 1005, 1007, 1009]);
        assert_eq!(second.alive_count(), 4);
        let late = first.record(late).expect("the late task's record");
        assert!(late.ended_at.is_some() && late.file.is_some());
        assert_eq!(first.record(far).map(|r| r.ended_at), Some(None));
        assert!(second.record(1000).is_none() && first.record(1001).is_none());
    }

    /// After the run stops, the runtime's shutdown ends its tasks: that is not recorded.
    #[test]
    fn hooks_write_nothing_once_the_run_stopped() {
        let tracker = tracker();
        tracker.stop();
        tracker.ended(3);
        tracker.spawned(7, None);
        assert_eq!(tracker.alive_count(), 3);
        assert_eq!(tracker.record(3).map(|r| r.ended_at), Some(None));
        assert!(tracker.record(7).is_none());
    }
}
