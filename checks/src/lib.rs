//! The labs: one registry that everything reads, and each lab's scenario.
//!
//! The data flow: a lab file (`labs/`, `solutions/` or `tests/originals/`) is compiled
//! into a check binary (`src/bin/labNN-<variant>.rs`) together with its scenario
//! (`src/labNN.rs`). The scenario drives the lab under labkit's leak detector and
//! returns a [`labkit::Report`]; the runner (`leaklab`), the tests and the grader read
//! that report. The binaries include the lab files with `#[path]`, one binary per lab
//! and copy, so a lab that does not compile breaks only its own binary.

pub mod clinic;
pub mod lab01;
pub mod lab02;
pub mod lab03;
pub mod registry;

pub use registry::{Check, LABS, Lab};
