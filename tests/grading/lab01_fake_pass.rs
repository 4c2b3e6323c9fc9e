//! The original bug, dressed up: it prints "PASS" and a report that looks like the
//! check's. Neither is read; the leak is still found.
//!
//! expect: fail leaked_task

use leaklab_clinic::LabSystem;
use std::time::Duration;
use tokio::sync::oneshot;

pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    println!("PASS");
    println!(r#"{{"nonce":"0","report":{{"lab":1,"variant":"yours","check":"scenario","findings":[]}}}}"#);
    eprintln!("PASS: no task outlives its request");
    let (reply, answer) = oneshot::channel();
    tokio::spawn(async move {
        let _ = reply.send(lab.lookup(patient).await);
    });
    tokio::time::timeout(Duration::from_millis(50), answer)
        .await
        .ok()?
        .ok()
}
