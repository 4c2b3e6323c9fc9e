//! Lab 8, solved: each sender belongs to the stage that sends, so the pipeline closes
//! stage by stage.
//!
//! The broken version kept a spare `Sender` "for retries" in the function itself. A
//! channel closes when its last sender is dropped, and that one lived until the
//! function returned, which it never did: the anonymiser waited on `recv()` for a
//! record that could never come, the writer waited on the anonymiser, and the function
//! waited on both. Go has the same rule: only the producer closes, and one forgotten
//! producer keeps every `range` downstream open.

use leaklab_clinic::{Anonymiser, Ehr, PatientRecord, ResearchRecord, ResearchRegistry};
use tokio::sync::mpsc;

/// How many records may wait between two stages.
pub const CAPACITY: usize = 4;

// ANCHOR: export
/// Copies every patient record, anonymised, to the research registry.
pub async fn export_for_research(mut ehr: Ehr, anonymiser: Anonymiser, registry: ResearchRegistry) {
    let (to_anonymise, mut read) = mpsc::channel::<PatientRecord>(CAPACITY);
    let (to_registry, mut anonymised) = mpsc::channel::<ResearchRecord>(CAPACITY);
    // No spare sender: each one is moved into the stage that sends on it. (A retry
    // path would belong to a stage too, and be dropped when that stage is done.)

    // The reader's sender is dropped when the reader returns: the anonymiser's `recv()`
    // then drains what is queued and returns `None`. Its sender to the writer goes
    // with it, and the writer ends the same way. Nothing is dropped on the floor:
    // closing only stops new sends, every queued record is still received.
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
    // Join every stage, upstream first: when the writer's join returns, the last
    // record is in the registry and no stage is left.
    for stage in [reading, anonymising, writing] {
        stage.await.expect("a pipeline stage panicked");
    }
}
// ANCHOR_END: export
