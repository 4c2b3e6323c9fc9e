//! Lab 12, solved: the lock guards the map, never the fetch.
//!
//! The broken cache took a `std::sync::Mutex` and kept the guard while it awaited the
//! records service. The awaiting read gave its thread back with the lock still held;
//! the next read on that thread called `lock()`, which blocks the thread itself, so
//! the read holding the lock could never run again to release it. On the current-thread
//! runtime that is the only thread: everything stopped. Swapping in
//! `tokio::sync::Mutex` turns the deadlock into a queue: every read waits for every
//! fetch before it, and ten charts take ten fetches.

use leaklab_clinic::{Chart, RecordsService};
use std::collections::HashMap;
use std::sync::Mutex;

// ANCHOR: cache
/// The ward's cache of patient charts, filled from the records service.
pub struct ChartCache {
    // A std Mutex is the right lock for a map touched for microseconds at a time: it
    // is never held across an .await, so it never makes another read wait for a fetch.
    charts: Mutex<HashMap<u32, Chart>>,
    records: RecordsService,
}

impl ChartCache {
    pub fn new(records: RecordsService) -> Self {
        ChartCache {
            charts: Mutex::new(HashMap::new()),
            records,
        }
    }

    /// The patient's chart: from the cache if it is there, else from the records service.
    pub async fn chart(&self, patient: u32) -> Chart {
        // Copy out what we need; the guard is dropped at the end of this statement.
        let cached = self.charts.lock().unwrap().get(&patient).cloned();
        if let Some(chart) = cached {
            return chart;
        }
        // No lock is held while we wait: other reads, cached or not, go on meanwhile.
        let chart = self.records.fetch_chart(patient).await;
        // Two reads of one patient may both fetch; the second insert replaces the
        // first with the same chart, which is harmless for a cache.
        self.charts.lock().unwrap().insert(patient, chart.clone());
        chart
    }
}
// ANCHOR_END: cache
