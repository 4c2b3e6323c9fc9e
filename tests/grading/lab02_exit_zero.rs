//! A lab that ends the process with status 0 before the check can report: no signed
//! report, so no verdict.
//!
//! expect: error crashed

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    _store: RecordStore,
    _records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    std::process::exit(0)
}
