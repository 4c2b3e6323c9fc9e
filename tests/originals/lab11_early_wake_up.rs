//! Lab 11: the early wake-up.
//!
//! TODO: fix `UploadBatch` so that `wait` returns only once every upload started before
//! it has finished. Keep the public API (`new`, `start`, `wait`), and take sync types
//! and threads only from `leaklab_sync`: the checks run this file on real threads and
//! under the loom model checker. Check your fix with `cargo lab check 11` (hints:
//! `cargo lab hint 11`). Edit only this file.

use leaklab_sync::sync::atomic::{AtomicUsize, Ordering};
use leaklab_sync::sync::{Arc, Condvar, Mutex};
use leaklab_sync::thread;

// ANCHOR: batch
/// The night's lab reports, uploading to the GP practices one thread each. The batch
/// job starts every upload, then waits for all of them before it marks the batch sent.
pub struct UploadBatch {
    uploads: Arc<Uploads>,
}

/// What the batch job and its upload threads share.
struct Uploads {
    /// Uploads started and not yet finished.
    in_flight: AtomicUsize,
    /// Held by `wait` from its check of `in_flight` until it sleeps, and by the last
    /// upload to wake it, so the wake-up cannot fall in between.
    lock: Mutex<()>,
    all_done: Condvar,
}

impl UploadBatch {
    pub fn new() -> Self {
        let uploads = Uploads {
            in_flight: AtomicUsize::new(0),
            lock: Mutex::new(()),
            all_done: Condvar::new(),
        };
        UploadBatch {
            uploads: Arc::new(uploads),
        }
    }

    /// Uploads one report on its own thread.
    pub fn start(&self, upload: impl FnOnce() + Send + 'static) {
        let uploads = Arc::clone(&self.uploads);
        thread::spawn(move || {
            uploads.in_flight.fetch_add(1, Ordering::Relaxed);
            upload();
            uploads.finished();
        });
    }

    /// Returns once every upload started so far has finished.
    pub fn wait(&self) {
        let uploads = &self.uploads;
        let mut lock = uploads.lock.lock().unwrap();
        while uploads.in_flight.load(Ordering::Acquire) > 0 {
            lock = uploads.all_done.wait(lock).unwrap();
        }
    }
}

impl Uploads {
    /// Counts one upload out, and wakes the batch job after the last.
    fn finished(&self) {
        if self.in_flight.fetch_sub(1, Ordering::Release) == 1 {
            let _lock = self.lock.lock().unwrap();
            self.all_done.notify_all();
        }
    }
}
// ANCHOR_END: batch
