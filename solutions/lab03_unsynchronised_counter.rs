//! Lab 3, fixed: the booking counter counts every booking.
//!
//! The broken counter read the count and wrote it back as two operations. Two threads
//! could both read 12 and both write 13: two bookings, one counted. No memory ordering
//! changes that, because ordering decides what a thread sees, not whether another
//! thread can act between its two steps. The fix makes the read-modify-write a single
//! step that nothing can come between.

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
        // One indivisible read-modify-write: no other thread's booking can land between
        // the read and the write, so none is overwritten. `Relaxed` is enough: the
        // counter does not publish any other data, it only has to add up. (One `Mutex`
        // held across the read and the write would also do; two locks would not.)
        self.booked.fetch_add(1, Ordering::Relaxed);
    }

    /// Today's bookings so far. Once the booking threads have been joined, this is
    /// exactly the number of `record_booking` calls.
    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::Relaxed)
    }
}
// ANCHOR_END: booking_counter
