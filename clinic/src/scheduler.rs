//! The appointment scheduler, which books patients into free slots.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A booked appointment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appointment {
    pub patient: u32,
    /// Minutes after the clinic opens.
    pub slot: u32,
}

/// The scheduler as a lab sees it: somewhere to book appointments.
#[derive(Clone, Debug)]
pub struct Scheduler {
    diary: Arc<HashMap<u32, Option<Duration>>>,
}

impl Scheduler {
    /// Books the patient's next free slot. May take a long time, or never finish.
    pub async fn book(&self, patient: u32) -> Appointment {
        match self.diary.get(&patient).copied().flatten() {
            Some(time) => tokio::time::sleep(time).await,
            None => std::future::pending().await,
        }
        Appointment {
            patient,
            slot: patient % 32 * 15,
        }
    }
}

/// The scheduler as a scenario sees it: how long each patient's booking takes.
#[derive(Clone, Debug)]
pub struct Diary {
    booking_time: Arc<HashMap<u32, Option<Duration>>>,
}

impl Diary {
    /// A diary where booking patient `id` takes `booking_time[id]`, or never ends
    /// (`None`: the scheduler never confirms it).
    pub fn new(booking_time: HashMap<u32, Option<Duration>>) -> Self {
        Diary {
            booking_time: Arc::new(booking_time),
        }
    }

    /// The handle a lab books through.
    pub fn scheduler(&self) -> Scheduler {
        Scheduler {
            diary: self.booking_time.clone(),
        }
    }
}
