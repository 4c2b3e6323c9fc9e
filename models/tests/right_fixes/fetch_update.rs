//! Right fix: `fetch_update`, which retries its closure until no other booking got in
//! between.

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
        let _ = self
            .booked
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |booked| Some(booked + 1));
    }

    pub fn total(&self) -> u64 {
        self.booked.load(Ordering::Relaxed)
    }
}
