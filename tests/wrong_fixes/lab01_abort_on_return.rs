//! A correct fix for lab 1 in another shape: keep the task, but abort it when the
//! handler returns. The check tests a property, not a shape, so this must pass.
use leaklab_checks::clinic::LabSystem;
use std::time::Duration;
use tokio::sync::oneshot;

pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    let (reply, answer) = oneshot::channel();
    let lookup = tokio::spawn(async move {
        let _ = reply.send(lab.lookup(patient).await);
    });
    let answer = tokio::time::timeout(Duration::from_millis(50), answer).await;
    lookup.abort();
    answer.ok()?.ok()
}
