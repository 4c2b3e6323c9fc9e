//! The clinic's back end as the labs see it: the services a lab calls, simulated on
//! tokio's clock, one file per service.
//!
//! Each service comes in two halves. The half a lab calls (`LabSystem::lookup`,
//! `RecordStore::write`) is all a student sees. The other half belongs to the scenario
//! that drives the lab: it decides how fast (or whether) the service answers and
//! records what happened (`Registry::written`), so every run is exact, and instant on
//! the paused clock. Labs import from here, never from the checks that grade them.

mod lab_system;
mod records;

pub use lab_system::LabSystem;
pub use records::{PatientRecord, RecordStore, Registry, SyncError};
