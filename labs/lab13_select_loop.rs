//! Lab 13: the select loop that never exits.
//!
//! TODO: `start_result_listener` posts each new lab result to the ward's board until
//! the clinic shuts down (`shutdown` is cancelled) or the lab system closes the results
//! channel. Today, once shutdown comes, the listener never ends and takes the runtime's
//! thread with it; and a closed channel does not end it either. Make it end promptly in
//! both cases; until then, post every result that comes in, and never cut short a post
//! under way. Keep the signature and the audit line written at shutdown. Check your fix with `cargo lab check 13` (hints:
//! `cargo lab hint 13`). Edit only this file.

use leaklab_clinic::{AuditLog, ResultNotice, WardBoard};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

// ANCHOR: listener
/// Starts the ward's listener: it shows each new lab result on the ward's board.
pub fn start_result_listener(
    mut results: mpsc::Receiver<ResultNotice>,
    board: WardBoard,
    audit: AuditLog,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => {
                    audit.record("result listener: shutting down");
                }
                Some(result) = results.recv() => {
                    board.post(result).await;
                }
            }
        }
    })
}
// ANCHOR_END: listener
