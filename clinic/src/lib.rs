//! The clinic's back end as the labs see it: the services a lab calls, simulated on
//! tokio's clock, one file per service.
//!
//! Each service comes in two halves. The half a lab calls (`LabSystem::lookup`,
//! `RecordStore::write`) is all a student sees. The other half belongs to the scenario
//! that drives the lab: it decides how fast (or whether) the service answers and
//! records what happened (`Registry::written`), so every run is exact, and instant on
//! the paused clock. Labs import from here, never from the checks that grade them.

mod audit;
mod charts;
mod gp_inbox;
mod lab_system;
mod pager;
mod pathology;
mod records;
mod redaction;
mod research;
mod results_service;
mod scheduler;
mod ward_board;

pub use audit::{AuditLine, AuditLog, AuditTrail};
pub use charts::{Chart, ChartArchive, Fetch, RecordsService};
pub use gp_inbox::{GpInbox, GpPractice, Page, PatientResults};
pub use lab_system::LabSystem;
pub use pager::{Ack, PageId, Pager, PagingNetwork, PendingAcks, PendingEntry};
pub use pathology::{Department, Pathology, PathologyDesk, SummaryRequest};
pub use records::{PatientRecord, RecordStore, Registry, SyncError};
pub use redaction::{ClinicalNote, NOTE_WORK, NotesExport, Redactor};
pub use research::{Anonymiser, Ehr, ResearchRecord, ResearchRegistry, ResearchStudy};
pub use results_service::{Answer, Calls, LabResults, Laboratory, Reply, ResultRequest, Sent, Unavailable};
pub use scheduler::{Appointment, Diary, Scheduler};
pub use ward_board::{ResultNotice, Ward, WardBoard};
