//! Lab 8: the pipeline that never closes.
//!
//! TODO: `export_for_research` passes every patient record through three stages (read,
//! anonymise, write to the research registry), but it never returns: the last record
//! is written, and the stages wait on. Make it return once every record is in the
//! registry, exactly once, with every stage ended. Keep its signature and `CAPACITY`.
//! Check your fix with `cargo lab check 8` (hints: `cargo lab hint 8`). Edit only this
//! file.

use leaklab_clinic::{Anonymiser, Ehr, PatientRecord, ResearchRecord, ResearchRegistry};
use tokio::sync::mpsc;

/// How many records may wait between two stages.
pub const CAPACITY: usize = 4;

// ANCHOR: export
/// Copies every patient record, anonymised, to the research registry.
pub async fn export_for_research(mut ehr: Ehr, anonymiser: Anonymiser, registry: ResearchRegistry) {
    let (to_anonymise, mut read) = mpsc::channel::<PatientRecord>(CAPACITY);
    let (to_registry, mut anonymised) = mpsc::channel::<ResearchRecord>(CAPACITY);
    // Kept to put records back in the queue when the registry turns them away.
    let _retries = to_anonymise.clone();

    let reading = tokio::spawn(async move {
        while let Some(record) = ehr.next_record().await {
            if to_anonymise.send(record).await.is_err() {
                break; // the anonymiser has stopped
            }
        }
    });
    let anonymising = tokio::spawn(async move {
        while let Some(record) = read.recv().await {
            let record = anonymiser.anonymise(record).await;
            if to_registry.send(record).await.is_err() {
                break; // the writer has stopped
            }
        }
    });
    let writing = tokio::spawn(async move {
        while let Some(record) = anonymised.recv().await {
            registry.write(record).await;
        }
    });
    for stage in [reading, anonymising, writing] {
        stage.await.expect("a pipeline stage panicked");
    }
}
// ANCHOR_END: export
