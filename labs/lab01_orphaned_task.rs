//! Lab 1: the orphaned task.
//!
//! TODO: fix `fetch_lab_result` so that no task outlives the request that started it.
//! Keep its signature and its 50 ms deadline. Check your fix with `cargo lab check 1`
//! (hints: `cargo lab hint 1`). Edit only this file.

use leaklab_clinic::LabSystem;
use std::time::Duration;
use tokio::sync::oneshot;

/// How long the patient portal waits for a result before it says "not ready yet".
pub const DEADLINE: Duration = Duration::from_millis(50);

// ANCHOR: fetch_lab_result
/// Looks up a patient's latest lab result, or `None` if the lab system is too slow.
pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    let (reply, answer) = oneshot::channel();
    tokio::spawn(async move {
        let result = lab.lookup(patient).await;
        let _ = reply.send(result);
    });
    match tokio::time::timeout(DEADLINE, answer).await {
        Ok(Ok(result)) => Some(result),
        _ => None, // too slow: the portal asks the patient to check back later
    }
}
// ANCHOR_END: fetch_lab_result
