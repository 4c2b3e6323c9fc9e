//! A correct fix for lab 2 in another shape: keep every JoinHandle and await each one.
//! The check tests a property, not a shape, so this must pass.
use leaklab_checks::clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    let mut workers = Vec::new();
    for record in records {
        let store = store.clone();
        workers.push(tokio::spawn(async move { store.write(record).await }));
    }
    let (mut synced, mut failed) = (0, None);
    for worker in workers {
        match worker.await.expect("a worker panicked") {
            Ok(()) => synced += 1,
            Err(error) => failed = failed.or(Some(error)),
        }
    }
    failed.map_or(Ok(synced), Err)
}
