//! The lab-results service behind the patient portal, and the laboratory it asks.
//!
//! The portal hands each patient's request to a handler as a [`ResultRequest`], with a
//! [`Reply`] to answer through; the handler asks the laboratory with
//! [`LabResults::fetch`]. That is all a lab sees. The [`Laboratory`] is the scenario's
//! half: it decides how long each patient's lookup takes (or that it never ends), makes
//! the portal's requests, and records what happened: how many lookups were in flight at
//! once, and when each request was answered, and with what.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The answer a patient gets when their results cannot be had in time: the portal
/// shows "try again in a few minutes".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unavailable;

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lab results are unavailable right now")
    }
}

impl std::error::Error for Unavailable {}

/// One patient's request for their latest results, as the portal hands it over.
#[derive(Debug)]
pub struct ResultRequest {
    pub patient: u32,
    pub reply: Reply,
}

/// Where the answer to one request goes: the patient's open page. A reply dropped
/// without an answer leaves the patient with a broken page, not an error message.
#[derive(Debug)]
pub struct Reply {
    /// `None` once the answer is sent.
    lab: Option<Arc<Inner>>,
    index: usize,
}

impl Reply {
    /// Answers the patient: their results, or that they are unavailable.
    pub fn send(mut self, answer: Result<String, Unavailable>) {
        let answer = match answer {
            Ok(_) => Answer::Results,
            Err(Unavailable) => Answer::Unavailable,
        };
        if let Some(lab) = self.lab.take() {
            lab.answered(self.index, answer);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(lab) = self.lab.take() {
            lab.answered(self.index, Answer::DroppedUnanswered);
        }
    }
}

/// The laboratory as a lab sees it: somewhere to look results up.
#[derive(Clone, Debug)]
pub struct LabResults {
    lab: Arc<Inner>,
}

impl LabResults {
    /// The patient's latest results. May take minutes, or never finish. The lookup is
    /// in flight from its first poll until it returns or is dropped (dropping it hangs
    /// up on the laboratory).
    pub async fn fetch(&self, patient: u32) -> String {
        let _in_flight = Call::start(&self.lab);
        match self.lab.lookup_time.get(&patient).copied().flatten() {
            Some(time) => tokio::time::sleep(time).await,
            None => std::future::pending().await,
        }
        format!("patient {patient}: potassium 4.1 mmol/L")
    }
}

/// How a request was answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Results,
    Unavailable,
    /// The reply was dropped without an answer.
    DroppedUnanswered,
}

/// One request, as the portal saw it.
#[derive(Clone, Copy, Debug)]
pub struct Sent {
    pub patient: u32,
    pub sent_at: Instant,
    /// When it was answered, and how; `None`: not yet.
    pub answered: Option<(Instant, Answer)>,
}

/// The lookups the laboratory saw.
#[derive(Clone, Copy, Debug, Default)]
pub struct Calls {
    pub started: u32,
    /// In flight right now: started and neither finished nor dropped.
    pub in_flight: u32,
    /// The most in flight at once, and when that was first reached.
    pub peak: u32,
    pub peak_at: Option<Instant>,
}

/// The laboratory as a scenario sees it: how long each lookup takes, the portal's
/// requests, and what became of them.
#[derive(Clone, Debug)]
pub struct Laboratory {
    lab: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    lookup_time: HashMap<u32, Option<Duration>>,
    calls: Mutex<Calls>,
    /// The id of the task each lookup was made from (`None`: from no task).
    callers: Mutex<Vec<Option<u64>>>,
    sent: Mutex<Vec<Sent>>,
}

impl Laboratory {
    /// A laboratory where looking up patient `id` takes `lookup_time[id]`, or never
    /// ends (`None`: the laboratory hangs on it).
    pub fn new(lookup_time: impl IntoIterator<Item = (u32, Option<Duration>)>) -> Self {
        let inner = Inner {
            lookup_time: lookup_time.into_iter().collect(),
            calls: Mutex::default(),
            callers: Mutex::default(),
            sent: Mutex::default(),
        };
        Laboratory { lab: Arc::new(inner) }
    }

    /// The handle a lab looks results up through.
    pub fn lab_results(&self) -> LabResults {
        LabResults {
            lab: self.lab.clone(),
        }
    }

    /// A request from the portal for `patient`'s results, sent now.
    pub fn request(&self, patient: u32) -> ResultRequest {
        let mut sent = lock(&self.lab.sent);
        sent.push(Sent {
            patient,
            sent_at: Instant::now(),
            answered: None,
        });
        let reply = Reply {
            lab: Some(self.lab.clone()),
            index: sent.len() - 1,
        };
        ResultRequest { patient, reply }
    }

    /// Every request so far, in the order they were sent.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.lab.sent).clone()
    }

    /// The lookups so far.
    pub fn calls(&self) -> Calls {
        *lock(&self.lab.calls)
    }

    /// The tokio task each lookup so far was made from, as the leak detector numbers
    /// tasks (`None`: made outside any task), in the order the lookups started.
    pub fn callers(&self) -> Vec<Option<u64>> {
        lock(&self.lab.callers).clone()
    }
}

impl Inner {
    fn answered(&self, index: usize, answer: Answer) {
        if let Some(sent) = lock(&self.sent).get_mut(index) {
            sent.answered.get_or_insert((Instant::now(), answer));
        }
    }
}

/// One lookup in flight, counted from its start until it is dropped.
struct Call<'a> {
    lab: &'a Inner,
}

impl<'a> Call<'a> {
    fn start(lab: &'a Inner) -> Self {
        let mut calls = lock(&lab.calls);
        calls.started += 1;
        calls.in_flight += 1;
        if calls.in_flight > calls.peak {
            calls.peak = calls.in_flight;
            calls.peak_at = Some(Instant::now());
        }
        drop(calls);
        let task = tokio::task::try_id().and_then(|id| id.to_string().parse().ok());
        lock(&lab.callers).push(task);
        Call { lab }
    }
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        lock(&self.lab.calls).in_flight -= 1;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
