//! A lab that waits for something that never comes: the check's runtime goes idle with
//! nothing left to wake it, and its watchdog reports a hang.
//!
//! expect: fail hang

use leaklab_clinic::LabSystem;

pub async fn fetch_lab_result(_lab: LabSystem, _patient: u32) -> Option<String> {
    std::future::pending().await
}
