//! Lab 9, solved: every call downstream has a deadline and a place in line.
//!
//! The broken version awaited the laboratory with no deadline, one task per request.
//! When the laboratory hung, every request hung with it: no patient got an answer, and
//! a burst left a stuck task and an open lookup per request, thousands of them, on a
//! laboratory that can take twenty. Go's fix is `context.WithTimeout` on the call; the
//! burst needs a bound as well.

use leaklab_clinic::{LabResults, ResultRequest, Unavailable};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

/// How long a patient waits for an answer, from the moment the portal sends the request.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// The most lookups the laboratory can take from the portal at once.
pub const MAX_CALLS: usize = 20;

// ANCHOR: serve
/// Answers the portal's requests for lab results until the portal closes.
pub async fn serve(mut requests: mpsc::Receiver<ResultRequest>, lab: LabResults) {
    // One permit per lookup the laboratory can take, shared by every request: a lookup
    // runs only while it holds one, so no burst can put more than MAX_CALLS in flight.
    let permits = Arc::new(Semaphore::new(MAX_CALLS));
    while let Some(request) = requests.recv().await {
        let (lab, permits) = (lab.clone(), permits.clone());
        let patient = request.patient;
        tokio::spawn(async move {
            // The deadline covers the wait for a permit as well as the lookup: a request
            // queued behind hung lookups is answered in time too. When it fires, the
            // lookup is dropped, and its permit goes back for the next request.
            let lookup = async {
                let _permit = permits.acquire().await.expect("the permits are never closed");
                lab.fetch(patient).await
            };
            let answer = tokio::time::timeout(DEADLINE, lookup).await;
            request.reply.send(answer.map_err(|_| Unavailable));
        });
    }
}
// ANCHOR_END: serve
