//! The pathology departments, asked for a patient's results all at once.
//!
//! A clinician's request for a results summary arrives as a [`SummaryRequest`], with
//! the trace id the portal gave it; a lab asks each [`Department`] through
//! [`Pathology::results`]. That is all a lab sees. The [`PathologyDesk`] is the
//! scenario's half: it holds every lookup at the door until the scenario opens it (so
//! that requests are in flight together, by construction rather than by timing), and
//! notes which task asked for which patient.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// A clinician's request for a patient's results summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryRequest {
    /// Names this request in every log line it causes, across every service it reaches.
    pub trace_id: String,
    pub patient: u32,
}

/// A pathology department with results of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Department {
    Haematology,
    Biochemistry,
    Microbiology,
}

impl Department {
    pub const ALL: [Department; 3] = [
        Department::Haematology,
        Department::Biochemistry,
        Department::Microbiology,
    ];
}

impl fmt::Display for Department {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Department::Haematology => "haematology",
            Department::Biochemistry => "biochemistry",
            Department::Microbiology => "microbiology",
        })
    }
}

/// The departments as a lab sees them: somewhere to ask for results.
#[derive(Clone, Debug)]
pub struct Pathology {
    desk: Arc<Desk>,
    open: watch::Receiver<bool>,
}

impl Pathology {
    /// The patient's latest results from one department.
    pub async fn results(&self, department: Department, patient: u32) -> String {
        let task = tokio::task::try_id().and_then(|id| id.to_string().parse().ok());
        lock(&self.desk.callers).push((task, patient));
        let mut open = self.open.clone();
        // Dropped sender: the scenario is over, and nobody is left to wait for.
        let _ = open.wait_for(|open| *open).await;
        // Every lookup lets the others run before it answers, so the requests' work
        // interleaves even on one thread.
        tokio::task::yield_now().await;
        match department {
            Department::Haematology => format!("patient {patient}: haemoglobin 131 g/L"),
            Department::Biochemistry => format!("patient {patient}: creatinine 84 umol/L"),
            Department::Microbiology => format!("patient {patient}: blood culture, no growth"),
        }
    }
}

/// The departments as a scenario sees them: the door every lookup waits at, and who
/// asked.
#[derive(Debug)]
pub struct PathologyDesk {
    desk: Arc<Desk>,
    open: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Desk {
    /// The task each lookup came from (`None`: from no task) and its patient.
    callers: Mutex<Vec<(Option<u64>, u32)>>,
}

impl Default for PathologyDesk {
    fn default() -> Self {
        PathologyDesk::new()
    }
}

impl PathologyDesk {
    /// Departments whose door is shut: every lookup waits until [`PathologyDesk::open`].
    pub fn new() -> Self {
        PathologyDesk {
            desk: Arc::default(),
            open: watch::Sender::new(false),
        }
    }

    /// The handle a lab asks through.
    pub fn pathology(&self) -> Pathology {
        Pathology {
            desk: self.desk.clone(),
            open: self.open.subscribe(),
        }
    }

    /// Lets every lookup, waiting or to come, through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Each lookup so far: the tokio task it came from, as the leak detector numbers
    /// tasks (`None`: from no task), and the patient it was for.
    pub fn callers(&self) -> Vec<(Option<u64>, u32)> {
        lock(&self.desk.callers).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
