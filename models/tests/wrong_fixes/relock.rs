//! Wrong fix: the lock held across the update, but taken a second time to write. A
//! thread that locks a lock it already holds waits for itself forever.

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
        let booked = self.booked.lock().unwrap();
        *self.booked.lock().unwrap() = *booked + 1;
    }

    pub fn total(&self) -> u64 {
        *self.booked.lock().unwrap()
    }
}
