//! Wrong fix for lab 2: sleep in main long enough for the usual case. The check varies
//! the write time, so a sleep is too short for one registry and needlessly long for another.
use leaklab_checks::clinic::{PatientRecord, RecordStore, SyncError};
use std::time::Duration;

pub async fn sync_patient_records(
    store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    let count = records.len();
    for record in records {
        let store = store.clone();
        tokio::spawn(async move { store.write(record).await });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(count)
}
