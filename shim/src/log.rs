//! What the shim's types did in the current loom execution, in the order loom ran it.

use std::cell::RefCell;
use std::panic::Location;

/// One operation: which thread, what it did, the value it read and the value it wrote
/// (the type of the text that a loom finding's detail shows).
pub use labkit::steps::Step;

// loom runs a model's executions one after another on the OS thread that called
// it, so a thread-local log holds exactly the execution under way (and models
// checked in parallel, as tests are, keep their logs apart).
thread_local! {
    static STEPS: RefCell<Vec<Step>> = const { RefCell::new(Vec::new()) };
}

/// Empties the log: call it at the start of each execution.
pub fn clear() {
    STEPS.with_borrow_mut(Vec::clear);
}

/// Everything logged since the last [`clear`] (or `take`).
pub fn take() -> Vec<Step> {
    STEPS.with_borrow_mut(std::mem::take)
}

/// Logs a step made by the caller's caller (every logged method tracks its caller).
#[track_caller]
pub(crate) fn record(op: &str, read: Option<u64>, wrote: Option<u64>) {
    record_at(Some(Location::caller()), op, read, wrote);
}

pub(crate) fn record_at(at: Option<&Location<'_>>, op: &str, read: Option<u64>, wrote: Option<u64>) {
    let step = Step {
        thread: thread_name(),
        op: op.to_owned(),
        read,
        wrote,
        at: at.map(|at| format!("{}:{}", at.file(), at.line())),
    };
    STEPS.with_borrow_mut(|steps| steps.push(step));
}

/// The current loom thread's name. loom's first thread runs the model and is `main`; a
/// thread spawned without a name (as a lab spawns its workers) is `thread N`, after
/// loom's index for it in this execution, so that two such threads stay apart in the log.
fn thread_name() -> String {
    let current = loom::thread::current();
    if let Some(name) = current.name() {
        return name.to_owned();
    }
    // loom shows its ThreadId as `ThreadId(N)` and has no other accessor for N.
    let id = format!("{:?}", current.id());
    match id.trim_start_matches("ThreadId(").trim_end_matches(')') {
        "0" => "main".to_owned(),
        n => format!("thread {n}"),
    }
}
