//! Not a fix the model can judge: `std::sync` instead of `leaklab_sync`. loom cannot
//! see these operations, so the model must say so rather than pass.

use std::sync::atomic::{AtomicU64, Ordering};

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
        self.booked.store(booked + 1, Ordering::Relaxed);
    }

    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::Relaxed)
    }
}
