//! Lab 9: no timeout downstream.
//!
//! TODO: `serve` answers the patient portal's requests for lab results, each in a task
//! of its own. When the laboratory hangs, so does every request: no patient gets an
//! answer, and a burst of requests piles up one stuck task (and one open lookup) per
//! request. Make every request get an answer within `DEADLINE` (its results, or
//! `Unavailable` when they cannot be had in time or `MAX_CALLS` lookups are already in
//! flight), and never have more than `MAX_CALLS` lookups in flight at once, whatever the
//! laboratory does. Keep the signature, `DEADLINE` and `MAX_CALLS`. Check your fix with
//! `cargo lab check 9` (hints: `cargo lab hint 9`). Edit only this file.

use leaklab_clinic::{LabResults, ResultRequest};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a patient waits for an answer, from the moment the portal sends the request.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// The most lookups the laboratory can take from the portal at once.
pub const MAX_CALLS: usize = 20;

// ANCHOR: serve
/// Answers the portal's requests for lab results until the portal closes.
pub async fn serve(mut requests: mpsc::Receiver<ResultRequest>, lab: LabResults) {
    while let Some(request) = requests.recv().await {
        let lab = lab.clone();
        tokio::spawn(async move {
            let results = lab.fetch(request.patient).await;
            request.reply.send(Ok(results));
        });
    }
}
// ANCHOR_END: serve
