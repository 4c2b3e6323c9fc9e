//! loom models of the labs' synchronous cores.
//!
//! A model runs a lab's own code under loom, which tries every interleaving of its
//! threads (up to a bound on preemptions) and so finds, every time, the schedule that
//! real threads hit once in a million runs. Labs take their sync types from
//! `leaklab-sync`, which under loom logs each operation with the line that made it;
//! when an execution breaks the property, the model prints that log, so the student
//! sees the interleaving itself.
//!
//! - [`driver`]: runs any model (a shared value, named threads, a property) and
//!   collects the executions that break it.
//! - [`steps`]: an execution's log as text, and back.
//! - `labNN`: one module per modelled lab, with the property it checks.
//!
//! Each model has a check binary per copy of its lab (`src/bin/labNN-<variant>.rs`)
//! that reports through labkit's child protocol, like the scenarios. They mean
//! something only when built with `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg tokio_unstable" cargo build --release -p leaklab-models --target-dir target/loom
//! ```
//!
//! Without it they still compile (so workspace builds and clippy cover them), and every
//! check reports `unchecked` instead of passing.

#[cfg(loom)]
pub mod driver;
pub mod lab03;
pub mod lab11;
#[cfg(loom)]
pub mod steps;

use labkit::child::Meta;
pub use labkit::child::Subject;
pub use labkit::{Check, Finding, Kind, Variant, Verdict};

/// `labkit::check_bin!` asks every check crate for a live run first; a loom model has
/// none (`cargo lab N --console` runs the scenario binaries, see leaklab-checks' `live`).
#[macro_export]
macro_rules! live {
    ($which:ident, $lab:ident, $subject:expr) => {};
}

/// Runs a model against `subject` in this (child) process and reports to the runner.
pub fn serve(subject: Subject, check: impl FnOnce(&Subject) -> Verdict) -> ! {
    let meta = Meta {
        lab: subject.lab,
        variant: subject.variant,
        check: Check::Loom,
    };
    labkit::child::serve(meta, || check(&subject))
}

/// Without `--cfg loom` there is no model to run: say so, never pass.
#[cfg(not(loom))]
pub fn without_loom() -> Verdict {
    Verdict {
        findings: vec![Finding::new(
            Kind::Unchecked,
            "this check binary was built without --cfg loom, so it has no model to run; `cargo lab \
             check` builds it with RUSTFLAGS=\"--cfg loom --cfg tokio_unstable\" in its own target \
             dir",
        )],
        ..Verdict::default()
    }
}
