//! Wrong fix for lab 2: abort the workers before returning. Nothing is left running,
//! but the records they were writing are lost.
use leaklab_checks::clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    let count = records.len();
    let mut workers = Vec::new();
    for record in records {
        let store = store.clone();
        workers.push(tokio::spawn(async move { store.write(record).await }));
    }
    for worker in &workers {
        worker.abort();
    }
    Ok(count)
}
