//! Lab 10, solved: the request's span goes with its work into every task.
//!
//! The broken version logged inside the request's span, then spawned a task per
//! department. A span is entered only while the future it instruments is being polled,
//! and a spawned task is polled by the runtime, on any thread, not by the request: its
//! lines were logged in no span at all, and lost the trace id. Go passes such values in
//! the `context.Context` each call takes; in Rust the value must be handed to the task.

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
            let lookup = async move {
                let results = pathology.results(department, patient).await;
                info!(patient, %department, "department answered");
                results
            };
            // `in_current_span` takes the span current here, the request's, and enters
            // it around every poll of the lookup, on whichever thread runs it: the task
            // carries its request's trace id, and no other request's can get in.
            lookups.spawn(lookup.in_current_span());
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
