//! Lab 6: the forgotten cancel.
//!
//! TODO: every booking request starts a watchdog that gives up on the booking after
//! `BOOKING_TIMEOUT`. When the booking is quick, the watchdog is never stopped: it sleeps
//! on for the rest of its 30 s, and under load they pile up by the thousand. Make sure
//! nothing a request starts outlives it, whether the booking succeeds, times out, or the
//! portal drops the request midway (the patient closed the page). Keep the signature and
//! `BOOKING_TIMEOUT`. Check your fix with `cargo lab check 6` (hints: `cargo lab hint 6`).
//! Edit only this file.

use leaklab_clinic::{Appointment, Scheduler};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the portal lets a booking take before it asks the patient to try again.
pub const BOOKING_TIMEOUT: Duration = Duration::from_secs(30);

// ANCHOR: book_appointment
/// Books the patient's next free appointment, or `None` if the scheduler is too slow.
pub async fn book_appointment(scheduler: Scheduler, patient: u32) -> Option<Appointment> {
    let too_slow = CancellationToken::new();
    let watchdog = too_slow.clone();
    tokio::spawn(async move {
        tokio::time::sleep(BOOKING_TIMEOUT).await;
        watchdog.cancel();
    });
    tokio::select! {
        appointment = scheduler.book(patient) => Some(appointment),
        () = too_slow.cancelled() => None, // the patient is asked to try again
    }
}
// ANCHOR_END: book_appointment
