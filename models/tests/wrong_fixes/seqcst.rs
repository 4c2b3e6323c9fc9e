//! Wrong fix: the strongest ordering on the same load and store. Ordering decides what
//! each thread sees; it does not make the two operations one.

use leaklab_sync::sync::atomic::{AtomicU64, Ordering};

pub struct BookingCounter {
    booked: AtomicU64,
}

impl BookingCounter {
    pub fn new() -> Self {
        BookingCounter {
            booked: AtomicU64::new(0),
        }
    }

    pub fn record_booking(&self) {
        let booked = self.booked.load(Ordering::SeqCst);
        self.booked.store(booked + 1, Ordering::SeqCst);
    }

    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::SeqCst)
    }
}
