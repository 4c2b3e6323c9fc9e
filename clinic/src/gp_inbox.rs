//! The GP practice's inbox, where a patient's lab results are exported page by page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The inbox as a lab sees it: how many pages a patient's results fill, and a way to
/// send each one.
#[derive(Clone, Debug)]
pub struct GpInbox {
    practice: Arc<Inner>,
}

impl GpInbox {
    /// How many pages the patient's results fill.
    pub fn pages(&self, patient: u32) -> u32 {
        self.practice.results.get(&patient).map_or(0, |r| r.pages)
    }

    /// Sends one page of the patient's results; it arrives only if this future runs to
    /// the end.
    pub async fn send_page(&self, patient: u32, page: u32) {
        let inner = &self.practice;
        let time = inner.results.get(&patient).map(|r| r.page_time);
        tokio::time::sleep(time.unwrap_or_default()).await;
        lock(&inner.arrived).push(Page {
            patient,
            page,
            at: Instant::now(),
        });
    }
}

/// One page that reached the practice, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub patient: u32,
    pub page: u32,
    pub at: Instant,
}

/// The practice as a scenario sees it: how fast its inbox takes pages, and what arrived
/// when.
#[derive(Clone, Debug)]
pub struct GpPractice {
    inner: Arc<Inner>,
}

/// How much of a patient's results there is to send, and how long each page takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatientResults {
    pub pages: u32,
    pub page_time: Duration,
}

#[derive(Debug)]
struct Inner {
    results: HashMap<u32, PatientResults>,
    arrived: Mutex<Vec<Page>>,
}

impl GpPractice {
    /// A practice expecting each patient's results as given.
    pub fn new(results: HashMap<u32, PatientResults>) -> Self {
        let inner = Inner {
            results,
            arrived: Mutex::default(),
        };
        GpPractice {
            inner: Arc::new(inner),
        }
    }

    /// The handle a lab sends through.
    pub fn inbox(&self) -> GpInbox {
        GpInbox {
            practice: self.inner.clone(),
        }
    }

    /// Every page that arrived so far, in the order it arrived.
    pub fn arrived(&self) -> Vec<Page> {
        lock(&self.inner.arrived).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
