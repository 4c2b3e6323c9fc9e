//! labkit: leaklab's measuring kit.
//!
//! - [`detector`]: runs a scenario on a tokio runtime it hooks, and names every task
//!   still alive afterwards, with where it was spawned (goleak's `VerifyNone`, for tokio).
//! - [`child`]: runs each check in a child process that the parent watches with a wall
//!   clock, so a lab that hangs, spins, exits or crashes still yields a report.
//! - [`watchdog`]: the child's thread that reports a check that stopped making progress
//!   (a spin, a deadlock, a hang) with the line it stopped on, sampled by [`stacks`].
//! - [`finding`]: what a check reports, as data (`--json` prints it as is).

pub mod child;
#[cfg(feature = "runtime")]
pub mod detector;
pub mod finding;
pub mod paths;
pub mod stacks;
pub mod watchdog;

#[cfg(feature = "runtime")]
pub use detector::{Detector, Flavor, Outcome, verify_none};
pub use finding::{Check, Finding, Kind, Report, Site, Variant, Verdict};
pub use watchdog::progress;
