//! A lab that spins without ever reaching an `.await`: the watchdog sees a poll that
//! never returns, burning CPU.
//!
//! expect: fail spin

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    _store: RecordStore,
    records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    let mut turns: u64 = 0;
    while turns < u64::MAX {
        turns = std::hint::black_box(turns) | 1;
    }
    Ok(records.len())
}
