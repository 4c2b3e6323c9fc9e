//! The clinic's audit log: every service writes a line when it starts, stops or acts
//! on a patient's data.
//!
//! The log also guards itself against a writer stuck in a loop. A loop that writes a
//! line and never reaches an `.await` that waits would write for ever, and nothing else
//! on its thread could run to stop it. So the log counts the lines written since the
//! scenario last had a turn of the runtime ([`AuditTrail::turn`]): at
//! [`AuditTrail::BURST_LIMIT`] in one go it refuses the next line by unwinding (a panic
//! that prints nothing), which ends the task that wrote it, and notes where that line
//! came from. A healthy service writes a handful of lines per turn.
//!
//! Two halves, as for every service: [`AuditLog`] is what a lab writes to;
//! [`AuditTrail`] belongs to the scenario, which reads the lines back.

use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::time::Instant;

/// The audit log as a lab sees it: somewhere to write a line.
#[derive(Clone, Debug)]
pub struct AuditLog {
    trail: Arc<Mutex<State>>,
}

impl AuditLog {
    /// Writes one line to the audit log.
    ///
    /// # Panics
    ///
    /// When [`AuditTrail::BURST_LIMIT`] lines have been written since the scenario's
    /// last turn: the writer is looping without ever yielding. The panic unwinds the
    /// writer's task without running the panic hook, so nothing is printed.
    #[track_caller]
    pub fn record(&self, line: &str) {
        let place = Location::caller();
        let mut state = lock(&self.trail);
        if state.since_turn >= AuditTrail::BURST_LIMIT {
            state.refused = Some(place);
            drop(state);
            let refusal = format!(
                "the audit log refused line {} from {place} (\"{line}\"): {} lines in a row without \
                 the writer ever yielding",
                AuditTrail::BURST_LIMIT + 1,
                AuditTrail::BURST_LIMIT
            );
            // Unwinds without the panic hook: the scenario reads what happened from the
            // trail, and a printed message (with a backtrace) would only cost time.
            std::panic::resume_unwind(Box::new(refusal));
        }
        state.since_turn += 1;
        state.lines.push(AuditLine {
            at: Instant::now(),
            place,
        });
    }
}

/// One line of the log: when, and which line of code wrote it.
#[derive(Clone, Copy, Debug)]
pub struct AuditLine {
    pub at: Instant,
    pub place: &'static Location<'static>,
}

/// The audit log as a scenario sees it.
#[derive(Clone, Debug, Default)]
pub struct AuditTrail {
    inner: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    lines: Vec<AuditLine>,
    since_turn: u32,
    refused: Option<&'static Location<'static>>,
}

impl AuditTrail {
    /// How many lines the log takes without the scenario getting a turn in between.
    pub const BURST_LIMIT: u32 = 10_000;

    pub fn new() -> Self {
        AuditTrail::default()
    }

    /// The handle a lab writes through.
    pub fn log(&self) -> AuditLog {
        AuditLog {
            trail: self.inner.clone(),
        }
    }

    /// The scenario had a turn of the runtime: whatever runs next ran after it.
    pub fn turn(&self) {
        lock(&self.inner).since_turn = 0;
    }

    /// Every line written, in order.
    pub fn lines(&self) -> Vec<AuditLine> {
        lock(&self.inner).lines.clone()
    }

    /// Where the line that the log refused came from, if it refused one.
    pub fn refused(&self) -> Option<&'static Location<'static>> {
        lock(&self.inner).refused
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
