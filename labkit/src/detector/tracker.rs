//! One run's record of its tasks, and the list of runs now live.
//!
//! A [`Tracker`] belongs to one [`Detector::run`](super::Detector::run): the runtime's
//! spawn and terminate hooks write into it, `alive_now` and the outcome read it, and the
//! watchdog finds it through the list of live runs. Nothing is global but that list, so
//! two detectors can run at once in one process (two tests on two threads) and each
//! sees only its own tasks.
//!
//! Spawn and terminate take a lock, but a cheap one, and append to a log: no hashing,
//! no search. The logs are split over 16 shards by thread, so a multi-thread runtime's
//! workers seldom meet on one. A spawn keeps its location as tokio hands it
//! (`&'static Location`); files are named, and the logs merged into records, only when
//! someone reads them.

use super::TaskRecord;
use super::slots::{self, Slot};
use crate::paths;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

const SHARDS: usize = 16;

/// What the hooks wrote on the threads of one shard: two append-only logs.
#[derive(Default)]
struct Shard {
    spawned: Vec<Spawned>,
    /// (task id, nanoseconds since the start)
    ended: Vec<(u64, u64)>,
}

struct Spawned {
    id: u64,
    at: Option<&'static Location<'static>>,
    /// Nanoseconds since the start.
    when: u64,
}

pub(crate) struct Tracker {
    /// This run, as the poll hooks write it into the slots.
    pub id: u64,
    /// The paused current-thread flavour, the one where an idle runtime is a hang.
    pub paused: bool,
    shards: [Mutex<Shard>; SHARDS],
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
            shards: std::array::from_fn(|_| Mutex::new(Shard::default())),
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
        lock(&self.shards[slots::thread_index() % SHARDS])
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
        self.collect(|_| true)
    }

    /// The tasks not ended yet. Only their records are built: a scenario that calls
    /// `alive_now` around each of a thousand requests must not rebuild every record
    /// ever spawned each time.
    pub fn alive(&self) -> Vec<TaskRecord> {
        let mut ended: std::collections::HashSet<u64, BuildHasherDefault<IdHasher>> = Default::default();
        for shard in &self.shards {
            ended.extend(lock(shard).ended.iter().map(|(id, _)| *id));
        }
        self.collect(|id| !ended.contains(&id))
    }

    /// One task's record.
    pub fn record(&self, id: u64) -> Option<TaskRecord> {
        self.collect(|task| task == id).pop()
    }

    /// The records of the tasks `wanted` picks, merged from every shard's logs.
    fn collect(&self, wanted: impl Fn(u64) -> bool) -> Vec<TaskRecord> {
        let mut ended: HashMap<u64, u64, BuildHasherDefault<IdHasher>> = HashMap::default();
        let mut spawned = Vec::new();
        for shard in &self.shards {
            let shard = lock(shard);
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
        let mut files: HashMap<*const Location<'static>, String> = HashMap::new();
        spawned
            .into_iter()
            .map(|(id, at, when)| TaskRecord {
                id,
                file: at.map(|at| {
                    files
                        .entry(at as *const _)
                        .or_insert_with(|| paths::normalize(at.file()))
                        .clone()
                }),
                line: at.map_or(0, |at| at.line()),
                spawned_at: Duration::from_nanos(when),
                ended_at: ended.get(&id).map(|&when| Duration::from_nanos(when)),
                stack: None,
            })
            .collect()
    }
}

/// Runtime time since the scenario started, readable in a hook without asking tokio.
///
/// On the real clock that is `std::time::Instant` (a vDSO call). The paused clock is
/// tokio's, and reading it means finding the runtime's handle and locking its clock:
/// too much for every spawn. But a paused clock only moves while the runtime parks (it
/// jumps to the next timer), so it is read once per unpark (the unpark hook) and once
/// per poll of the scenario, and hooks read the copy. Only a `tokio::time::advance`
/// inside a task is missed until the next park.
#[derive(Default)]
struct Clock {
    paused: AtomicBool,
    real: OnceLock<std::time::Instant>,
    virtual_origin: OnceLock<tokio::time::Instant>,
    /// Nanoseconds of virtual time since the origin, as last read.
    virtual_now: AtomicU64,
}

impl Clock {
    fn start(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
        let _ = self.real.set(std::time::Instant::now());
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
            self.real.get().map_or(0, |origin| {
                origin.elapsed().as_nanos().min(u64::MAX as u128) as u64
            })
        }
    }
}

/// Task ids are unique integers already: spread them, do not hash them.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
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
