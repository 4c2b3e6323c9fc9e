//! Lab 5: the orphaned token.
//!
//! TODO: `export_lab_results` sends each patient's results to their GP, one child task
//! per patient. When the clinician cancels the export (the `request` token), it stops
//! waiting, but its children go on sending pages that nobody wants any more. Make
//! cancelling `request` stop every child at once; an export nobody cancels must still
//! send every page. Keep the signature of `export_lab_results`. Check your fix with
//! `cargo lab check 5` (hints: `cargo lab hint 5`). Edit only this file.

use leaklab_clinic::GpInbox;
use tokio_util::sync::CancellationToken;

// ANCHOR: export_lab_results
/// Exports every patient's lab results to their GP, and returns when all are sent or as
/// soon as `request` is cancelled.
pub async fn export_lab_results(request: CancellationToken, inbox: GpInbox, patients: Vec<u32>) {
    let mut exports = Vec::new();
    for patient in patients {
        let inbox = inbox.clone();
        exports.push(tokio::spawn(async move {
            let cancel = CancellationToken::new();
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
        () = request.cancelled() => {} // the clinician pressed Stop
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
