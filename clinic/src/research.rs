//! The research export: patient records read from the health record, anonymised, and
//! written to a research registry.
//!
//! Three services, each with its own pace: [`Ehr`] hands out today's records one by
//! one, [`Anonymiser`] strips what identifies the patient, and [`ResearchRegistry`]
//! stores the result. Those are what a lab calls. [`ResearchStudy`] is the scenario's
//! half: it sets how many records there are and how fast each service is, and counts
//! what reached the registry, and how many times.

use crate::PatientRecord;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// A record with nothing left that identifies the patient, ready for research.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResearchRecord {
    /// Stands in for the patient; the same record always gets the same pseudonym.
    pub pseudonym: u32,
}

/// The electronic health record, read one record at a time.
#[derive(Debug)]
pub struct Ehr {
    study: Arc<Study>,
    next: u32,
}

impl Ehr {
    /// The next record to export, or `None` once every record has been read.
    pub async fn next_record(&mut self) -> Option<PatientRecord> {
        if self.next >= self.study.records {
            return None;
        }
        tokio::time::sleep(self.study.read).await;
        self.next += 1;
        Some(PatientRecord { id: self.next })
    }
}

/// The anonymisation service.
#[derive(Clone, Debug)]
pub struct Anonymiser {
    study: Arc<Study>,
}

impl Anonymiser {
    /// The record with the patient's identity removed.
    pub async fn anonymise(&self, record: PatientRecord) -> ResearchRecord {
        tokio::time::sleep(self.study.anonymise).await;
        ResearchRecord { pseudonym: record.id }
    }
}

/// The research registry as a lab sees it: somewhere to write anonymised records.
#[derive(Clone, Debug)]
pub struct ResearchRegistry {
    study: Arc<Study>,
}

impl ResearchRegistry {
    /// Stores one record; it is stored only if this future runs to the end. Writing
    /// the same record twice stores it twice.
    pub async fn write(&self, record: ResearchRecord) {
        tokio::time::sleep(self.study.write).await;
        *lock(&self.study.written).entry(record.pseudonym).or_default() += 1;
        *lock(&self.study.last_written) = Some(Instant::now());
    }
}

/// The export as a scenario sees it: how many records, how fast each service is, and
/// what reached the registry.
#[derive(Clone, Debug)]
pub struct ResearchStudy {
    study: Arc<Study>,
}

#[derive(Debug)]
struct Study {
    records: u32,
    read: Duration,
    anonymise: Duration,
    write: Duration,
    /// Pseudonym to how many times it was written.
    written: Mutex<BTreeMap<u32, u32>>,
    last_written: Mutex<Option<Instant>>,
}

impl ResearchStudy {
    /// An export of `records` records (ids 1 to `records`), where reading, anonymising
    /// and writing one record take the given times.
    pub fn new(records: u32, read: Duration, anonymise: Duration, write: Duration) -> Self {
        let study = Study {
            records,
            read,
            anonymise,
            write,
            written: Mutex::default(),
            last_written: Mutex::default(),
        };
        ResearchStudy {
            study: Arc::new(study),
        }
    }

    /// A fresh reader of the health record, from the first record.
    pub fn ehr(&self) -> Ehr {
        Ehr {
            study: self.study.clone(),
            next: 0,
        }
    }

    pub fn anonymiser(&self) -> Anonymiser {
        Anonymiser {
            study: self.study.clone(),
        }
    }

    pub fn registry(&self) -> ResearchRegistry {
        ResearchRegistry {
            study: self.study.clone(),
        }
    }

    /// Each record written so far (by pseudonym, which is the record's id), and how
    /// many times.
    pub fn written(&self) -> BTreeMap<u32, u32> {
        lock(&self.study.written).clone()
    }

    /// When the last record was written, if any was.
    pub fn last_written(&self) -> Option<Instant> {
        *lock(&self.study.last_written)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
