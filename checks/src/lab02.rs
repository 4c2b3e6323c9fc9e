//! Lab 2's check: when `sync_patient_records` returns, every record is written, no
//! worker is still running, and a failed write comes back as an error.
//!
//! The check runs the sync once per case, each against a registry with its own speed
//! and its own rejected records, and looks at the instant the function returns (when
//! `main` returns the runtime drops every task). A sleep cannot pass: one long enough
//! for the slow registry is far too long for the fast one, and the check measures how
//! long the function waited after the last write came back. `abort()` cannot pass:
//! aborted writes never land. Returning at the first failed write cannot pass either:
//! the cases vary which record fails and when, so writes are still under way then.

use crate::{Subject, count};
use labkit::detector::{TaskRecord, alive_now, group_sites};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{PatientRecord, RecordStore, Registry, SyncError};
use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub const LAB: u32 = 2;

/// One run: a registry with its own speed, and the records it rejects.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// Write time of each record, in milliseconds; record ids are 1, 2, ...
    pub write_ms: &'static [u64],
    pub rejects: &'static [u32],
}

pub const CASES: [Case; 5] = [
    Case {
        name: "fast registry",
        write_ms: &[12, 5, 40, 23, 31, 8, 17, 50],
        rejects: &[],
    },
    Case {
        name: "slow registry",
        write_ms: &[4_000, 9_000, 2_500, 7_000, 6_200, 3_100],
        rejects: &[],
    },
    Case {
        name: "the last write to come back is rejected",
        write_ms: &[30, 10, 60, 20, 45],
        rejects: &[3],
    },
    Case {
        name: "the first write to come back is rejected",
        write_ms: &[70, 5, 40, 90, 25, 60],
        rejects: &[2],
    },
    Case {
        name: "two writes are rejected, early and late",
        write_ms: &[35, 80, 15, 50, 120],
        rejects: &[3, 5],
    },
];

/// How long the function may take after the last write comes back (virtual time is
/// exact, so a join returns at the same instant).
pub const SLACK: Duration = Duration::from_millis(1);

/// What one run saw at the instant the function returned.
#[derive(Debug)]
pub struct Seen {
    /// `Ok(count)`, or the record the returned error names.
    pub result: Result<usize, u32>,
    pub took: Duration,
    /// The workers still running.
    pub running: Vec<TaskRecord>,
    /// The records written by then.
    pub written: HashSet<u32>,
    /// When the last write attempt (successful or not) came back.
    pub last_write: Duration,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab02 {
    ($lab:ident, $subject:expr) => {
        $crate::lab02::check($subject, $lab::sync_patient_records)
    };
}

/// Every case against one copy of the lab.
pub fn check<F, Fut>(_subject: &Subject, sync_patient_records: F) -> Verdict
where
    F: Fn(RecordStore, Vec<PatientRecord>) -> Fut,
    Fut: Future<Output = Result<usize, SyncError>>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let hidden = match crate::hidden::cases::<HiddenCase>(LAB) {
        Ok(hidden) => hidden,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let count = hidden.len();
    let hidden = crate::hidden::leak(hidden.into_iter().map(HiddenCase::into_case).collect());
    let mut verdict = Verdict::default();
    let (mut total, mut lost_total) = (0, 0);
    for case in CASES.iter().chain(hidden) {
        let seen = run(case, &sync_patient_records);
        let expected = case.expected();
        total += expected.len();
        lost_total += expected.difference(&seen.written).count();
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("records_total", total as u64);
    verdict.measure("records_lost", lost_total as u64);
    if count > 0 {
        crate::hidden::ran(&mut verdict, count);
    }
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    write_ms: Vec<u64>,
    #[serde(default)]
    rejects: Vec<u32>,
}

impl HiddenCase {
    /// The case, its fields kept for the rest of the (short-lived) check process.
    fn into_case(self) -> Case {
        Case {
            name: Box::leak(format!("hidden: {}", self.name).into_boxed_str()),
            write_ms: crate::hidden::leak(self.write_ms),
            rejects: crate::hidden::leak(self.rejects),
        }
    }
}

impl Case {
    fn ids(&self) -> impl Iterator<Item = u32> + Clone {
        1..=self.write_ms.len() as u32
    }

    /// The rejected records that count as the first failure: the lowest-numbered (a join
    /// in record order meets it first) and the first to come back (a join in the order
    /// the writes finish does).
    pub fn first_failures(&self) -> Vec<u32> {
        let by_order = self.rejects.iter().min().copied();
        let by_time = self
            .rejects
            .iter()
            .min_by_key(|&&id| self.write_ms[id as usize - 1])
            .copied();
        let mut first: Vec<u32> = by_order.into_iter().chain(by_time).collect();
        first.sort_unstable();
        first.dedup();
        first
    }

    /// The records the registry accepts: every one of them must be written.
    pub fn expected(&self) -> HashSet<u32> {
        self.ids().filter(|id| !self.rejects.contains(id)).collect()
    }
}

/// One sync, seen at the instant it returns.
fn run<F, Fut>(case: &Case, sync_patient_records: &F) -> Seen
where
    F: Fn(RecordStore, Vec<PatientRecord>) -> Fut,
    Fut: Future<Output = Result<usize, SyncError>>,
{
    let write_time = case
        .ids()
        .zip(case.write_ms.iter().map(|&ms| Duration::from_millis(ms)))
        .collect();
    let registry = Registry::new(write_time, case.rejects.iter().copied().collect());
    let records = case.ids().map(|id| PatientRecord { id }).collect();
    let outcome = Detector::new().without_stacks().run(|| async {
        let started = Instant::now();
        let result = sync_patient_records(registry.store(), records).await;
        // This is the moment `main` returns: look before anything else runs.
        let running = alive_now();
        let last_write = registry.last_finished().map(|at| at - started);
        Seen {
            result: result.map_err(|error| error.record),
            took: started.elapsed(),
            running,
            written: registry.written().into_keys().collect(),
            last_write: last_write.unwrap_or_default(),
        }
    });
    outcome.output
}

/// The rules for one run: every accepted record written, nothing running, the right
/// answer, and no waiting once the work is done.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = case.name;
    let expected = case.expected();
    let lost = expected.difference(&seen.written).count();
    let running = seen.running.len();
    let sites = group_sites(&seen.running);
    if lost > 0 {
        let message = format!(
            "{name}: {lost} of the {} records the registry accepts {} never written; {running} {} still running when sync \
             returned{}",
            expected.len(),
            if lost == 1 { "was" } else { "were" },
            if running == 1 { "task was" } else { "tasks were" },
            spawned_at(&sites)
        );
        let finding = Finding::new(Kind::LostWork, message)
            .measure("records_lost", lost as u64)
            .measure("records_total", expected.len() as u64)
            .measure("tasks_running", running as u64);
        findings.push(finding.with_sites(sites));
    } else if running > 0 {
        let message = format!(
            "{name}: {running} {} still running when sync returned{}",
            if running == 1 { "task was" } else { "tasks were" },
            spawned_at(&sites)
        );
        let finding = Finding::new(Kind::LeakedTask, message).measure("tasks_running", running as u64);
        findings.push(finding.with_sites(sites));
    }
    findings.extend(judge_answer(case, seen, expected.len()));
    if lost == 0 && seen.took > seen.last_write + SLACK {
        let message = format!(
            "{name}: sync returned after {} ms, but the last write came back at {} ms: it waited for \
             something other than its workers (a sleep?)",
            count(seen.took.as_millis() as u64),
            count(seen.last_write.as_millis() as u64)
        );
        let finding = Finding::new(Kind::MissedDeadline, message)
            .measure("took_ms", seen.took.as_millis() as u64)
            .measure("last_write_ms", seen.last_write.as_millis() as u64);
        findings.push(finding);
    }
    findings
}

/// What sync answered: a rejected write must come back as its error, and `Ok` must count
/// the records synced.
fn judge_answer(case: &Case, seen: &Seen, expected: usize) -> Option<Finding> {
    let name = case.name;
    let finding = match (case.rejects, seen.result) {
        ([], Err(record)) => Finding::new(
            Kind::LostWork,
            format!("{name}: every write succeeded, but sync returned an error for record {record}"),
        ),
        ([], Ok(n)) if n != expected => Finding::new(
            Kind::LostWork,
            format!("{name}: {expected} records were synced, but sync returned Ok({n})"),
        ),
        ([], Ok(_)) => return None,
        (rejects, Ok(n)) => Finding::new(
            Kind::SwallowedError,
            format!(
                "{name}: the registry rejected {}, but sync returned Ok({n})",
                list(rejects)
            ),
        )
        .measure("rejected_records", rejects.len() as u64),
        (rejects, Err(record)) if !rejects.contains(&record) => Finding::new(
            Kind::SwallowedError,
            format!(
                "{name}: the registry rejected {}, but sync's error names record {record}",
                list(rejects)
            ),
        ),
        (rejects, Err(record)) if !case.first_failures().contains(&record) => Finding::new(
            Kind::SwallowedError,
            format!(
                "{name}: the registry rejected {}, {} first, but sync's error names record {record}: \
                 the first failure is the one to pass up",
                list(rejects),
                list(&case.first_failures()),
            ),
        ),
        (_, Err(_)) => return None,
    };
    Some(finding)
}

/// `record 3`, `records 3 and 5`, `records 2, 3 and 5`.
fn list(ids: &[u32]) -> String {
    let words: Vec<String> = ids.iter().map(u32::to_string).collect();
    match words.split_last() {
        Some((last, [])) => format!("record {last}"),
        Some((last, rest)) => format!("records {} and {last}", rest.join(", ")),
        None => "no record".to_owned(),
    }
}

fn spawned_at(sites: &[Site]) -> String {
    sites
        .first()
        .map(|site| format!(", spawned at {site}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_that_is_not_the_first_failure_is_swallowed() {
        let case = &CASES[4];
        assert_eq!(case.first_failures(), [3]);
        let seen = |result| Seen {
            result,
            took: Duration::from_millis(120),
            running: Vec::new(),
            written: case.expected().into_iter().collect(),
            last_write: Duration::from_millis(120),
        };
        let findings = judge(case, &seen(Err(5)));
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::SwallowedError]
        );
        assert!(
            findings[0].message.contains("record 3 first"),
            "{}",
            findings[0].message
        );
        assert!(judge(case, &seen(Err(3))).is_empty());
        // First by record order and first to come back may differ: either will do.
        let apart = Case {
            name: "apart",
            write_ms: &[50, 10, 30],
            rejects: &[1, 2],
        };
        assert_eq!(apart.first_failures(), [1, 2]);
    }

    #[test]
    fn record_lists_read_as_a_person_writes_them() {
        assert_eq!(list(&[3]), "record 3");
        assert_eq!(list(&[3, 5]), "records 3 and 5");
        assert_eq!(list(&[2, 3, 5]), "records 2, 3 and 5");
    }

    /// What a correct sync of `case` sees: everything written, nothing running, the
    /// answer that fits, returned when the last write came back.
    fn correct(case: &Case) -> Seen {
        let last = case.write_ms.iter().copied().max().unwrap_or(0);
        Seen {
            result: match case.rejects.first() {
                Some(&record) => Err(record),
                None => Ok(case.expected().len()),
            },
            took: Duration::from_millis(last),
            running: Vec::new(),
            written: case.expected(),
            last_write: Duration::from_millis(last),
        }
    }

    fn kinds(case: &Case, seen: &Seen) -> Vec<Kind> {
        judge(case, seen).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_correct_sync_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn a_record_not_written_is_lost_work() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.written.remove(&3);
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn a_rejection_answered_with_ok_is_a_swallowed_error() {
        let case = &CASES[2];
        let seen = Seen {
            result: Ok(4),
            ..correct(case)
        };
        assert_eq!(kinds(case, &seen), [Kind::SwallowedError]);
    }

    #[test]
    fn the_first_failure_may_be_the_error() {
        let case = &CASES[4];
        for record in case.first_failures() {
            let seen = Seen {
                result: Err(record),
                ..correct(case)
            };
            assert_eq!(kinds(case, &seen), []);
        }
        let seen = Seen {
            result: Err(1),
            ..correct(case)
        };
        assert_eq!(kinds(case, &seen), [Kind::SwallowedError]);
    }

    #[test]
    fn waiting_after_the_last_write_misses_the_deadline() {
        let case = &CASES[1];
        let mut seen = correct(case);
        seen.took += Duration::from_millis(2);
        assert_eq!(kinds(case, &seen), [Kind::MissedDeadline]);
    }

    #[test]
    fn the_cases_vary_which_write_fails_first_and_last() {
        let first_to_return =
            |case: &Case| (1..=case.write_ms.len() as u32).min_by_key(|id| case.write_ms[*id as usize - 1]);
        let last_to_return =
            |case: &Case| (1..=case.write_ms.len() as u32).max_by_key(|id| case.write_ms[*id as usize - 1]);
        let rejected_first = CASES
            .iter()
            .any(|c| first_to_return(c).is_some_and(|id| c.rejects.contains(&id)));
        let rejected_last = CASES
            .iter()
            .any(|c| last_to_return(c).is_some_and(|id| c.rejects.contains(&id)));
        assert!(rejected_first && rejected_last);
    }
}
