//! Lab 1, solved: the request owns its lookup.
//!
//! The broken version spawned the lookup and waited on a channel. When the deadline
//! passed, the handler stopped listening, but nobody told the task: it went on waiting
//! for a lab system that may never answer, one task per impatient patient.

use leaklab_clinic::LabSystem;
use std::time::Duration;

/// How long the patient portal waits for a result before it says "not ready yet".
pub const DEADLINE: Duration = Duration::from_millis(50);

// ANCHOR: fetch_lab_result
/// Looks up a patient's latest lab result, or `None` if the lab system is too slow.
pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    // The lookup runs inside this request's own future instead of a task of its own.
    // When the deadline passes, `timeout` drops it, and dropping a future cancels it:
    // nothing can outlive the request. (If the work must be a task, keep its
    // JoinHandle and abort it when the handler returns; dropping the handle detaches.)
    tokio::time::timeout(DEADLINE, lab.lookup(patient)).await.ok()
}
// ANCHOR_END: fetch_lab_result
