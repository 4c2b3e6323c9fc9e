#![doc = include_str!("../README.md")]
//!
//! ## Inside leaklab
//!
//! This crate is also leaklab's measuring kit (its directory is `labkit/`). The
//! non-default `lab` feature adds what only leaklab needs:
//!
//! - `child`: runs each check in a child process that the parent watches with a wall
//!   clock, so a lab that hangs, spins, exits or crashes still yields a report;
//! - `watchdog`: the child's thread that reports a check that stopped making progress
//!   (a spin, a deadlock, a hang) with the line it stopped on, sampled by `stacks`;
//! - `finding`: what a check reports, as data (`--json` prints it as is);
//! - `steps`: the text of a loom finding's detail, written by the models and read back
//!   by the runner.

#[cfg(feature = "lab")]
pub mod child;
#[cfg(feature = "runtime")]
pub mod detector;
#[cfg(feature = "lab")]
pub mod finding;
pub mod paths;
#[cfg(feature = "lab")]
pub mod stacks;
#[cfg(feature = "lab")]
pub mod steps;
// The detector's slots name each polling thread; only leaklab's watchdog samples them.
#[cfg(all(feature = "runtime", not(feature = "lab")))]
#[allow(dead_code, unused_imports)]
mod stacks;
#[cfg(feature = "lab")]
pub mod watchdog;

#[cfg(feature = "runtime")]
pub use detector::{Detector, Flavor, LeakReport, Outcome, TaskRecord, verify_none};
#[cfg(feature = "lab")]
pub use finding::{Check, Finding, Kind, Report, Site, Variant, Verdict};
#[cfg(feature = "macros")]
pub use tokio_leakcheck_macros::test;
#[cfg(feature = "lab")]
pub use watchdog::progress;
