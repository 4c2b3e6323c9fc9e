//! Wrong fix: a compare-exchange that is not retried. When another booking got in
//! first, the exchange fails and this booking is dropped.

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
        let booked = self.booked.load(Ordering::Relaxed);
        let _ = self
            .booked
            .compare_exchange(booked, booked + 1, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::Relaxed)
    }
}
