//! A lab that panics: the check never finishes, so it cannot judge the lab.
//!
//! expect: error crashed

use leaklab_clinic::{PatientRecord, RecordStore, SyncError};

pub async fn sync_patient_records(
    _store: RecordStore,
    _records: Vec<PatientRecord>,
) -> Result<usize, SyncError> {
    panic!("the registry is down, and this lab gives up");
}
