//! Redacting clinical notes for a research study: CPU work, one note at a time.
//!
//! [`Redactor::redact`] is what a lab calls: a synchronous step that strips what
//! identifies the patient from one note. It stands for about [`NOTE_WORK`] of CPU, but
//! does almost none, so an export of twenty thousand notes runs in milliseconds and
//! the check can count notes instead of timing them.
//!
//! [`NotesExport`] is the scenario's half: how many notes there are, after which note
//! the study coordinator presses Stop, what Stop does (the scenario hands in the
//! caller's cancel), and how many notes were redacted, and how many after Stop. Stop
//! is pressed from inside the step that finishes that note, on whatever thread runs it:
//! "how far past Stop" is then an exact count, with no clock and no race.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// The CPU time one note stands for.
pub const NOTE_WORK: Duration = Duration::from_millis(2);

/// One free-text note from a patient's record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClinicalNote {
    pub id: u32,
}

/// The redaction service as a lab sees it.
#[derive(Clone)]
pub struct Redactor {
    export: Arc<Export>,
}

impl Redactor {
    /// Removes names, dates of birth and addresses from one note and files the result
    /// with the study. CPU-bound and synchronous: about [`NOTE_WORK`] per note.
    pub fn redact(&self, note: &ClinicalNote) {
        std::hint::black_box(note.id.wrapping_mul(2_654_435_761));
        let export = &self.export;
        if export.stopped.load(Ordering::SeqCst) {
            export.after_stop.fetch_add(1, Ordering::SeqCst);
            let task = tokio::task::try_id();
            let mut workers = lock(&export.workers_after_stop);
            if !workers.contains(&task) {
                workers.push(task);
            }
        }
        let done = export.redacted.fetch_add(1, Ordering::SeqCst) + 1;
        if export.stop_after == Some(done) {
            export.press_stop();
        }
    }
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor").finish_non_exhaustive()
    }
}

/// The export as a scenario sees it: the notes, when Stop is pressed and what it does,
/// and what was redacted.
#[derive(Clone)]
pub struct NotesExport {
    export: Arc<Export>,
}

struct Export {
    notes: u32,
    stop_after: Option<u32>,
    /// The caller's cancel, run once when Stop is pressed.
    on_stop: OnceLock<Box<dyn Fn() + Send + Sync>>,
    stopped: AtomicBool,
    redacted: AtomicU32,
    after_stop: AtomicU32,
    /// The task that ran each redaction after Stop (`None`: not a task), each once.
    workers_after_stop: Mutex<Vec<Option<tokio::task::Id>>>,
}

impl Export {
    fn press_stop(&self) {
        if !self.stopped.swap(true, Ordering::SeqCst)
            && let Some(cancel) = self.on_stop.get()
        {
            cancel();
        }
    }
}

impl NotesExport {
    /// An export of `notes` notes (ids 1 to `notes`). If `stop_after` is `Some(k)`, Stop
    /// is pressed the moment the `k`th redaction finishes (`Some(0)`: see
    /// [`press_stop`](Self::press_stop)).
    pub fn new(notes: u32, stop_after: Option<u32>) -> Self {
        let export = Export {
            notes,
            stop_after,
            on_stop: OnceLock::new(),
            stopped: AtomicBool::new(false),
            redacted: AtomicU32::new(0),
            after_stop: AtomicU32::new(0),
            workers_after_stop: Mutex::default(),
        };
        NotesExport {
            export: Arc::new(export),
        }
    }

    /// What pressing Stop does: the caller's cancel. Set it before the export starts.
    pub fn on_stop(&self, cancel: impl Fn() + Send + Sync + 'static) {
        let _ = self.export.on_stop.set(Box::new(cancel));
    }

    /// Presses Stop now (for a Stop pressed before the export begins). Only the first
    /// press counts.
    pub fn press_stop(&self) {
        self.export.press_stop();
    }

    pub fn redactor(&self) -> Redactor {
        Redactor {
            export: self.export.clone(),
        }
    }

    /// The notes to redact, in order.
    pub fn notes(&self) -> Vec<ClinicalNote> {
        (1..=self.export.notes).map(|id| ClinicalNote { id }).collect()
    }

    pub fn stop_pressed(&self) -> bool {
        self.export.stopped.load(Ordering::SeqCst)
    }

    /// Redactions so far.
    pub fn redacted(&self) -> u32 {
        self.export.redacted.load(Ordering::SeqCst)
    }

    /// Redactions that started after Stop was pressed.
    pub fn redacted_after_stop(&self) -> u32 {
        self.export.after_stop.load(Ordering::SeqCst)
    }

    /// The tasks that redacted notes after Stop, each once; `None` for work done
    /// outside any task (in the caller's own future).
    pub fn workers_after_stop(&self) -> Vec<Option<tokio::task::Id>> {
        lock(&self.export.workers_after_stop).clone()
    }
}

impl std::fmt::Debug for NotesExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotesExport")
            .field("notes", &self.export.notes)
            .field("stop_after", &self.export.stop_after)
            .field("redacted", &self.redacted())
            .field("redacted_after_stop", &self.redacted_after_stop())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
