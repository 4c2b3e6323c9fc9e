//! Lab 3: the unsynchronised counter.
//!
//! TODO: fix `record_booking` so that no booking is lost when many threads book at once.
//! Keep the public API, and take sync types only from `leaklab_sync`: the checks run
//! this file on real threads and under the loom model checker. Check your fix with
//! `cargo lab check 3` (hints: `cargo lab hint 3`). Edit only this file.

use leaklab_sync::sync::atomic::{AtomicU64, Ordering};

// ANCHOR: booking_counter
/// How many appointments the clinic has booked today.
pub struct BookingCounter {
    booked: AtomicU64,
}

impl BookingCounter {
    pub fn new() -> Self {
        BookingCounter {
            booked: AtomicU64::new(0),
        }
    }

    /// Called by a booking thread once for every appointment it books.
    pub fn record_booking(&self) {
        let booked = self.booked.load(Ordering::Relaxed);
        self.booked.store(booked + 1, Ordering::Relaxed);
    }

    /// Today's bookings so far.
    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::Relaxed)
    }
}
// ANCHOR_END: booking_counter
