//! Wrong fix for lab 1: drop the JoinHandle. Dropping a handle detaches the task; it
//! does not stop it. The check must still find the leak.
use leaklab_checks::clinic::LabSystem;
use std::time::Duration;
use tokio::sync::oneshot;

pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    let (reply, answer) = oneshot::channel();
    let handle = tokio::spawn(async move {
        let _ = reply.send(lab.lookup(patient).await);
    });
    let answer = tokio::time::timeout(Duration::from_millis(50), answer).await;
    drop(handle);
    answer.ok()?.ok()
}
