//! Lab 2, solved: main waits for its workers.
//!
//! The broken version spawned a worker per record and returned at once. Returning from
//! `main` shuts the runtime down, and shutdown drops every task mid-write: records were
//! lost without a word. Go's answer is a WaitGroup; tokio's is a `JoinSet`, which also
//! hands back each worker's result.

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};
use tokio::task::JoinSet;

// ANCHOR: sync_patient_records
/// Copies today's patient records to the regional registry, one worker per record.
/// Returns how many records were synced, or the first write that failed.
pub async fn sync_patient_records(
    store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    // Every worker belongs to this set, so none can be forgotten.
    let mut workers = JoinSet::new();
    for record in records {
        let store = store.clone();
        workers.spawn(async move { store.write(record).await });
    }
    // Wait for every worker, not for a guess at how long they take. Keep going after a
    // failed write, so the other records still land, and pass the failure up at the end.
    let (mut synced, mut first_error) = (0, None);
    while let Some(joined) = workers.join_next().await {
        match joined.expect("a sync worker panicked") {
            Ok(()) => synced += 1,
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(synced),
    }
}
// ANCHOR_END: sync_patient_records
