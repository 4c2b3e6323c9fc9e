//! The loom driver: any model is a shared value, some named threads that act on it,
//! and a property checked once they are joined.
//!
//! [`explore`] runs every interleaving (up to the preemption bound) and collects each
//! execution that breaks the property, with its log, instead of panicking on the first:
//! loom carries on, so every failure is counted. A panic (from the lab, or loom's own
//! deadlock detector or step bound) ends the exploration and comes back as
//! [`Stopped`], with the log of the execution it stopped.

use crate::steps::Step;
use leaklab_sync::log;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

/// A thread's work, or the property: `Some(violation)` when it saw the model break.
pub type Body<S, V> = Arc<dyn Fn(&S) -> Option<V> + Send + Sync>;

/// One model: what the threads share, the threads, and the property afterwards.
pub struct Model<S, V> {
    pub new: fn() -> S,
    /// Each thread's name (shown in the log) and what it does.
    pub threads: Vec<(String, Body<S, V>)>,
    /// Checked on `main` once every thread is joined.
    pub after: Body<S, V>,
    /// Preemptions loom may make per execution: enough to split the steps that race.
    pub preemption_bound: usize,
}

/// One execution that broke the property: its log and what was seen.
#[derive(Clone, Debug)]
pub struct Failure<V> {
    pub steps: Vec<Step>,
    pub violation: V,
}

/// What loom's exploration found.
#[derive(Debug)]
pub struct Explored<V> {
    pub executions: u64,
    pub failures: Vec<Failure<V>>,
    /// Whether the model's threads logged any step: they do unless the lab bypasses the
    /// shim, which loom cannot see.
    pub saw_thread_steps: bool,
}

/// An exploration a panic ended: its message and the log of that execution.
#[derive(Debug)]
pub struct Stopped {
    pub panic: String,
    pub steps: Vec<Step>,
}

impl Stopped {
    /// loom's deadlock detector: every thread was blocked.
    pub fn deadlock(&self) -> bool {
        self.panic.starts_with("deadlock")
    }

    /// loom's bound on steps in one execution: a thread spun waiting for another.
    pub fn spin(&self) -> bool {
        self.panic.contains("maximum number of branches")
    }
}

/// Runs `model` under loom. See the module docs.
pub fn explore<S, V>(model: Model<S, V>) -> Result<Explored<V>, Stopped>
where
    S: Send + Sync + 'static,
    V: Send + 'static,
{
    let explored = Arc::new(Mutex::new(Explored {
        executions: 0,
        failures: Vec::new(),
        saw_thread_steps: false,
    }));
    let shared = Arc::clone(&explored);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(model.preemption_bound);
    builder.checkpoint_file = None;
    let Model {
        new, threads, after, ..
    } = model;

    let run = catch_unwind(AssertUnwindSafe(|| {
        builder.check(move || {
            log::clear();
            labkit::progress();
            // The value's Arcs are dropped by hand, never by unwinding: after a panic (or
            // a deadlock) loom can take no more steps, and dropping a loom Arc then would
            // panic again and abort the process.
            let value = ManuallyDrop::new(loom::sync::Arc::new(new()));
            // A std Mutex, invisible to loom: recording a violation adds no interleavings
            // (loom runs one thread at a time, so it never blocks).
            let violations: Arc<Mutex<Vec<V>>> = Arc::default();
            let handles: Vec<_> = threads
                .iter()
                .map(|(name, body)| {
                    let value = ManuallyDrop::new(loom::sync::Arc::clone(&value));
                    let seen = Arc::clone(&violations);
                    let body = Arc::clone(body);
                    loom::thread::Builder::new()
                        .name(name.clone())
                        .spawn(move || {
                            if let Some(violation) = body(&value) {
                                seen.lock().unwrap_or_else(|e| e.into_inner()).push(violation);
                            }
                            drop(ManuallyDrop::into_inner(value));
                        })
                        .expect("loom spawns a model thread")
                })
                .collect();
            for handle in handles {
                handle.join().expect("a model thread panicked");
            }
            // The log ends with the threads: the property's own reads are not steps.
            let steps = log::take();
            let mut seen = std::mem::take(&mut *violations.lock().unwrap_or_else(|e| e.into_inner()));
            seen.extend(after(&value));
            drop(ManuallyDrop::into_inner(value));

            let mut explored = shared.lock().unwrap_or_else(|e| e.into_inner());
            explored.executions += 1;
            explored.saw_thread_steps |= steps.iter().any(|step| step.thread != "main");
            if let Some(violation) = seen.into_iter().next() {
                explored.failures.push(Failure { steps, violation });
            }
        });
    }));
    match run {
        Ok(()) => {
            let mut explored = explored.lock().unwrap_or_else(|e| e.into_inner());
            Ok(std::mem::replace(
                &mut *explored,
                Explored {
                    executions: 0,
                    failures: Vec::new(),
                    saw_thread_steps: false,
                },
            ))
        }
        Err(panic) => Err(Stopped {
            panic: labkit::child::panic_message(panic.as_ref()),
            steps: log::take(),
        }),
    }
}
