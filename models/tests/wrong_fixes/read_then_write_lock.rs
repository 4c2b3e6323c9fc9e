//! Wrong fix: an RwLock, read-locked to read and write-locked to write. Two readers can
//! hold the read lock at once, and both then write the same count.

use leaklab_sync::sync::RwLock;

pub struct BookingCounter {
    booked: RwLock<u64>,
}

impl BookingCounter {
    pub fn new() -> Self {
        BookingCounter {
            booked: RwLock::new(0),
        }
    }

    pub fn record_booking(&self) {
        let booked = *self.booked.read().unwrap();
        *self.booked.write().unwrap() = booked + 1;
    }

    pub fn total(&self) -> u64 {
        *self.booked.read().unwrap()
    }
}
