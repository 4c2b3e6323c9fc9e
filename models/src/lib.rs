//! loom models of the labs' synchronous cores.
//!
//! A model runs a lab's own code under loom, which tries every interleaving of its
//! threads (up to a bound on preemptions) and so finds, every time, the schedule that
//! real threads hit once in a million runs. Labs take their sync types from
//! `leaklab-sync`, which under loom logs each operation; when an execution breaks the
//! property, the model prints that log, so the student sees the interleaving itself.
//!
//! Each model has a check binary per copy of its lab (`src/bin/labNN-<variant>.rs`) that
//! reports through labkit's child protocol, like the scenario checks. They mean
//! something only when built with `--cfg loom`:
//!
//! ```text
//! RUSTFLAGS="--cfg loom --cfg tokio_unstable" cargo build --release -p leaklab-models --target-dir target/loom
//! ```
//!
//! Without it they still compile (so workspace builds and clippy cover them), and every
//! check reports that it was built without loom instead of passing.

pub mod counter;
#[cfg(loom)]
mod source;
