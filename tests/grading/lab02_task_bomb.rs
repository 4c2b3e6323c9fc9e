//! A task bomb: a million tasks per record that never finish. The check must still end,
//! and say what the tasks did.
//!
//! expect: fail spin

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    _store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    for _ in 0..records.len() * 1_000_000 {
        tokio::spawn(std::future::pending::<()>());
    }
    Ok(records.len())
}
