//! Lab 10's check: every log line a request's work writes carries that request's trace
//! id, with several requests in flight at once and their work running on any thread.
//!
//! Each case sends several summary requests, each with its own trace id and patient,
//! and polls them all together from the scenario itself, so that a line logged while
//! a request is being polled is known to be that request's. The pathology desk (the
//! scenario's half of the clinic service) holds every department lookup at its door
//! until each request has been polled once, so every request has started (and set up
//! whatever it keeps its trace id in) before any lookup answers: the requests overlap
//! by construction, not by timing. The desk also notes which task asked for which
//! patient, which ties each spawned task's lines to its request. A `tracing` layer
//! captures every line with the fields of the spans it was logged in ([`capture`]).
//! One case runs on one thread (the paused clock, every step in a fixed order), the
//! other on four worker threads, where the spawned work runs on threads the request
//! was never polled on.
//!
//! The property a fix must hold, whatever its shape: every line names a trace id (in
//! a span field, a field of its own or its message), and a line tied to a request
//! names that request's, not another's; and each summary still holds every
//! department's results. A global cannot pass: each request overwrites it, and the
//! first requests' lines, logged after the last one started, name the last one's id.
//! A thread-local cannot either: on one thread it is that same global, and on worker
//! threads the spawned work finds nothing in it. Entering the span with `span.enter()`
//! and holding the guard across an `.await` cannot: the guard stays entered on the
//! thread while other requests run there, so the first requests' lines (even those of
//! lookups instrumented with their own span, which is already entered on the thread
//! and so not entered again) name the request that entered last. And a span taken with `Span::current()` inside the spawned task is
//! the task's own current span: none.

pub mod capture;

use crate::Subject;
use crate::hidden::Cases;
use capture::{Capture, Logged};
use labkit::detector::{TaskRecord, group_sites, normalize};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{Department, Pathology, PathologyDesk, SummaryRequest};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

pub const LAB: u32 = 10;

/// A handful of requests in flight at once.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub requests: usize,
    /// `None`: one thread, on the paused clock. `Some(n)`: `n` worker threads.
    pub workers: Option<usize>,
}

pub const CASES: [Case; 2] = [
    Case {
        name: "three summaries at once, on one thread",
        requests: 3,
        workers: None,
    },
    Case {
        name: "eight summaries at once, on four worker threads",
        requests: 8,
        workers: Some(4),
    },
];

/// Request `i`'s trace id: 32 hex digits, as W3C trace context has them, all of the same
/// length so that none contains another.
pub fn trace_id(i: usize) -> String {
    format!("4bf92f3577b34da6a3ce929d0e0e{:04x}", 0x4700 + i)
}

/// Request `i`'s patient.
pub fn patient(i: usize) -> u32 {
    101 + i as u32
}

/// One captured line, as the rules see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Line {
    /// The request whose work logged it, when the check can tell.
    pub request: Option<usize>,
    /// The request whose trace id it names (the innermost, if it names several).
    pub names: Option<usize>,
    /// Where it was logged.
    pub logged_at: Option<Site>,
    /// The task that logged it (`None`: the request itself, as the scenario polled it).
    pub task: Option<TaskRecord>,
}

/// What one case's requests logged and returned.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub lines: Vec<Line>,
    /// How many departments' results each request's summary held.
    pub summaries: Vec<usize>,
    /// Why no line could be captured, if none could.
    pub uncaptured: Option<String>,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab10 {
    ($lab:ident, $subject:expr) => {
        $crate::lab10::check($subject, $lab::results_summary)
    };
}

/// Every case against one copy of the lab.
pub fn check<F, Fut>(_subject: &Subject, results_summary: F) -> Verdict
where
    F: Fn(SummaryRequest, Pathology) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut requests, mut lines, mut theirs, mut none, mut other) = (0, 0, 0, 0, 0);
    for case in cases.iter() {
        let seen = run(case, &results_summary);
        requests += case.requests;
        lines += seen.lines.len();
        theirs += seen
            .lines
            .iter()
            .filter(|l| l.request.is_some() && l.names == l.request)
            .count();
        none += seen.lines.iter().filter(|l| l.names.is_none()).count();
        other += seen.lines.iter().filter(|l| mixed_up(l)).count();
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("requests", requests as u64);
    verdict.measure("log_lines", lines as u64);
    verdict.measure("lines_with_their_trace_id", theirs as u64);
    verdict.measure("lines_without_a_trace_id", none as u64);
    verdict.measure("lines_with_another_trace_id", other as u64);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with an owned name.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    requests: usize,
    workers: Option<usize>,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        if self.workers == Some(0) {
            return Err("workers is 0: a runtime needs at least one worker thread (null: one thread, on the paused clock)".into());
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            requests: self.requests,
            workers: self.workers,
        })
    }
}

/// One case: every request polled together from the scenario, the desk opened once
/// each has been polled, every line captured.
fn run<F, Fut>(case: &Case, results_summary: &F) -> Seen
where
    F: Fn(SummaryRequest, Pathology) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let desk = PathologyDesk::new();
    let detector = match case.workers {
        None => Detector::new(),
        Some(workers) => Detector::multi_thread(workers),
    };
    let capture = match Capture::start() {
        Ok(capture) => capture,
        Err(why) => {
            return Seen {
                uncaptured: Some(why),
                ..Seen::default()
            };
        }
    };
    let outcome = detector.without_stacks().run(|| async {
        let requests = (0..case.requests).map(|i| {
            let request = SummaryRequest {
                trace_id: trace_id(i),
                patient: patient(i),
            };
            Box::pin(results_summary(request, desk.pathology()))
        });
        all(requests.collect(), || desk.open()).await
    });
    let logged = capture.finish();
    let summaries = outcome.output.iter().map(Vec::len).collect();
    // Each spawned task's request, from the patient it asked the departments about.
    let mut asked: HashMap<u64, Vec<u32>> = HashMap::new();
    for (task, patient) in desk.callers() {
        if let Some(task) = task {
            asked.entry(task).or_default().push(patient);
        }
    }
    let tasks: HashMap<u64, &TaskRecord> = outcome.tasks.iter().map(|t| (t.id, t)).collect();
    let lines = logged
        .iter()
        .map(|logged| Line {
            request: logged.polling.or_else(|| {
                let patients = asked.get(&logged.task?)?;
                let first = *patients.first()?;
                let one = patients.iter().all(|&p| p == first);
                one.then(|| (0..case.requests).find(|&i| patient(i) == first))
                    .flatten()
            }),
            names: names(logged, case.requests),
            logged_at: logged_at(logged),
            task: logged.task.and_then(|id| tasks.get(&id).map(|t| (*t).clone())),
        })
        .collect();
    Seen {
        lines,
        summaries,
        uncaptured: None,
    }
}

/// Polls every request to its end from the scenario's own future, marking which one
/// is being polled, and calls `started` once each has been polled once.
async fn all<Fut: Future>(mut requests: Vec<Pin<Box<Fut>>>, started: impl FnOnce()) -> Vec<Fut::Output> {
    let mut outputs: Vec<Option<Fut::Output>> = requests.iter().map(|_| None).collect();
    let mut started = Some(started);
    std::future::poll_fn(|cx| {
        for (i, request) in requests.iter_mut().enumerate() {
            if outputs[i].is_none()
                && let Poll::Ready(output) = capture::polling(i, || request.as_mut().poll(cx))
            {
                outputs[i] = Some(output);
            }
        }
        if let Some(started) = started.take() {
            started();
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(outputs.iter_mut().filter_map(Option::take).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// The request whose trace id the line names: the innermost text that names one.
fn names(logged: &Logged, requests: usize) -> Option<usize> {
    let ids: Vec<String> = (0..requests).map(trace_id).collect();
    logged
        .texts
        .iter()
        .find_map(|text| ids.iter().position(|id| text.contains(id.as_str())))
}

fn logged_at(logged: &Logged) -> Option<Site> {
    Some(Site {
        file: normalize(logged.file.as_deref()?),
        line: logged.line?,
        count: 1,
        stack: None,
    })
}

/// A line tied to one request that names another's trace id.
fn mixed_up(line: &Line) -> bool {
    matches!((line.request, line.names), (Some(own), Some(named)) if own != named)
}

/// The rules for one case: every line names a trace id, a line of a request's names
/// that request's, every request logged something to check, and every summary is
/// whole.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(why) = &seen.uncaptured {
        let message = format!("{}: the check could not capture the log lines: {why}", case.name);
        return vec![Finding::new(Kind::Unchecked, message)];
    }
    findings.extend(judge_missing(case, seen));
    findings.extend(judge_mixed_up(case, seen));
    findings.extend(judge_summaries(case, seen));
    findings.extend(judge_silent(case, seen));
    findings
}

/// Lines that name no request's trace id.
fn judge_missing(case: &Case, seen: &Seen) -> Option<Finding> {
    let missing: Vec<&Line> = seen.lines.iter().filter(|l| l.names.is_none()).collect();
    if missing.is_empty() {
        return None;
    }
    let total = seen.lines.len();
    let from_tasks = missing.iter().filter(|l| l.task.is_some()).count();
    let sites = sites(&missing);
    let whence = match (from_tasks, sites.first()) {
        (0, _) => String::new(),
        (n, Some(site)) if n == missing.len() => format!(", all of them from tasks spawned at {site}"),
        (n, Some(site)) => format!(", {n} of them from tasks spawned at {site}"),
        (_, None) => String::new(),
    };
    let example = example(&missing);
    let message = format!(
        "{}: {} of {total} log lines carried no trace id{whence}{example}: the request's span (or \
         whatever held its id) did not go with the work into the task",
        case.name,
        missing.len(),
    );
    let finding = Finding::new(Kind::LostContext, message)
        .measure("lines_without_a_trace_id", missing.len() as u64)
        .measure("log_lines", total as u64);
    Some(finding.with_sites(sites))
}

/// Lines of one request that name another request's trace id.
fn judge_mixed_up(case: &Case, seen: &Seen) -> Option<Finding> {
    let mixed: Vec<&Line> = seen.lines.iter().filter(|l| mixed_up(l)).collect();
    let first = mixed.first()?;
    let (own, named) = (first.request?, first.names?);
    let requests: std::collections::BTreeSet<usize> = mixed.iter().filter_map(|l| l.request).collect();
    let sites = sites(&mixed);
    let place = match &first.logged_at {
        Some(site) => format!(" (the line at {site})"),
        None => String::new(),
    };
    let message = format!(
        "{}: {} of {} log lines named another request's trace id, from {} of {} requests: a line of \
         patient {}'s summary{place} named the trace of patient {}'s: a trace id kept where other \
         requests reach it (a global, a thread-local, a span left entered on the thread) ends up \
         naming one of them",
        case.name,
        mixed.len(),
        seen.lines.len(),
        requests.len(),
        case.requests,
        patient(own),
        patient(named),
    );
    let finding = Finding::new(Kind::LostContext, message)
        .measure("lines_with_another_trace_id", mixed.len() as u64)
        .measure("log_lines", seen.lines.len() as u64);
    Some(finding.with_sites(sites))
}

/// Summaries that came back without every department's results.
fn judge_summaries(case: &Case, seen: &Seen) -> Option<Finding> {
    let departments = Department::ALL.len();
    let short: Vec<(usize, usize)> = seen
        .summaries
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n != departments)
        .map(|(i, &n)| (i, n))
        .collect();
    let &(i, n) = short.first()?;
    let message = format!(
        "{}: {} of {} summaries did not hold one result per department (patient {}'s held {n} of \
         {departments})",
        case.name,
        short.len(),
        seen.summaries.len(),
        patient(i),
    );
    Some(Finding::new(Kind::LostWork, message).measure("summaries_short", short.len() as u64))
}

/// Requests that logged nothing the check could tie to them: nothing to check.
fn judge_silent(case: &Case, seen: &Seen) -> Option<Finding> {
    let silent: Vec<usize> = (0..case.requests)
        .filter(|&i| !seen.lines.iter().any(|l| l.request == Some(i)))
        .collect();
    let &first = silent.first()?;
    let message = format!(
        "{}: {} of {} requests logged no line the check could tie to them (patient {}'s, for one): \
         keep the lab's log lines, in the request and in its department lookups",
        case.name,
        silent.len(),
        case.requests,
        patient(first),
    );
    Some(Finding::new(Kind::Unchecked, message).measure("requests_silent", silent.len() as u64))
}

/// Where the lines came from: the spawn sites of the tasks that logged them, then the
/// places lines were logged outside any task.
fn sites(lines: &[&Line]) -> Vec<Site> {
    let tasks: Vec<TaskRecord> = lines.iter().filter_map(|l| l.task.clone()).collect();
    let mut sites = group_sites(&tasks);
    for line in lines.iter().filter(|l| l.task.is_none()) {
        let Some(at) = &line.logged_at else { continue };
        match sites.iter_mut().find(|s| s.file == at.file && s.line == at.line) {
            Some(site) => site.count += 1,
            None => sites.push(at.clone()),
        }
    }
    sites
}

/// `, such as the line at labs/...:31` for the first line that says where it was logged.
fn example(lines: &[&Line]) -> String {
    match lines.iter().find_map(|l| l.logged_at.as_ref()) {
        Some(site) => format!(" (such as the line at {site})"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(line: u32) -> TaskRecord {
        TaskRecord {
            id: u64::from(line),
            file: Some("labs/lab10_lost_trace_id.rs".into()),
            line,
            spawned_at: Default::default(),
            ended_at: None,
            stack: None,
        }
    }

    fn at(line: u32) -> Option<Site> {
        Some(Site {
            file: "labs/lab10_lost_trace_id.rs".into(),
            line,
            count: 1,
            stack: None,
        })
    }

    /// What a correct copy logs: per request, a line of its own and one per
    /// department from a spawned task, each naming its request's trace id.
    fn correct(case: &Case) -> Seen {
        let mut lines = Vec::new();
        for i in 0..case.requests {
            lines.push(Line {
                request: Some(i),
                names: Some(i),
                logged_at: at(22),
                task: None,
            });
            for _ in Department::ALL {
                lines.push(Line {
                    request: Some(i),
                    names: Some(i),
                    logged_at: at(28),
                    task: Some(task(26)),
                });
            }
        }
        Seen {
            lines,
            summaries: vec![Department::ALL.len(); case.requests],
            uncaptured: None,
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
    fn a_line_with_no_trace_id_is_lost_at_the_tasks_spawn_site() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.lines[1].names = None;
        let findings = judge(case, &seen);
        assert_eq!(kinds(case, &seen), [Kind::LostContext]);
        assert_eq!(findings[0].sites[0].to_string(), "labs/lab10_lost_trace_id.rs:26");
        let message = &findings[0].message;
        assert!(
            message.contains("1 of 12 log lines carried no trace id"),
            "{message}"
        );
        assert!(message.contains("all of them from tasks spawned at"), "{message}");
    }

    #[test]
    fn a_line_naming_another_requests_trace_id_is_mixed_up() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.lines[1].names = Some(2);
        let findings = judge(case, &seen);
        assert_eq!(kinds(case, &seen), [Kind::LostContext]);
        let message = &findings[0].message;
        assert!(message.contains("patient 101's summary"), "{message}");
        assert!(message.contains("patient 103's"), "{message}");
    }

    #[test]
    fn a_line_the_check_cannot_tie_to_a_request_still_needs_a_trace_id() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.lines.push(Line {
            request: None,
            names: Some(1),
            ..Line::default()
        });
        assert_eq!(kinds(case, &seen), []);
        seen.lines.push(Line::default());
        assert_eq!(kinds(case, &seen), [Kind::LostContext]);
    }

    #[test]
    fn a_summary_missing_a_department_is_lost_work() {
        let case = &CASES[1];
        let mut seen = correct(case);
        seen.summaries[3] = 1;
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn a_request_that_logs_nothing_leaves_nothing_to_check() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.lines.retain(|l| l.request != Some(1));
        assert_eq!(kinds(case, &seen), [Kind::Unchecked]);
    }

    #[test]
    fn without_a_capture_nothing_is_checked() {
        let seen = Seen {
            uncaptured: Some("another subscriber".into()),
            ..Seen::default()
        };
        assert_eq!(kinds(&CASES[0], &seen), [Kind::Unchecked]);
    }

    #[test]
    fn a_line_names_its_innermost_trace_id() {
        let logged = Logged {
            texts: vec![
                " message=summary ready".into(),
                format!(" trace_id={}", trace_id(2)),
                format!(" trace_id={}", trace_id(0)),
            ],
            ..Logged::default()
        };
        assert_eq!(names(&logged, 3), Some(2));
        let debug = Logged {
            texts: vec![format!(" trace={:?}", trace_id(1))],
            ..Logged::default()
        };
        assert_eq!(names(&debug, 3), Some(1));
        assert_eq!(names(&Logged::default(), 3), None);
    }

    #[test]
    fn the_cases_overlap_requests_and_one_runs_on_worker_threads() {
        assert!(CASES.iter().all(|c| c.requests >= 2));
        assert!(CASES.iter().any(|c| c.workers.is_none()));
        assert!(CASES.iter().any(|c| c.workers.is_some_and(|n| n >= 2)));
        let ids: Vec<String> = (0..8).map(trace_id).collect();
        for (i, a) in ids.iter().enumerate() {
            assert!(
                ids.iter()
                    .enumerate()
                    .all(|(j, b)| i == j || !a.contains(b.as_str()))
            );
        }
    }
}
