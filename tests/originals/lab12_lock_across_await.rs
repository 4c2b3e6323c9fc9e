//! Lab 12: the lock held across .await.
//!
//! TODO: the ward's `ChartCache` keeps the charts it has fetched from the records
//! service, which takes a few hundred milliseconds a chart. One clinician at a time, it
//! works; when several open charts at once, the whole runtime stops. Make concurrent
//! reads work: a chart already in the cache must come back at once, and a chart that
//! is not must take about one fetch, however many other reads are under way. Keep the
//! public API (`ChartCache::new`, `ChartCache::chart`). Check your fix with
//! `cargo lab check 12` (hints: `cargo lab hint 12`). Edit only this file.

use leaklab_clinic::{Chart, RecordsService};
use std::collections::HashMap;
use std::sync::Mutex;

// ANCHOR: cache
/// The ward's cache of patient charts, filled from the records service.
pub struct ChartCache {
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
        let mut charts = self.charts.lock().unwrap();
        if let Some(chart) = charts.get(&patient) {
            return chart.clone();
        }
        let chart = self.records.fetch_chart(patient).await; // a few hundred ms
        charts.insert(patient, chart.clone());
        chart
    }
}
// ANCHOR_END: cache
