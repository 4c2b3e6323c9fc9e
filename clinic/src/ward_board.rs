//! The ward's results board: the screen at the nurses' station where new lab results
//! appear as they come in.
//!
//! Two halves, as for every service: [`WardBoard`] is what a lab posts to; [`Ward`]
//! belongs to the scenario, which sets how long a post takes and reads what was posted
//! when.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// A new lab result, on its way to the ward.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultNotice {
    pub id: u32,
    pub patient: u32,
}

/// The board as a lab sees it.
#[derive(Clone, Debug)]
pub struct WardBoard {
    ward: Arc<Inner>,
}

impl WardBoard {
    /// Shows a result on the board; it appears only if this future runs to the end.
    pub async fn post(&self, result: ResultNotice) {
        tokio::time::sleep(self.ward.post_time).await;
        lock(&self.ward.posted).push((result, Instant::now()));
    }
}

/// The ward as a scenario sees it: how long a post takes, and what was posted when.
#[derive(Clone, Debug)]
pub struct Ward {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    post_time: Duration,
    posted: Mutex<Vec<(ResultNotice, Instant)>>,
}

impl Ward {
    /// A ward whose board takes `post_time` to show a result.
    pub fn new(post_time: Duration) -> Self {
        let inner = Inner {
            post_time,
            posted: Mutex::default(),
        };
        Ward {
            inner: Arc::new(inner),
        }
    }

    /// The handle a lab posts through.
    pub fn board(&self) -> WardBoard {
        WardBoard {
            ward: self.inner.clone(),
        }
    }

    /// Every result posted, and when, in order.
    pub fn posted(&self) -> Vec<(ResultNotice, Instant)> {
        lock(&self.inner.posted).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
