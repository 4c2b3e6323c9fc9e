//! Lab 6, solved: the deadline belongs to the request.
//!
//! The broken version spawned a watchdog per booking: a task that slept for the whole
//! timeout and then cancelled the booking. Nothing stopped it when the booking came back
//! early, so each quick request left a sleeping task behind for up to 30 s, thousands of
//! them under load: Go's `context.WithTimeout` without `defer cancel()`.

use leaklab_clinic::{Appointment, Scheduler};
use std::time::Duration;

/// How long the portal lets a booking take before it asks the patient to try again.
pub const BOOKING_TIMEOUT: Duration = Duration::from_secs(30);

// ANCHOR: book_appointment
/// Books the patient's next free appointment, or `None` if the scheduler is too slow.
pub async fn book_appointment(scheduler: Scheduler, patient: u32) -> Option<Appointment> {
    // The deadline is a timer inside this request's own future, not a task of its own:
    // when the booking comes back, or the portal drops the request, the timer is dropped
    // with it. There is nothing left to stop, so nothing can outlive the request. (If the
    // watchdog must be a task, hold it in a `tokio_util::task::AbortOnDropHandle`, so
    // that the request ends it however the request ends.)
    tokio::time::timeout(BOOKING_TIMEOUT, scheduler.book(patient))
        .await
        .ok()
}
// ANCHOR_END: book_appointment
