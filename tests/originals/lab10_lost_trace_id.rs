//! Lab 10: the lost trace id.
//!
//! TODO: `results_summary` asks every pathology department for a patient's results at
//! once, one task per department, and logs as it goes. Each request comes with a trace
//! id, so that one clinician's request can be followed through the logs while others
//! run at the same time; but the lines the department tasks log have lost it. Make
//! every line a request's work logs carry that request's trace id, with any number of
//! requests in flight and the work on any thread. Keep the signature and the log
//! lines. Check your fix with `cargo lab check 10` (hints: `cargo lab hint 10`). Edit
//! only this file.

use leaklab_clinic::{Department, Pathology, SummaryRequest};
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span};

// ANCHOR: results_summary
/// The patient's latest results from every department, for the clinician's summary.
pub async fn results_summary(request: SummaryRequest, pathology: Pathology) -> Vec<String> {
    let span = info_span!("summary", trace_id = %request.trace_id);
    let patient = request.patient;
    async move {
        info!(patient, "summary requested");
        let mut lookups = JoinSet::new();
        for department in Department::ALL {
            let pathology = pathology.clone();
            lookups.spawn(async move {
                let results = pathology.results(department, patient).await;
                info!(patient, %department, "department answered");
                results
            });
        }
        let mut summary = Vec::new();
        while let Some(results) = lookups.join_next().await {
            summary.push(results.expect("a department lookup panicked"));
        }
        info!(patient, departments = summary.len(), "summary ready");
        summary
    }
    .instrument(span)
    .await
}
// ANCHOR_END: results_summary
