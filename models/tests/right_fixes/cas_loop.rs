//! Right fix: a compare-exchange retried until no other booking got in between.

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
        let mut booked = self.booked.load(Ordering::Relaxed);
        while let Err(now) =
            self.booked
                .compare_exchange_weak(booked, booked + 1, Ordering::Relaxed, Ordering::Relaxed)
        {
            booked = now;
        }
    }

    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::Relaxed)
    }
}
