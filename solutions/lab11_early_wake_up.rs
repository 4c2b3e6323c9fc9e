//! Lab 11, fixed: the batch job wakes only when every upload is done.
//!
//! The broken batch counted an upload in on the upload's own thread. Between `start`
//! and that thread's first step the count still said zero, so a `wait` that came first
//! saw nothing in flight and returned, and the batch was marked sent with its reports
//! still on the way. No memory ordering changes that: the count was not late to become
//! visible, it had not been made yet. The fix counts each upload in before its thread
//! exists, as Go's `wg.Add(1)` goes before `go`.

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
        // Counted in here, on the batch job's thread, before the upload's thread
        // exists: from now until that thread counts itself out, the count is above
        // zero, so a `wait` that starts after `start` returns cannot see the batch done.
        self.uploads.in_flight.fetch_add(1, Ordering::Relaxed);
        let uploads = Arc::clone(&self.uploads);
        thread::spawn(move || {
            upload();
            uploads.finished();
        });
    }

    /// Returns once every upload started so far has finished.
    pub fn wait(&self) {
        let uploads = &self.uploads;
        // Checked and slept on under one lock, and checked again on every wake-up.
        let mut lock = uploads.lock.lock().unwrap();
        while uploads.in_flight.load(Ordering::Acquire) > 0 {
            lock = uploads.all_done.wait(lock).unwrap();
        }
    }
}

impl Uploads {
    /// Counts one upload out, and wakes the batch job after the last.
    fn finished(&self) {
        // Release, read by wait's Acquire: the upload's work happens before the count
        // reaches zero, so the batch job that sees zero sees the work too.
        if self.in_flight.fetch_sub(1, Ordering::Release) == 1 {
            // Taken only to notify: `wait` holds the lock from its check until it
            // sleeps, so this notify comes before the check (which then sees zero) or
            // after the sleep (which it ends), never in between.
            let _lock = self.lock.lock().unwrap();
            self.all_done.notify_all();
        }
    }
}
// ANCHOR_END: batch
