//! The hospital's records service, where every patient's chart lives.
//!
//! It always answers, and always slowly: a fetch takes the same time whoever asks and
//! however many ask at once, so a ward keeps a cache of the charts it has fetched. What
//! the service counts is what a cache's lock does to it: how many fetches were in
//! flight at once, and from which line of the lab each one was asked for.
//!
//! Two halves, as for every service: [`RecordsService`] is what a lab calls;
//! [`ChartArchive`] belongs to the scenario, which sets the fetch time and reads the
//! fetches back.

use std::future::Future;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// A patient's chart, as the records service sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chart {
    pub patient: u32,
    pub summary: String,
}

impl Chart {
    /// The chart the records service holds for `patient`.
    pub fn of(patient: u32) -> Chart {
        Chart {
            patient,
            summary: format!("patient {patient}: allergies none known, last seen on ward 4"),
        }
    }
}

/// The records service as a lab sees it: one slow call.
#[derive(Clone, Debug)]
pub struct RecordsService {
    archive: Arc<Inner>,
}

impl RecordsService {
    /// Fetches the patient's chart. Slow (the scenario says how slow), but it always
    /// answers, and many fetches may be in flight at once.
    #[track_caller]
    pub fn fetch_chart(&self, patient: u32) -> impl Future<Output = Chart> + Send + 'static {
        let asked_at = Location::caller();
        let archive = self.archive.clone();
        async move {
            let index = {
                let mut state = lock(&archive.state);
                state.in_flight += 1;
                state.most_in_flight = state.most_in_flight.max(state.in_flight);
                state.fetches.push(Fetch {
                    patient,
                    started: Instant::now(),
                    ended: None,
                    asked_at,
                });
                state.fetches.len() - 1
            };
            // Counted out again however the fetch ends, even if the caller drops it.
            let _out = InFlight(&archive);
            tokio::time::sleep(archive.fetch_time).await;
            lock(&archive.state).fetches[index].ended = Some(Instant::now());
            Chart::of(patient)
        }
    }
}

/// One fetch: when it began, and when it came back (`None`: still in flight, or
/// dropped by its caller).
#[derive(Clone, Copy, Debug)]
pub struct Fetch {
    pub patient: u32,
    pub started: Instant,
    pub ended: Option<Instant>,
    /// The line of the lab that asked for it.
    pub asked_at: &'static Location<'static>,
}

/// The records service as a scenario sees it: how slow a fetch is, and every fetch.
#[derive(Clone, Debug)]
pub struct ChartArchive {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fetch_time: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    fetches: Vec<Fetch>,
    in_flight: u32,
    most_in_flight: u32,
}

impl ChartArchive {
    /// A records service where every fetch takes `fetch_time`.
    pub fn new(fetch_time: Duration) -> Self {
        let inner = Inner {
            fetch_time,
            state: Mutex::default(),
        };
        ChartArchive {
            inner: Arc::new(inner),
        }
    }

    /// The handle a lab fetches through.
    pub fn service(&self) -> RecordsService {
        RecordsService {
            archive: self.inner.clone(),
        }
    }

    /// How long one fetch takes.
    pub fn fetch_time(&self) -> Duration {
        self.inner.fetch_time
    }

    /// Every fetch asked for, in the order they began.
    pub fn fetches(&self) -> Vec<Fetch> {
        lock(&self.inner.state).fetches.clone()
    }

    /// The most fetches that were ever in flight at once.
    pub fn most_in_flight(&self) -> u32 {
        lock(&self.inner.state).most_in_flight
    }
}

/// Counts a fetch out of flight when it ends, however it ends.
struct InFlight<'a>(&'a Inner);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).in_flight -= 1;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
