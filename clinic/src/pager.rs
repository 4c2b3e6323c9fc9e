//! The paging network that reaches the on-call doctor, and its table of pages that
//! wait for an acknowledgement.
//!
//! A page goes out with an id; the doctor's acknowledgement comes back later, on the
//! network's own schedule, carrying that id. The network routes it through the
//! [`PendingAcks`] table: whoever is waiting for page 7 put a `oneshot::Sender` in the
//! table under 7, and the network takes it out and sends the acknowledgement. An entry
//! that nobody answers and nobody removes stays in the table for good.
//!
//! Two halves, as for every service: [`Pager`] and [`PendingAcks`] are what a lab calls;
//! [`PagingNetwork`] belongs to the scenario, which decides when (or whether) each
//! doctor answers, runs the network ([`PagingNetwork::serve`]), and reads what is left
//! in the table.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

/// The id a page goes out with; its acknowledgement comes back with the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageId(pub u64);

/// A doctor's answer to a page: "seen, on my way".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub page: PageId,
    pub patient: u32,
}

/// The pager as a lab sees it: send a page, and the table its answers are routed by.
#[derive(Clone, Debug)]
pub struct Pager {
    network: Arc<Network>,
}

impl Pager {
    /// Pages the on-call doctor about `patient`. The acknowledgement, if the doctor
    /// sends one, is routed later to the sender filed under the returned id in
    /// [`Pager::pending`].
    pub fn send_page(&self, patient: u32) -> PageId {
        let network = &self.network;
        let mut state = lock(&network.state);
        state.sent += 1;
        let page = PageId(state.sent);
        state.patients.insert(page, patient);
        let answer_after = network.answer_after.get(&patient).copied().flatten();
        if let Some(after) = answer_after {
            state.due.push((Instant::now() + after, page, patient));
        }
        drop(state);
        network.new_page.notify_one();
        page
    }

    /// The table of pages waiting for an acknowledgement.
    pub fn pending(&self) -> PendingAcks {
        PendingAcks {
            network: self.network.clone(),
        }
    }
}

/// The pending-acknowledgements table: page id to the sender its answer goes to.
#[derive(Clone, Debug)]
pub struct PendingAcks {
    network: Arc<Network>,
}

impl PendingAcks {
    /// Files `reply` under `page`: the network sends the page's acknowledgement to it.
    #[track_caller]
    pub fn insert(&self, page: PageId, reply: oneshot::Sender<Ack>) {
        let entry = Entry {
            reply,
            inserted_at: Location::caller(),
        };
        lock(&self.network.state).pending.insert(page, entry);
    }

    /// Takes the entry for `page` out of the table, if it is still there.
    pub fn remove(&self, page: PageId) -> Option<oneshot::Sender<Ack>> {
        let entry = lock(&self.network.state).pending.remove(&page)?;
        Some(entry.reply)
    }
}

/// The paging network as a scenario sees it: who answers when, and what is left.
#[derive(Clone, Debug)]
pub struct PagingNetwork {
    network: Arc<Network>,
}

/// An entry still in the table: which page, for whom, and the line that filed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    pub page: PageId,
    pub patient: u32,
    /// The lab's line that called [`PendingAcks::insert`], as the compiler names it.
    pub file: &'static str,
    pub line: u32,
}

#[derive(Debug)]
struct Network {
    answer_after: HashMap<u32, Option<Duration>>,
    state: Mutex<State>,
    new_page: Notify,
}

#[derive(Debug, Default)]
struct State {
    sent: u64,
    /// Acknowledgements on their way: when each arrives, for which page and patient.
    due: Vec<(Instant, PageId, u32)>,
    pending: BTreeMap<PageId, Entry>,
    /// Pages whose acknowledgement arrived, and whether a sender took it.
    arrived: BTreeMap<PageId, bool>,
    /// Which patient each page was about.
    patients: HashMap<PageId, u32>,
}

#[derive(Debug)]
struct Entry {
    reply: oneshot::Sender<Ack>,
    inserted_at: &'static Location<'static>,
}

impl PagingNetwork {
    /// A network on which the doctor answers a page about each patient after the given
    /// time, or never (`None`, or a patient not listed).
    pub fn answering(answer_after: impl IntoIterator<Item = (u32, Option<Duration>)>) -> Self {
        let network = Network {
            answer_after: answer_after.into_iter().collect(),
            state: Mutex::default(),
            new_page: Notify::new(),
        };
        PagingNetwork {
            network: Arc::new(network),
        }
    }

    /// The handle a lab pages through.
    pub fn pager(&self) -> Pager {
        Pager {
            network: self.network.clone(),
        }
    }

    /// Delivers each acknowledgement when it falls due: takes the page's entry out of
    /// the table and sends on it. Runs until dropped; race it against the scenario.
    pub async fn serve(&self) -> Infallible {
        let network = &self.network;
        loop {
            let next = {
                let mut state = lock(&network.state);
                let now = Instant::now();
                let (ready, later) = state.due.drain(..).partition(|(at, ..)| *at <= now);
                state.due = later;
                for (_, page, patient) in ready {
                    let taken = match state.pending.remove(&page) {
                        Some(entry) => entry.reply.send(Ack { page, patient }).is_ok(),
                        None => false,
                    };
                    state.arrived.insert(page, taken);
                }
                state.due.iter().map(|(at, ..)| *at).min()
            };
            match next {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = network.new_page.notified() => {}
                    }
                }
                None => network.new_page.notified().await,
            }
        }
    }

    /// How many pages went out.
    pub fn pages_sent(&self) -> u64 {
        lock(&self.network.state).sent
    }

    /// The acknowledgements that arrived so far: page, and whether a waiting sender
    /// took it (`false`: nobody was waiting any more).
    pub fn arrived(&self) -> BTreeMap<PageId, bool> {
        lock(&self.network.state).arrived.clone()
    }

    /// The entries still in the table, in page order.
    pub fn entries(&self) -> Vec<PendingEntry> {
        let state = lock(&self.network.state);
        state
            .pending
            .iter()
            .map(|(&page, entry)| PendingEntry {
                page,
                patient: state.patients.get(&page).copied().unwrap_or_default(),
                file: entry.inserted_at.file(),
                line: entry.inserted_at.line(),
            })
            .collect()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
