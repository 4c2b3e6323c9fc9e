//! Lab 13, solved: both ways out of the loop are taken.
//!
//! The broken listener logged the shutdown and went round again. A cancelled token
//! stays cancelled, so `cancelled()` was ready at once on every turn: the loop ran the
//! cancel branch for ever without reaching an `.await` that waits, and nothing else on
//! its thread could run, not even an `abort()`. Its `Some(result) = results.recv()`
//! pattern hid the other way out: when the channel closes, `recv()` returns `None`, the
//! pattern fails, and `select!` simply disables that branch for the turn, so the
//! listener waited on for a shutdown that might never come.

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
                    // Unlike Go's `break` in a `select`, this leaves the loop: the task
                    // ends, and with it every turn of the loop.
                    break;
                }
                result = results.recv() => match result {
                    Some(result) => board.post(result).await,
                    // Every sender is gone: no result can ever come again.
                    None => break,
                },
            }
        }
    })
}
// ANCHOR_END: listener
