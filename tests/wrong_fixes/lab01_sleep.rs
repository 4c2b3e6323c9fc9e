//! Wrong fix for lab 1: give the task time to finish before returning. The lab system
//! never answers some lookups, so no sleep is long enough, and the patient now waits.
use leaklab_checks::clinic::LabSystem;
use std::time::Duration;
use tokio::sync::oneshot;

pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    let (reply, answer) = oneshot::channel();
    tokio::spawn(async move {
        let _ = reply.send(lab.lookup(patient).await);
    });
    let answer = tokio::time::timeout(Duration::from_millis(50), answer).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    answer.ok()?.ok()
}
