//! Lab 7: the stuck receive.
//!
//! TODO: a ward pages the on-call doctor with `page_on_call` and waits for the
//! acknowledgement on the receiver it gets back, for as long as it can afford; then it
//! drops the receiver and escalates. Some doctors never answer. Make sure that once a
//! ward stops waiting, nothing of its page is left behind: no task, and no entry in the
//! pending-acks table. An acknowledgement that comes while the ward still waits must
//! reach it. Keep the signature. Check your fix with `cargo lab check 7` (hints:
//! `cargo lab hint 7`). Edit only this file.

use leaklab_clinic::{Ack, Pager};
use tokio::sync::oneshot;

// ANCHOR: page
/// Pages the on-call doctor about a patient. The doctor's acknowledgement arrives on
/// the returned receiver; the ward decides how long to wait for it.
pub fn page_on_call(pager: &Pager, patient: u32) -> oneshot::Receiver<Ack> {
    let (to_ward, ward) = oneshot::channel();
    let (reply, ack) = oneshot::channel();
    let page = pager.send_page(patient);
    pager.pending().insert(page, reply);
    tokio::spawn(async move {
        // Wait for the doctor, then pass the answer on to the ward.
        if let Ok(ack) = ack.await {
            let _ = to_ward.send(ack);
        }
    });
    ward
}
// ANCHOR_END: page
