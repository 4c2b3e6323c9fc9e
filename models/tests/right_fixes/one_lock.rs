//! Right fix: one lock held across the whole read-modify-write.

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
        let mut booked = self.booked.lock().unwrap();
        *booked += 1;
    }

    pub fn total(&self) -> u64 {
        *self.booked.lock().unwrap()
    }
}
