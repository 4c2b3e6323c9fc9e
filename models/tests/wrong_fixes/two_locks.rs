//! Wrong fix: a lock for the read and a second lock for the write. Each step is
//! guarded, but another thread can take the lock between them.

use leaklab_sync::sync::Mutex;

pub struct BookingCounter {
    booked: Mutex<u64>,
}

impl BookingCounter {
    pub fn new() -> Self {
        BookingCounter {
            booked: Mutex::new(0),
        }
    }

    pub fn record_booking(&self) {
        let booked = *self.booked.lock().unwrap();
        *self.booked.lock().unwrap() = booked + 1;
    }

    pub fn total(&self) -> u64 {
        *self.booked.lock().unwrap()
    }
}
