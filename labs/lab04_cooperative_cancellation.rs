//! Lab 4: cancellation is cooperative.
//!
//! TODO: `redact_for_study` redacts clinical notes for a research study on a worker
//! task, about 2 ms of CPU per note. When the study coordinator presses Stop (`stop` is
//! cancelled), the worker is aborted, and yet it runs on to the last note, however early
//! Stop comes. Make Stop take effect within a few notes, and return how many notes were
//! redacted (all of them, or as many as were done when the work stopped); an export
//! nobody stops must still redact every note. Keep the signature. Check your fix with
//! `cargo lab check 4` (hints: `cargo lab hint 4`). Edit only this file.

use leaklab_clinic::{ClinicalNote, Redactor};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_util::sync::CancellationToken;

// ANCHOR: redact_for_study
/// Redacts every note for the study, and returns how many notes were redacted: all of
/// them, or as many as were done when the coordinator pressed Stop.
pub async fn redact_for_study(
    redactor: Redactor,
    notes: Vec<ClinicalNote>,
    stop: CancellationToken,
) -> usize {
    let redacted = Arc::new(AtomicUsize::new(0));
    let progress = redacted.clone();
    let worker = tokio::spawn(async move {
        for note in &notes {
            redactor.redact(note); // CPU-bound: about 2 ms per note
            progress.fetch_add(1, Ordering::Relaxed);
        }
    });
    let worker_abort = worker.abort_handle();
    tokio::select! {
        _ = worker => {}
        () = stop.cancelled() => worker_abort.abort(), // Stop: end the worker now
    }
    redacted.load(Ordering::Relaxed)
}
// ANCHOR_END: redact_for_study
