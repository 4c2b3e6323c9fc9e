//! Lab 5, solved: every child's token comes from the request's.
//!
//! The broken version gave each child task a fresh `CancellationToken::new()`: a root
//! of its own, as Go code that calls `context.Background()` inside a goroutine. The
//! request's cancellation had no path to it, so when the clinician pressed Stop the
//! export stopped waiting, and the children went on sending pages to the GP.

use leaklab_clinic::GpInbox;
use tokio_util::sync::CancellationToken;

// ANCHOR: export_lab_results
/// Exports every patient's lab results to their GP, and returns when all are sent or as
/// soon as `request` is cancelled.
pub async fn export_lab_results(request: CancellationToken, inbox: GpInbox, patients: Vec<u32>) {
    let mut exports = Vec::new();
    for patient in patients {
        let inbox = inbox.clone();
        // A child token of the request's: cancelling the request cancels it, so every
        // child stops the moment the request does and none outlives it. (Cancelling one
        // child's token would stop only that child, which is what a child token is for.)
        let cancel = request.child_token();
        exports.push(tokio::spawn(async move {
            export_patient(&cancel, &inbox, patient).await;
        }));
    }
    let all_sent = async {
        for export in exports {
            let _ = export.await;
        }
    };
    tokio::select! {
        () = all_sent => {}
        () = request.cancelled() => {} // the clinician pressed Stop: so did every child
    }
}

/// Sends one patient's results page by page, and stops as soon as `cancel` fires.
async fn export_patient(cancel: &CancellationToken, inbox: &GpInbox, patient: u32) {
    for page in 1..=inbox.pages(patient) {
        tokio::select! {
            () = inbox.send_page(patient, page) => {}
            () = cancel.cancelled() => return,
        }
    }
}
// ANCHOR_END: export_lab_results
