//! Lab 2: the missing join.
//!
//! TODO: `sync_patient_records` plays the part of `main`: when it returns, the program
//! ends and the runtime drops every task still running. Make it return only when every
//! record is written, and return the first failed write as an `Err`. Keep its signature.
//! Check your fix with `cargo lab check 2` (hints: `cargo lab hint 2`). Edit only this file.

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};

// ANCHOR: sync_patient_records
/// Copies today's patient records to the regional registry, one worker per record.
/// Returns how many records were synced.
pub async fn sync_patient_records(
    store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    let count = records.len();
    for record in records {
        let store = store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.write(record).await {
                eprintln!("sync failed: {error}");
            }
        });
    }
    Ok(count)
}
// ANCHOR_END: sync_patient_records
