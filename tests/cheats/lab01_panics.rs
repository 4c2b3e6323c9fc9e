//! Cheat (or accident): panic instead of answering.
use leaklab_checks::clinic::LabSystem;

pub async fn fetch_lab_result(_lab: LabSystem, patient: u32) -> Option<String> {
    panic!("no result for patient {patient}")
}
