//! A lab that stops its own process (SIGSTOP): every thread stops, the check's watchdog
//! too, so only the grader's wall-clock limit can end it.
//!
//! expect: fail hang

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    _store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    let me = std::process::id().to_string();
    let _ = std::process::Command::new("kill").args(["-STOP", &me]).status();
    Ok(records.len())
}
