//! One run's record of its tasks, and the list of runs now live.
//!
//! A [`Tracker`] belongs to one [`Detector::run`](super::Detector::run): the runtime's
//! spawn and terminate hooks write into it, `alive_now` and the outcome read it, and the
//! watchdog finds it through the list of live runs. Nothing is global but that list, so
//! two detectors can run at once in one process (two tests on two threads) and each
//! sees only its own tasks.
//!
//! Spawn and terminate take a lock, but a cheap one, and append to a log: no hashing,
//! no search. The logs are split over 16 shards by thread, each on cache lines of its
//! own, so a multi-thread runtime's workers seldom meet on one, or on its line. A spawn keeps its location as tokio hands it
//! (`&'static Location`); files are named, and the logs merged into records, only when
//! someone reads them.

use super::TaskRecord;
use super::slots::{self, Slot};
use crate::paths;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

const SHARDS: usize = 16;

/// What the hooks wrote on the threads of one shard: two append-only logs.
#[derive(Default)]
struct Shard {
    spawned: Log<Spawned>,
    /// (task id, nanoseconds since the start)
    ended: Log<(u64, u64)>,
}

/// An append-only log in chunks that never move: a `Vec` that doubles as it grows
/// copies every entry it holds and frees the old block, which cost the hooks about as
/// much as the rest of their work. Chunks start small (a test logs a few tasks) and
/// grow to a fixed size.
struct Log<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Log<T> {
    const LARGEST_CHUNK: usize = 4096;

    #[inline]
    fn push(&mut self, entry: T) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < chunk.capacity() => chunk.push(entry),
            _ => self.push_to_new_chunk(entry),
        }
        self.len += 1;
    }

    #[cold]
    fn push_to_new_chunk(&mut self, entry: T) {
        let capacity = self.len.clamp(16, Self::LARGEST_CHUNK);
        let mut chunk = Vec::with_capacity(capacity);
        chunk.push(entry);
        self.chunks.push(chunk);
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// A shard aligned to its own cache lines: a worker appending to its shard must not
/// take the line from the thread next door appending to the next one.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

struct Spawned {
    id: u64,
    at: Option<&'static Location<'static>>,
    /// Nanoseconds since the start.
    when: u64,
}

pub(crate) struct Tracker {
    /// This run, as the poll hook writes it into the slots.
    pub id: u64,
    /// The paused current-thread flavour, the one where an idle runtime is a hang.
    pub paused: bool,
    shards: [Padded; SHARDS],
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
            shards: std::array::from_fn(|_| Padded(Mutex::new(Shard::default()))),
            clock: Clock::default(),
            stopped: AtomicBool::new(false),
            handle: Mutex::new(None),
            main: OnceLock::new(),
            dump_request: tokio::sync::Notify::new(),
            dump_reply: Mutex::new(None),
        })
    }

    /// The calling thread's shard: on the current-thread runtime every hook writes to
    /// one, in order; on a multi-thread one, each worker mostly to its own.
    fn shard(&self) -> MutexGuard<'_, Shard> {
        lock(&self.shards[slots::thread_index() % SHARDS].0)
    }

    /// Starts the clock; called from inside the runtime, before the scenario runs.
    pub fn start(&self) {
        self.clock.start(self.paused);
    }

    /// Re-reads the virtual clock; called where it may have moved (see [`Clock`]).
    pub fn tick(&self) {
        if self.paused {
            self.clock.tick();
        }
    }

    pub fn attach(&self, handle: tokio::runtime::Handle) {
        *lock(&self.handle) = Some(handle);
    }

    pub fn handle(&self) -> Option<tokio::runtime::Handle> {
        lock(&self.handle).clone()
    }

    /// The run is over: hooks ignore what the runtime's shutdown does from now on.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        lock(&self.handle).take();
        lock(&self.dump_reply).take();
    }

    pub fn live(&self) -> bool {
        !self.stopped.load(Ordering::Relaxed)
    }

    /// The spawn hook.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub fn spawned(&self, id: u64, at: Option<&'static Location<'static>>) {
        if self.live() {
            let when = self.clock.nanos();
            self.shard().spawned.push(Spawned { id, at, when });
        }
    }

    /// The terminate hook.
    #[cfg_attr(not(tokio_unstable), allow(dead_code))]
    pub fn ended(&self, id: u64) {
        if self.live() {
            let when = self.clock.nanos();
            self.shard().ended.push((id, when));
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

    /// How many tasks were spawned and have not ended, counted without building a
    /// record or a set: the settle window asks every millisecond, and with a million
    /// tasks logged, [`Tracker::alive`] each time would make the settle quadratic.
    /// (Both logs are kept only while the run is live, so every ended task was logged
    /// as spawned.)
    pub fn alive_count(&self) -> usize {
        let (mut spawned, mut ended) = (0, 0);
        for shard in &self.shards {
            let shard = lock(&shard.0);
            spawned += shard.spawned.len();
            ended += shard.ended.len();
        }
        spawned.saturating_sub(ended)
    }

    /// One task's record.
    pub fn record(&self, id: u64) -> Option<TaskRecord> {
        self.collect(|task| task == id, false).pop()
    }

    /// The records of the tasks `wanted` picks (of those still alive, if `alive_only`),
    /// merged from every shard's logs.
    ///
    /// Both logs are sorted by task id and walked side by side, rather than the ends
    /// looked up in a hash map: with a million tasks, a map's random reads miss the
    /// cache on nearly every task, while two sorted walks read memory in order, so the
    /// merge stays linear in practice (the sorts are of plain integers, and the
    /// spawn log of each thread is in id order already).
    fn collect(&self, wanted: impl Fn(u64) -> bool, alive_only: bool) -> Vec<TaskRecord> {
        let mut ended: Vec<(u64, u64)> = Vec::new();
        let mut spawned = Vec::new();
        for shard in &self.shards {
            let shard = lock(&shard.0);
            ended.extend(shard.ended.iter().copied().filter(|(id, _)| wanted(*id)));
            spawned.extend(
                shard
                    .spawned
                    .iter()
                    .filter(|s| wanted(s.id))
                    .map(|s| (s.id, s.at, s.when)),
            );
        }
        spawned.sort_unstable_by_key(|(id, _, _)| *id);
        ended.sort_unstable_by_key(|(id, _)| *id);
        let mut ends = ended.into_iter().peekable();
        let mut files: HashMap<*const Location<'static>, String> = HashMap::new();
        let mut records = Vec::new();
        for (id, at, when) in spawned {
            while ends.next_if(|(end, _)| *end < id).is_some() {}
            let ended_at = ends.next_if(|(end, _)| *end == id).map(|(_, when)| when);
            if alive_only && ended_at.is_some() {
                continue;
            }
            records.push(TaskRecord {
                id,
                file: at.map(|at| {
                    files
                        .entry(at as *const _)
                        .or_insert_with(|| paths::normalize(at.file()))
                        .clone()
                }),
                line: at.map_or(0, |at| at.line()),
                spawned_at: Duration::from_nanos(when),
                ended_at: ended_at.map(Duration::from_nanos),
                stack: None,
            });
        }
        records
    }
}

/// Runtime time since the scenario started, readable in a hook without asking tokio.
///
/// On the real clock that is the system's coarse monotonic clock (see [`real_now`]),
/// to the millisecond or so: plenty to say when a task was spawned and when it ended,
/// and a fraction of the cost of a precise reading on every spawn. The paused clock is
/// tokio's, and reading it means finding the runtime's handle and locking its clock:
/// too much for every spawn. But a paused clock only moves while the runtime parks (it
/// jumps to the next timer), so it is read once per unpark (the unpark hook) and once
/// per poll of the scenario, and hooks read the copy. Only a `tokio::time::advance`
/// inside a task is missed until the next park.
#[derive(Default)]
struct Clock {
    paused: AtomicBool,
    /// [`real_now`] at the start.
    real: OnceLock<u64>,
    virtual_origin: OnceLock<tokio::time::Instant>,
    /// Nanoseconds of virtual time since the origin, as last read.
    virtual_now: AtomicU64,
}

impl Clock {
    fn start(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
        let _ = self.real.set(real_now());
        let _ = self.virtual_origin.set(tokio::time::Instant::now());
    }

    fn tick(&self) {
        if let Some(origin) = self.virtual_origin.get() {
            let since = tokio::time::Instant::now().saturating_duration_since(*origin);
            self.virtual_now
                .store(since.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
        }
    }

    /// Nanoseconds since the start.
    fn nanos(&self) -> u64 {
        if self.paused.load(Ordering::Relaxed) {
            self.virtual_now.load(Ordering::Relaxed)
        } else {
            self.real
                .get()
                .map_or(0, |origin| real_now().saturating_sub(*origin))
        }
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
}
