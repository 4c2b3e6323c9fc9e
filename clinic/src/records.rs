//! The regional registry that patient records are synced to.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// One patient's record, to be copied to the regional registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientRecord {
    pub id: u32,
}

/// Why a record could not be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncError {
    pub record: u32,
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the registry rejected record {}", self.record)
    }
}

impl std::error::Error for SyncError {}

/// The registry as a lab sees it: somewhere to write records.
#[derive(Clone, Debug)]
pub struct RecordStore {
    registry: Arc<Inner>,
}

impl RecordStore {
    /// Writes one record; it is stored only if this future runs to the end.
    pub async fn write(&self, record: PatientRecord) -> Result<(), SyncError> {
        let inner = &self.registry;
        let time = inner.write_time.get(&record.id).copied().unwrap_or_default();
        tokio::time::sleep(time).await;
        *lock(&inner.last_finished) = Some(Instant::now());
        if inner.rejects.contains(&record.id) {
            return Err(SyncError { record: record.id });
        }
        lock(&inner.written).insert(record.id, Instant::now());
        Ok(())
    }
}

/// The registry as a scenario sees it: how it behaves, and what was written when.
#[derive(Clone, Debug)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    write_time: HashMap<u32, Duration>,
    rejects: HashSet<u32>,
    written: Mutex<BTreeMap<u32, Instant>>,
    last_finished: Mutex<Option<Instant>>,
}

impl Registry {
    /// A registry where writing record `id` takes `write_time[id]`, and the records in
    /// `rejects` fail.
    pub fn new(write_time: HashMap<u32, Duration>, rejects: HashSet<u32>) -> Self {
        let inner = Inner {
            write_time,
            rejects,
            written: Mutex::default(),
            last_finished: Mutex::default(),
        };
        Registry {
            inner: Arc::new(inner),
        }
    }

    /// The handle a lab writes through.
    pub fn store(&self) -> RecordStore {
        RecordStore {
            registry: self.inner.clone(),
        }
    }

    /// When the last write attempt, successful or not, came back.
    pub fn last_finished(&self) -> Option<Instant> {
        *lock(&self.inner.last_finished)
    }

    /// The records stored so far, and when each was stored.
    pub fn written(&self) -> BTreeMap<u32, Instant> {
        lock(&self.inner.written).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
