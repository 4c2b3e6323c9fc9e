//! Lab 2's check: when `sync_patient_records` returns, every record is written, no
//! worker is still running, and a failed write comes back as an error.
//!
//! The check runs the sync three times with different write times, looking at the
//! instant the function returns (when `main` returns the runtime drops every task).
//! A sleep cannot pass: one long enough for the slow registry is far too long for the
//! fast one, and the check also measures how long the function waited after the last
//! record was written. `abort()` cannot pass either: aborted writes never land.

use crate::clinic::{PatientRecord, RecordStore};
use labkit::child::{Meta, serve as serve_child};
use labkit::detector::{TaskRecord, alive_now, group_sites};
use labkit::{Detector, Finding, Kind, Report, Variant};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// One run: a registry with its own speed, and maybe a record it rejects.
pub struct Run {
    pub name: &'static str,
    /// Write time of each record, in milliseconds; record ids are 1, 2, ...
    pub write_ms: &'static [u64],
    pub reject: Option<u32>,
}

pub const RUNS: [Run; 3] = [
    Run {
        name: "fast registry",
        write_ms: &[12, 5, 40, 23, 31, 8, 17, 50],
        reject: None,
    },
    Run {
        name: "slow registry",
        write_ms: &[4_000, 9_000, 2_500, 7_000, 6_200, 3_100],
        reject: None,
    },
    Run {
        name: "a rejected record",
        write_ms: &[30, 10, 60, 20, 45],
        reject: Some(3),
    },
];

/// How long the function may take after the last record is written (virtual time is
/// exact, so a join returns at the same instant).
const SLACK: Duration = Duration::from_millis(1);

/// Runs the check in this (child) process and reports to the runner.
pub fn serve<F, Fut, E>(variant: Variant, sync_patient_records: F) -> !
where
    F: Fn(RecordStore, Vec<PatientRecord>) -> Fut,
    Fut: Future<Output = Result<usize, E>>,
{
    serve_child(
        Meta {
            lab: 2,
            variant,
            check: "scenario",
        },
        || check(variant, sync_patient_records),
    )
}

/// What one run saw at the instant the function returned.
struct Seen {
    result: Result<usize, ()>,
    took: Duration,
    running: Vec<TaskRecord>,
    written: HashMap<u32, Duration>,
    /// When the last write attempt (successful or not) came back.
    last_write: Duration,
}

/// Every run of the scenario against one copy of the lab.
pub fn check<F, Fut, E>(variant: Variant, sync_patient_records: F) -> Report
where
    F: Fn(RecordStore, Vec<PatientRecord>) -> Fut,
    Fut: Future<Output = Result<usize, E>>,
{
    let mut report = Report::new(2, variant, "scenario");
    let (mut total, mut lost_total) = (0, 0);
    for run in &RUNS {
        let ids = 1..=run.write_ms.len() as u32;
        let write_time = ids
            .clone()
            .zip(run.write_ms.iter().map(|&ms| Duration::from_millis(ms)))
            .collect();
        let store = RecordStore::new(write_time, run.reject.into_iter().collect());
        let records: Vec<PatientRecord> = ids.clone().map(|id| PatientRecord { id }).collect();
        let outcome = Detector::new().without_stacks().run(|| async {
            let started = Instant::now();
            let result = sync_patient_records(store.clone(), records).await.map_err(|_| ());
            // This is the moment `main` returns: look before anything else runs.
            let running = alive_now();
            let written = store
                .written()
                .into_iter()
                .map(|(id, at)| (id, at - started))
                .collect();
            let last_write = store.last_finished().map(|at| at - started).unwrap_or_default();
            Seen {
                result,
                took: started.elapsed(),
                running,
                written,
                last_write,
            }
        });
        let seen = outcome.output;
        let expected: HashSet<u32> = ids.filter(|id| Some(*id) != run.reject).collect();
        let lost = expected
            .iter()
            .filter(|id| !seen.written.contains_key(id))
            .count();
        total += expected.len();
        lost_total += lost;
        report.findings.extend(judge(run, &seen, expected.len(), lost));
    }
    report.measured.insert("records_total".into(), total as u64);
    report.measured.insert("records_lost".into(), lost_total as u64);
    report
}

fn judge(run: &Run, seen: &Seen, expected: usize, lost: usize) -> Vec<Finding> {
    let mut findings = Vec::new();
    let running = seen.running.len();
    let sites = group_sites(&seen.running);
    let name = run.name;
    if lost > 0 {
        let message = format!(
            "{name}: {lost} of {expected} records were never written; {running} {} still running when \
             sync returned{}",
            if running == 1 { "task was" } else { "tasks were" },
            spawned_at(&sites)
        );
        let finding = Finding::new(Kind::LostWork, message)
            .measure("records_lost", lost as u64)
            .measure("records_total", expected as u64)
            .measure("tasks_running", running as u64);
        findings.push(finding.with_sites(sites));
    } else if running > 0 {
        let message = format!(
            "{name}: {running} tasks were still running when sync returned{}",
            spawned_at(&sites)
        );
        let finding = Finding::new(Kind::LeakedTask, message).measure("tasks_running", running as u64);
        findings.push(finding.with_sites(sites));
    }
    match (run.reject, &seen.result) {
        (Some(id), Ok(n)) => findings.push(
            Finding::new(
                Kind::LostWork,
                format!("{name}: record {id} was rejected, but sync returned Ok({n})"),
            )
            .measure("rejected_record", u64::from(id)),
        ),
        (None, Err(())) => findings.push(Finding::new(
            Kind::LostWork,
            format!("{name}: every write succeeded, but sync returned an error"),
        )),
        (None, Ok(n)) if *n != expected && lost == 0 => findings.push(Finding::new(
            Kind::LostWork,
            format!("{name}: {expected} records were synced, but sync returned Ok({n})"),
        )),
        _ => {}
    }
    let last_write = seen.last_write;
    if lost == 0 && seen.took > last_write + SLACK {
        let message = format!(
            "{name}: sync returned after {} ms, but the last record was written at {} ms: it waited for \
             something other than its workers (a sleep?)",
            seen.took.as_millis(),
            last_write.as_millis()
        );
        let finding = Finding::new(Kind::Hang, message)
            .measure("took_ms", seen.took.as_millis() as u64)
            .measure("last_write_ms", last_write.as_millis() as u64);
        findings.push(finding);
    }
    findings
}

fn spawned_at(sites: &[labkit::Site]) -> String {
    sites
        .first()
        .map(|site| format!(", spawned at {site}"))
        .unwrap_or_default()
}
