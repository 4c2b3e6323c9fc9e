//! A right fix that also starts a process which outlives the check and holds its output
//! pipes open. The grader kills the check's process group and says so.
//!
//! expect: fail leaked_task

use leaklab_clinic::LabSystem;
use std::time::Duration;

pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    let _ = std::process::Command::new("sleep").arg("638.25").spawn();
    tokio::time::timeout(Duration::from_millis(50), lab.lookup(patient))
        .await
        .ok()
}
