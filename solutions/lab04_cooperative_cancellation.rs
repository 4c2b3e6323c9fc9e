//! Lab 4, solved: the worker looks at Stop between notes.
//!
//! The broken version aborted the worker when Stop was pressed. But an abort, like a
//! cancelled token, is only a request: a task is stopped at its next `.await`, and a
//! CPU-bound loop has none. The worker ran on to the last note, tens of seconds of work
//! after Stop, holding a runtime thread all the while.

use leaklab_clinic::{ClinicalNote, Redactor};
use tokio_util::sync::CancellationToken;

// ANCHOR: redact_for_study
/// Redacts every note for the study, and returns how many notes were redacted: all of
/// them, or as many as were done when the coordinator pressed Stop.
pub async fn redact_for_study(
    redactor: Redactor,
    notes: Vec<ClinicalNote>,
    stop: CancellationToken,
) -> usize {
    // CPU-bound work runs on the blocking pool, where it holds no runtime thread. A
    // blocking task cannot be aborted at all once it runs, so it must stop itself.
    let worker = tokio::task::spawn_blocking(move || {
        let mut redacted = 0;
        for note in &notes {
            // Cancellation is cooperative: Stop only sets the token's flag, and only the
            // worker can act on it. Looking before each note (an atomic load) stops the
            // work within one note of Stop, however early it comes.
            if stop.is_cancelled() {
                break;
            }
            redactor.redact(note);
            redacted += 1;
        }
        redacted // how far it got: the study can resume from here
    });
    // The worker stops itself, so waiting for it is quick, and it returns its count.
    worker.await.expect("the redaction worker panicked")
}
// ANCHOR_END: redact_for_study
