//! A lab that locks a `std::sync::Mutex` it already holds: the thread blocks for good,
//! using no CPU, and the watchdog reports a deadlock.
//!
//! expect: fail deadlock

use leaklab_clinic::LabSystem;
use std::sync::Mutex;

static CACHE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

pub async fn fetch_lab_result(_lab: LabSystem, patient: u32) -> Option<String> {
    let mut seen = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    seen.push(patient);
    let again = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    Some(format!("{} patients", again.len()))
}
