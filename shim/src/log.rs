//! What the shim's types did in the current loom execution, in the order loom ran it.

use std::cell::RefCell;

/// One operation: which thread, what it did, the value it read and the value it wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The loom thread's name, or `main` for the model's own thread.
    pub thread: String,
    /// The method called: `load`, `store`, `fetch_add`, `lock`, `unlock`, ...
    pub op: String,
    pub read: Option<u64>,
    pub wrote: Option<u64>,
}

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

pub(crate) fn record(op: &str, read: Option<u64>, wrote: Option<u64>) {
    let thread = loom::thread::current().name().unwrap_or("main").to_owned();
    let step = Step {
        thread,
        op: op.to_owned(),
        read,
        wrote,
    };
    STEPS.with_borrow_mut(|steps| steps.push(step));
}
