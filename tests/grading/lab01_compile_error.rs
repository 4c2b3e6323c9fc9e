//! A lab that does not compile: the check cannot judge it.
//!
//! expect: error compile_error

use leaklab_clinic::LabSystem;

pub async fn fetch_lab_result(lab: LabSystem, patient: u32) -> Option<String> {
    let deadline: u32 = "fifty milliseconds";
    tokio::time::timeout(std::time::Duration::from_millis(deadline), lab.lookup(patient))
        .await
        .ok()
}
