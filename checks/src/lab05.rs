//! Lab 5's check: when the request is cancelled, everything it started stops with it.
//!
//! Each case exports a few patients' results to a GP practice whose inbox takes each
//! page in its own time, and cancels the request's token partway through, or never.
//! The check starts no task of its own, so every task in the run is the export's; the
//! detector gives each one's end time. The property a fix must hold, whatever its shape:
//! the export ends when it returns, or the moment it is cancelled if that comes first,
//! and no task it started ends later than that (one still alive after the runtime
//! settles counts to the end of the run); it returns as soon as it is cancelled; and an
//! export nobody cancels sends every page.
//!
//! A child that cancels its own fresh token after a fixed sleep cannot pass: the cases
//! cancel at different moments and take from milliseconds to most of a minute, so the
//! sleep is too short for the long export (pages are lost) or outlasts a cancel (the
//! child lives on after it, for however short a time: the check compares end times, it
//! does not only count what is left after the settle window).

use crate::Subject;
use crate::hidden::Cases;
use labkit::detector::{TaskRecord, group_sites};
use labkit::{Detector, Finding, Kind, Verdict};
use leaklab_clinic::{GpInbox, GpPractice, PatientResults};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub const LAB: u32 = 5;

/// How long the runtime settles after the export returns before the check looks at what
/// is still alive.
pub const SETTLE: Duration = Duration::from_secs(1);

/// One export: each patient's results, and when (if ever) the clinician cancels it.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// How long the GP's inbox takes to take one page, per patient (patients are 1, 2, ...).
    pub page_ms: &'static [u64],
    /// How many pages each patient's results fill.
    pub pages: u32,
    pub cancel_after_ms: Option<u64>,
}

pub const CASES: [Case; 5] = [
    Case {
        name: "cancelled before the first page arrives",
        page_ms: &[40, 25, 60],
        pages: 4,
        cancel_after_ms: Some(10),
    },
    Case {
        name: "cancelled midway through a slow export",
        page_ms: &[1_500, 2_200, 900, 3_000],
        pages: 5,
        cancel_after_ms: Some(4_000),
    },
    Case {
        name: "a quick export nobody cancels",
        page_ms: &[15, 30, 10],
        pages: 3,
        cancel_after_ms: None,
    },
    Case {
        name: "a long export nobody cancels",
        page_ms: &[8_000, 12_000],
        pages: 4,
        cancel_after_ms: None,
    },
    Case {
        name: "cancelled just before the last pages",
        page_ms: &[100, 90],
        pages: 5,
        cancel_after_ms: Some(440),
    },
];

impl Case {
    pub fn patients(&self) -> Vec<u32> {
        (1..=self.page_ms.len() as u32).collect()
    }

    /// What the GP practice receives for each patient, and how fast.
    fn results(&self) -> HashMap<u32, PatientResults> {
        let each = self.page_ms.iter().map(|&ms| PatientResults {
            pages: self.pages,
            page_time: Duration::from_millis(ms),
        });
        self.patients().into_iter().zip(each).collect()
    }

    /// The pages an export nobody cancels must send.
    pub fn total_pages(&self) -> usize {
        self.page_ms.len() * self.pages as usize
    }
}

/// What one export did, in time since it started.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// When the check cancelled the request; `None`: it returned before the cancel, or
    /// the case never cancels.
    pub cancelled_at: Option<Duration>,
    pub returned_at: Duration,
    /// Every task the export started (the check starts none of its own).
    pub tasks: Vec<TaskRecord>,
    /// When the check stopped looking: a task alive then counts as ending then.
    pub run_end: Duration,
    /// When each page reached the GP.
    pub pages: Vec<Duration>,
}

impl Seen {
    /// When the export ended: the moment it was cancelled, or else when it returned.
    pub fn request_end(&self) -> Duration {
        self.cancelled_at.unwrap_or(self.returned_at)
    }
}

/// How a check binary calls this lab. The token is tokio-util's `CancellationToken`,
/// named here because the check binary, where this expands, depends on tokio-util; the
/// check itself only needs to make a token (`Default`) and cancel it.
#[macro_export]
macro_rules! lab05 {
    ($lab:ident, $subject:expr) => {
        $crate::lab05::check(
            $subject,
            ::tokio_util::sync::CancellationToken::cancel,
            $lab::export_lab_results,
        )
    };
}

/// Every case against one copy of the lab. `cancel` cancels the request's token.
pub fn check<T, C, F, Fut>(_subject: &Subject, cancel: C, export_lab_results: F) -> Verdict
where
    T: Default + Clone,
    C: Fn(&T),
    F: Fn(T, GpInbox, Vec<u32>) -> Fut,
    Fut: Future<Output = ()>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut spawned, mut outlived, mut after_cancel) = (0, 0, 0);
    for case in cases.iter() {
        let seen = run(case, &cancel, &export_lab_results);
        spawned += seen.tasks.len();
        outlived += outliving(&seen).len();
        after_cancel += pages_after_cancel(&seen);
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("exports", cases.len() as u64);
    verdict.measure("tasks_spawned", spawned as u64);
    verdict.measure("tasks_outliving_their_request", outlived as u64);
    verdict.measure("pages_sent_after_cancel", after_cancel as u64);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    page_ms: Vec<u64>,
    pages: u32,
    cancel_after_ms: Option<u64>,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        if self.page_ms.is_empty() {
            return Err("page_ms is empty: an export needs at least one patient".into());
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            page_ms: crate::hidden::leak(self.page_ms),
            pages: self.pages,
            cancel_after_ms: self.cancel_after_ms,
        })
    }
}

/// One export, cancelled at the case's moment unless it returned first.
fn run<T, C, F, Fut>(case: &Case, cancel: &C, export_lab_results: &F) -> Seen
where
    T: Default + Clone,
    C: Fn(&T),
    F: Fn(T, GpInbox, Vec<u32>) -> Fut,
    Fut: Future<Output = ()>,
{
    let practice = GpPractice::new(case.results());
    let cancel_after = case.cancel_after_ms.map(Duration::from_millis);
    let outcome = Detector::new().settle(SETTLE).run(|| async {
        let start = Instant::now();
        let request = T::default();
        let export = export_lab_results(request.clone(), practice.inbox(), case.patients());
        let mut export = std::pin::pin!(export);
        let mut cancelled_at = None;
        if let Some(after) = cancel_after {
            tokio::select! {
                biased;
                () = &mut export => return (None, start.elapsed(), start),
                () = tokio::time::sleep(after) => {
                    cancel(&request);
                    cancelled_at = Some(start.elapsed());
                }
            }
        }
        export.await;
        (cancelled_at, start.elapsed(), start)
    });
    let (cancelled_at, returned_at, start) = outcome.output;
    Seen {
        cancelled_at,
        returned_at,
        tasks: outcome.tasks,
        run_end: returned_at + SETTLE,
        pages: practice.arrived().iter().map(|page| page.at - start).collect(),
    }
}

/// The tasks that ended after the export did (or never), with by how long.
fn outliving(seen: &Seen) -> Vec<(&TaskRecord, Duration)> {
    let end = seen.request_end();
    seen.tasks
        .iter()
        .map(|task| (task, task.ended_at.unwrap_or(seen.run_end)))
        .filter(|&(_, ended)| ended > end)
        .map(|(task, ended)| (task, ended - end))
        .collect()
}

fn pages_after_cancel(seen: &Seen) -> usize {
    seen.cancelled_at
        .map_or(0, |at| seen.pages.iter().filter(|&&page| page > at).count())
}

/// The rules for one export: nothing it started outlives it, it returns when cancelled,
/// and an export nobody cancels sends every page.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = case.name;
    findings.extend(judge_outliving(case, seen));
    if let Some(cancelled) = seen.cancelled_at.filter(|&at| seen.returned_at > at) {
        let message = format!(
            "{name}: the request was cancelled at {}, but export_lab_results returned only at {}",
            ms(cancelled),
            ms(seen.returned_at)
        );
        let finding = Finding::new(Kind::MissedDeadline, message)
            .measure("cancelled_at_ms", cancelled.as_millis() as u64)
            .measure("returned_at_ms", seen.returned_at.as_millis() as u64);
        findings.push(finding);
    }
    if seen.cancelled_at.is_none() && seen.pages.len() < case.total_pages() {
        let message = format!(
            "{name}: nobody cancelled the export, but only {} of its {} pages reached the GP",
            seen.pages.len(),
            case.total_pages()
        );
        let finding = Finding::new(Kind::LostWork, message)
            .measure("pages_sent", seen.pages.len() as u64)
            .measure("pages_total", case.total_pages() as u64);
        findings.push(finding);
    }
    findings
}

/// The tasks that outlived the export: how many, by how long, and where they start.
fn judge_outliving(case: &Case, seen: &Seen) -> Option<Finding> {
    let outliving = outliving(seen);
    if outliving.is_empty() {
        return None;
    }
    let tasks: Vec<TaskRecord> = outliving.iter().map(|(task, _)| (*task).clone()).collect();
    // Where the tasks still alive are parked, when some are; else where all of them start.
    let alive: Vec<TaskRecord> = tasks.iter().filter(|t| t.ended_at.is_none()).cloned().collect();
    let sites = group_sites(if alive.is_empty() { &tasks } else { &alive });
    let count = tasks.len();
    let total: Duration = outliving.iter().map(|(_, by)| *by).sum();
    let longest = outliving.iter().map(|(_, by)| *by).max().unwrap_or_default();
    let still_alive = alive.len();
    let place = sites
        .first()
        .map(|site| format!(", spawned at {site}"))
        .unwrap_or_default();
    let who = match (count, seen.tasks.len()) {
        (1, 1) => "the task it started".to_owned(),
        (2, 2) => "both tasks it started".to_owned(),
        (k, n) if k == n => format!("all {n} tasks it started"),
        (k, n) => format!("{k} of the {n} tasks it started"),
    };
    let how_long = match still_alive {
        0 => format!(", for up to {}", ms(longest)),
        n => format!(", {n} still alive after the runtime settled"),
    };
    let message = match seen.cancelled_at {
        Some(at) => format!(
            "{}: the request was cancelled at {}, but {who} ran on after it{place}{how_long}; {} more \
             pages reached the GP after the cancel",
            case.name,
            ms(at),
            pages_after_cancel(seen),
        ),
        None => format!(
            "{}: export_lab_results returned at {}, but {who} ran on after it{place}{how_long}",
            case.name,
            ms(seen.returned_at),
        ),
    };
    let finding = Finding::new(Kind::LeakedTask, message)
        .measure("tasks_outliving_their_request", count as u64)
        .measure("tasks_spawned", seen.tasks.len() as u64)
        .measure("outlived_ms_longest", longest.as_millis() as u64)
        .measure("outlived_ms_total", total.as_millis() as u64)
        .measure("alive_tasks", still_alive as u64)
        .measure("pages_sent_after_cancel", pages_after_cancel(seen) as u64);
    Some(finding.with_sites(sites))
}

/// A moment or a span the way a person says it: `440 ms`, `4 s`, `7.5 s`.
fn ms(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64()).replace(".0 s", " s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: u64, ended_ms: Option<u64>) -> TaskRecord {
        TaskRecord {
            id,
            file: Some("labs/lab05_orphaned_token.rs".into()),
            line: 21,
            spawned_at: Duration::ZERO,
            ended_at: ended_ms.map(Duration::from_millis),
            stack: None,
        }
    }

    /// What a correct copy sees: cancelled children end at the cancel, and an export
    /// nobody cancels returns when its last page arrives, with every page sent.
    fn correct(case: &Case) -> Seen {
        let last_page = case.page_ms.iter().max().copied().unwrap_or(0) * u64::from(case.pages);
        let end = case.cancel_after_ms.unwrap_or(last_page);
        let tasks = case
            .patients()
            .iter()
            .map(|&p| task(u64::from(p), Some(end)))
            .collect();
        let page_times = case
            .page_ms
            .iter()
            .flat_map(|&ms| (1..=u64::from(case.pages)).map(move |n| ms * n));
        let pages = page_times
            .filter(|&at| at <= end)
            .map(Duration::from_millis)
            .collect();
        Seen {
            cancelled_at: case.cancel_after_ms.map(Duration::from_millis),
            returned_at: Duration::from_millis(end),
            tasks,
            run_end: Duration::from_millis(end) + SETTLE,
            pages,
        }
    }

    fn kinds(case: &Case, seen: &Seen) -> Vec<Kind> {
        judge(case, seen).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_correct_copy_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn a_child_that_ends_any_time_after_the_cancel_is_a_leak() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.tasks[1].ended_at = Some(Duration::from_millis(11));
        let findings = judge(case, &seen);
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::LeakedTask]
        );
        assert_eq!(
            findings[0].sites[0].to_string(),
            "labs/lab05_orphaned_token.rs:21"
        );
        assert_eq!(findings[0].measured["outlived_ms_longest"], 1);
    }

    #[test]
    fn a_child_alive_after_the_settle_counts_to_the_end_of_the_run() {
        let case = &CASES[1];
        let mut seen = correct(case);
        seen.tasks[0].ended_at = None;
        let findings = judge(case, &seen);
        assert_eq!(findings[0].kind, Kind::LeakedTask);
        assert_eq!(
            findings[0].measured["outlived_ms_longest"],
            SETTLE.as_millis() as u64
        );
        assert_eq!(findings[0].measured["alive_tasks"], 1);
    }

    #[test]
    fn the_tasks_shown_parked_are_those_still_alive() {
        let case = &CASES[1];
        let mut seen = correct(case);
        let cancelled = seen.cancelled_at.expect("a cancelled case");
        seen.tasks[0].ended_at = None;
        seen.tasks[1].ended_at = Some(cancelled + Duration::from_millis(5));
        let findings = judge(case, &seen);
        assert_eq!(findings[0].measured["tasks_outliving_their_request"], 2);
        assert_eq!(findings[0].measured["alive_tasks"], 1);
        assert_eq!(findings[0].sites.iter().map(|s| s.count).sum::<u32>(), 1);
    }

    #[test]
    fn a_task_outliving_an_uncancelled_export_is_a_leak() {
        let case = &CASES[3];
        let mut seen = correct(case);
        seen.tasks.push(task(9, Some(60_000)));
        assert_eq!(kinds(case, &seen), [Kind::LeakedTask]);
    }

    #[test]
    fn returning_after_the_cancel_misses_the_deadline() {
        let case = &CASES[4];
        let seen = Seen {
            returned_at: Duration::from_millis(500),
            ..correct(case)
        };
        assert_eq!(kinds(case, &seen), [Kind::MissedDeadline]);
    }

    #[test]
    fn a_page_missing_from_an_uncancelled_export_is_lost_work() {
        let case = &CASES[3];
        let mut seen = correct(case);
        seen.pages.pop();
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn times_read_as_a_person_says_them() {
        assert_eq!(ms(Duration::from_millis(440)), "440 ms");
        assert_eq!(ms(Duration::from_secs(4)), "4 s");
        assert_eq!(ms(Duration::from_millis(7_500)), "7.5 s");
    }

    #[test]
    fn the_cases_vary_the_cancel_and_the_work() {
        // A fixed sleep that outlasts the longest export nobody cancels outlasts every
        // cancel by far; any shorter one loses that export's last pages.
        let uncancelled = CASES.iter().filter(|c| c.cancel_after_ms.is_none());
        let longest = uncancelled
            .map(|c| c.page_ms.iter().max().unwrap() * u64::from(c.pages))
            .max();
        let cancels: Vec<u64> = CASES.iter().filter_map(|c| c.cancel_after_ms).collect();
        assert!(cancels.len() >= 3);
        assert!(cancels.iter().all(|&at| longest.unwrap() > 10 * at));
    }
}
