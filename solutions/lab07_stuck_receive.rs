//! Lab 7, solved: the waiting task listens for the ward leaving, and takes its entry
//! out of the table when it ends.
//!
//! The broken version awaited the doctor's acknowledgement and nothing else. When the
//! ward gave up and dropped its receiver, nobody told the task: it went on waiting, and
//! the table went on holding the sender it waited on. For a doctor who never answers,
//! both lived forever: one task and one table entry per unanswered page.

use leaklab_clinic::{Ack, PageId, Pager, PendingAcks};
use tokio::sync::oneshot;

// ANCHOR: page
/// Pages the on-call doctor about a patient. The doctor's acknowledgement arrives on
/// the returned receiver; the ward decides how long to wait for it.
pub fn page_on_call(pager: &Pager, patient: u32) -> oneshot::Receiver<Ack> {
    let (mut to_ward, ward) = oneshot::channel();
    let (reply, ack) = oneshot::channel();
    let page = pager.send_page(patient);
    let pending = pager.pending();
    pending.insert(page, reply);
    tokio::spawn(async move {
        // However this task ends, the page's entry leaves the table with it.
        let _entry = RemoveOnDrop { pending, page };
        // Wait for whichever comes first: the doctor's answer, or the ward giving up.
        // The ward's deadline is the ward's business; `closed()` is how the task hears
        // about it (Go's `case <-ctx.Done()`), so no guess at a timeout is needed here.
        tokio::select! {
            answered = ack => {
                if let Ok(ack) = answered {
                    let _ = to_ward.send(ack);
                }
            }
            () = to_ward.closed() => {}
        }
    });
    ward
}

/// Takes a page's entry out of the pending table when dropped: when the waiting task
/// returns, and also if it is cancelled or the runtime shuts down.
struct RemoveOnDrop {
    pending: PendingAcks,
    page: PageId,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        self.pending.remove(self.page);
    }
}
// ANCHOR_END: page
