//! Lab 8's check: the export returns within a deadline, with every record in the
//! registry exactly once and no stage of the pipeline still running.
//!
//! Each case is one export with its own number of records and its own pace for each
//! stage (a slow health record, a slow registry, a big batch, an empty one). The check
//! races the export against a deadline on the paused clock, generous enough for the
//! records to pass one at a time through all three stages. An export still running then
//! is a hang, reported by the check itself with the stages still alive and the await
//! each one is parked in: a pipeline waiting on a channel that never closes leaves the
//! paused runtime idle forever, and racing it against virtual time turns that into a
//! measured finding (records delivered, stages alive) in no time. When the export
//! returns, the check looks at once: which records are in the registry, how many times,
//! and which stages still run.
//!
//! `rx.close()` in a consumer cannot pass: closing stops every send still to come, so
//! the records not yet read are lost (the slow health record makes sure some are). A
//! timeout around the final await cannot pass either: it returns with the stages still
//! alive, and before the slow registry has the last records. Guessing the end from an
//! empty queue or an idle spell fails on the slow stages the same way.
//!
//! Losses and duplicates are counted apart: a record missing is `lost work`, a record
//! written twice a `lost update` (the registry is left wrong, as by a lost update).

use crate::Subject;
use crate::hidden::Cases;
use labkit::detector::{TaskRecord, alive_now, group_sites};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{Anonymiser, Ehr, ResearchRegistry, ResearchStudy};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub const LAB: u32 = 8;

/// One export: how many records, and how long each stage takes per record.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub records: u32,
    pub read_ms: u64,
    pub anonymise_ms: u64,
    pub write_ms: u64,
}

pub const CASES: [Case; 5] = [
    Case {
        name: "a quiet evening",
        records: 5,
        read_ms: 10,
        anonymise_ms: 20,
        write_ms: 5,
    },
    Case {
        name: "a big batch",
        records: 200,
        read_ms: 1,
        anonymise_ms: 2,
        write_ms: 1,
    },
    Case {
        name: "a slow registry",
        records: 30,
        read_ms: 5,
        anonymise_ms: 10,
        write_ms: 400,
    },
    Case {
        name: "a slow health record",
        records: 8,
        read_ms: 250,
        anonymise_ms: 20,
        write_ms: 10,
    },
    Case {
        name: "nothing to export",
        records: 0,
        read_ms: 10,
        anonymise_ms: 10,
        write_ms: 10,
    },
];

impl Case {
    /// The longest a correct export can take: every record through every stage, one
    /// at a time, with no overlap at all.
    pub fn one_at_a_time(&self) -> Duration {
        let per_record = self.read_ms + self.anonymise_ms + self.write_ms;
        Duration::from_millis(u64::from(self.records) * per_record)
    }

    /// How long the check waits for the export to return.
    pub fn deadline(&self) -> Duration {
        self.one_at_a_time() + Duration::from_secs(1)
    }
}

/// What one export left, at the instant it returned or at the deadline.
#[derive(Debug, Default)]
pub struct Seen {
    /// How long the export took; `None`: it had not returned by the deadline.
    pub took: Option<Duration>,
    /// The tasks still alive then, with the await each is parked in where a task dump
    /// could be taken.
    pub running: Vec<TaskRecord>,
    /// The records in the registry then, by id, and how many times each was written.
    pub written: BTreeMap<u32, u32>,
    /// When the last record was written, since the export started.
    pub last_write: Option<Duration>,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab08 {
    ($lab:ident, $subject:expr) => {
        $crate::lab08::check($subject, $lab::export_for_research)
    };
}

/// Every case against one copy of the lab.
pub fn check<F, Fut>(_subject: &Subject, export_for_research: F) -> Verdict
where
    F: Fn(Ehr, Anonymiser, ResearchRegistry) -> Fut,
    Fut: Future<Output = ()>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut total, mut lost, mut duplicated, mut running) = (0, 0, 0, 0);
    // A task dump is the slow part of a run: take one for the first export that leaves
    // stages behind, which is enough to show where they wait.
    let mut dumped = false;
    for case in cases.iter() {
        let seen = run(case, &export_for_research, !dumped);
        dumped |= seen.running.iter().any(|task| task.stack.is_some());
        total += case.records;
        lost += (1..=case.records)
            .filter(|id| !seen.written.contains_key(id))
            .count();
        duplicated += seen.written.values().filter(|&&times| times > 1).count();
        running += seen.running.len();
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("records_total", u64::from(total));
    verdict.measure("records_lost", lost as u64);
    verdict.measure("records_duplicated", duplicated as u64);
    verdict.measure("stages_alive", running as u64);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with an owned name.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    records: u32,
    read_ms: u64,
    anonymise_ms: u64,
    write_ms: u64,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        Ok(Case {
            name: crate::hidden::name(self.name),
            records: self.records,
            read_ms: self.read_ms,
            anonymise_ms: self.anonymise_ms,
            write_ms: self.write_ms,
        })
    }
}

/// One export, raced against its deadline on the paused clock; with `stacks`, a task
/// dump of the stages it leaves behind.
fn run<F, Fut>(case: &Case, export_for_research: &F, stacks: bool) -> Seen
where
    F: Fn(Ehr, Anonymiser, ResearchRegistry) -> Fut,
    Fut: Future<Output = ()>,
{
    let ms = Duration::from_millis;
    let study = ResearchStudy::new(
        case.records,
        ms(case.read_ms),
        ms(case.anonymise_ms),
        ms(case.write_ms),
    );
    let detector = if stacks {
        Detector::new()
    } else {
        Detector::new().without_stacks()
    };
    let outcome = detector.run(|| async {
        let started = Instant::now();
        let mut export = Box::pin(export_for_research(
            study.ehr(),
            study.anonymiser(),
            study.registry(),
        ));
        let returned = tokio::time::timeout(case.deadline(), &mut export).await;
        // The instant the export returned, or was given up on: look before anything
        // else runs.
        let seen = Seen {
            took: returned.ok().map(|()| started.elapsed()),
            running: alive_now(),
            written: study.written(),
            last_write: study.last_written().map(|at| at - started),
        };
        // An export that did not return is handed out unfinished, not dropped: dropping
        // it would drop what it holds (a spare sender, say) and end the very wait it is
        // stuck in. Held, its stages stay parked where they are for the task dump.
        let stuck = seen.took.is_none().then_some(export);
        (seen, stuck)
    });
    let (mut seen, stuck) = outcome.output;
    drop(stuck);
    // The stages still alive after the settle window were dumped: where each waits.
    for task in &mut seen.running {
        if let Some(leak) = outcome.leaks.iter().find(|leak| leak.id == task.id) {
            task.stack = leak.stack.clone();
        }
    }
    seen
}

/// The rules for one export: it returns within the deadline, with every record
/// written exactly once and no stage still running.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = case.name;
    let total = case.records;
    let once = (1..=total).filter(|id| seen.written.get(id) == Some(&1)).count();
    let missing: Vec<u32> = (1..=total).filter(|id| !seen.written.contains_key(id)).collect();
    let running = seen.running.len();
    let sites = group_sites(&seen.running);
    match seen.took {
        None => {
            let last = match seen.last_write {
                Some(at) => format!(", the last at {}", seconds(at)),
                None => String::new(),
            };
            let stages = match running {
                0 => "no stage was alive: the export itself was waiting".to_owned(),
                1 => format!("1 stage was still waiting{}", at(&sites)),
                _ => format!("{running} stages were still waiting{}", at(&sites)),
            };
            let work = match total {
                0 => "it had no records to export".to_owned(),
                _ => format!(
                    "its {total} records need at most {} even one at a time; {once} of {total} were in \
                     the registry{last}",
                    seconds(case.one_at_a_time())
                ),
            };
            let message = format!(
                "{name}: the export had not returned after {}, though {work}, and {stages}",
                seconds(case.deadline()),
            );
            let finding = Finding::new(Kind::Hang, message)
                .measure("waited_ms", case.deadline().as_millis() as u64)
                .measure("records_written", once as u64)
                .measure("stages_alive", running as u64);
            findings.push(finding.with_sites(sites));
        }
        Some(took) => {
            if !missing.is_empty() {
                let message = format!(
                    "{name}: {} of {total} records never reached the registry before the export returned \
                     after {}{}",
                    missing.len(),
                    seconds(took),
                    if running > 0 {
                        format!(
                            "; {running} {} still running then",
                            if running == 1 { "stage was" } else { "stages were" }
                        )
                    } else {
                        String::new()
                    }
                );
                let finding = Finding::new(Kind::LostWork, message)
                    .measure("records_lost", missing.len() as u64)
                    .measure("records_total", u64::from(total));
                findings.push(finding);
            }
            if running > 0 {
                let message = format!(
                    "{name}: {running} {} still running when the export returned{}",
                    if running == 1 { "stage was" } else { "stages were" },
                    at(&sites)
                );
                let finding = Finding::new(Kind::LeakedTask, message).measure("stages_alive", running as u64);
                findings.push(finding.with_sites(sites));
            }
        }
    }
    findings.extend(judge_duplicates(case, seen));
    findings
}

/// A record written twice is in the registry twice: the study counts that patient
/// twice. Reported as a lost update, the kind for a shared store left wrong.
fn judge_duplicates(case: &Case, seen: &Seen) -> Option<Finding> {
    let twice: Vec<(u32, u32)> = seen
        .written
        .iter()
        .filter(|&(_, &times)| times > 1)
        .map(|(&id, &times)| (id, times))
        .collect();
    let &(id, times) = twice.first()?;
    let message = format!(
        "{}: {} of {} records reached the registry more than once (record {id} {times} times): each \
         record must be written exactly once",
        case.name,
        twice.len(),
        case.records
    );
    Some(Finding::new(Kind::Duplicated, message).measure("records_duplicated", twice.len() as u64))
}

fn seconds(time: Duration) -> String {
    format!("{:.2} s", time.as_secs_f64())
}

fn at(sites: &[Site]) -> String {
    let places: Vec<String> = sites.iter().map(Site::to_string).collect();
    match places.as_slice() {
        [] => String::new(),
        [one] => format!(", spawned at {one}"),
        [init @ .., last] => format!(", spawned at {} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a correct export of `case` sees: every record once, nothing running.
    fn correct(case: &Case) -> Seen {
        Seen {
            took: Some(case.one_at_a_time() / 2),
            running: Vec::new(),
            written: (1..=case.records).map(|id| (id, 1)).collect(),
            last_write: Some(case.one_at_a_time() / 2),
        }
    }

    fn stage(line: u32) -> TaskRecord {
        TaskRecord {
            id: u64::from(line),
            file: Some("labs/lab08_unclosed_pipeline.rs".into()),
            line,
            spawned_at: Duration::ZERO,
            ended_at: None,
            stack: None,
        }
    }

    fn kinds(case: &Case, seen: &Seen) -> Vec<Kind> {
        judge(case, seen).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_correct_export_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn an_export_that_never_returns_is_a_hang_naming_the_stages() {
        let case = &CASES[0];
        let seen = Seen {
            took: None,
            running: vec![stage(32), stage(39)],
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(kinds(case, &seen), [Kind::Hang]);
        let message = &findings[0].message;
        assert!(message.contains("5 of 5 were in the registry"), "{message}");
        assert!(message.contains("lab08_unclosed_pipeline.rs:32 and labs/lab08_unclosed_pipeline.rs:39"));
        assert_eq!(findings[0].sites[0].line, 32);
    }

    #[test]
    fn records_missing_when_it_returns_are_lost_work_apart_from_duplicates() {
        let case = &CASES[2];
        let mut seen = correct(case);
        seen.written.remove(&30);
        seen.written.remove(&29);
        seen.written.insert(3, 2);
        let findings = judge(case, &seen);
        assert_eq!(kinds(case, &seen), [Kind::LostWork, Kind::Duplicated]);
        assert_eq!(findings[0].measured["records_lost"], 2);
        assert_eq!(findings[1].measured["records_duplicated"], 1);
    }

    #[test]
    fn a_stage_still_running_when_it_returns_is_a_leak() {
        let case = &CASES[1];
        let seen = Seen {
            running: vec![stage(39)],
            ..correct(case)
        };
        assert_eq!(kinds(case, &seen), [Kind::LeakedTask]);
    }

    #[test]
    fn the_cases_vary_the_size_and_the_slowest_stage() {
        let slowest = |c: &Case| {
            let stages = [c.read_ms, c.anonymise_ms, c.write_ms];
            stages.iter().position(|&ms| ms == *stages.iter().max().unwrap())
        };
        let mut bottlenecks: Vec<_> = CASES.iter().filter(|c| c.records > 0).map(slowest).collect();
        bottlenecks.sort();
        bottlenecks.dedup();
        assert!(bottlenecks.len() == 3, "each stage is the slowest somewhere");
        assert!(CASES.iter().any(|c| c.records == 0));
        // Far more records than the lab's queues hold (4 each): the stages must wait on
        // each other, not only on the services.
        assert!(CASES.iter().any(|c| c.records > 40));
    }
}
