//! Lab 6's check: no task a booking request starts outlives that request.
//!
//! The portal sends well over a thousand booking requests, one after another, to a
//! scheduler that books most patients in milliseconds, some in seconds, some never; and
//! some requests are dropped midway (the patient closed the page). Right before and right
//! after each request the check lists the tasks alive: those that appeared are the ones
//! the request started and left running. After the last request the runtime runs on for
//! twice the timeout (free, on the paused clock), and each of those tasks' end time, from
//! the detector, says by how long it outlived its request (one still alive then counts to
//! the end of the run). The property a fix must hold, whatever its shape: every such task
//! ends at the instant its request ends, a booking that comes back within the timeout is
//! returned, and no request takes longer than the timeout.
//!
//! Counting the tasks still alive at the end would not do: a shorter watchdog sleep would
//! then pass, though each one still outlives its quick request by most of its sleep, and
//! that is what this check measures. (A short enough sleep to end before the request
//! does gives up on bookings that were coming back in time.) Stopping the watchdog only
//! after the `select!` fails the dropped requests: a dropped future never reaches that
//! line, while a timer inside the request's future, or a handle that aborts on drop,
//! ends with it.

use crate::Subject;
use crate::hidden::Cases;
use labkit::detector::{TaskRecord, alive_now, group_sites};
use labkit::{Detector, Finding, Kind, Verdict};
use leaklab_clinic::{Appointment, Diary, Scheduler};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub const LAB: u32 = 6;

/// The portal's timeout, as the lab states it.
pub const BOOKING_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the check waits for a request that the portal does not drop: a little past
/// the timeout, so that a request with no timeout at all is caught, not waited on forever.
pub const PATIENCE: Duration = Duration::from_secs(31);

/// How long the runtime runs on after the last request, to see when each task left
/// behind ends: long enough for one that sleeps out twice the timeout.
pub const SETTLE: Duration = Duration::from_secs(60);

/// A batch of requests, sent one after another.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub requests: u32,
    /// How long the scheduler takes to book, cycled over the requests; `None`: it never
    /// confirms the booking.
    pub booking_ms: &'static [Option<u64>],
    /// When the portal drops each request (the patient closed the page), if it does.
    pub dropped_after_ms: Option<u64>,
}

pub const CASES: [Case; 4] = [
    Case {
        name: "quick bookings",
        requests: 1_000,
        booking_ms: &[
            Some(4),
            Some(12),
            Some(7),
            Some(30),
            Some(18),
            Some(9),
            Some(45),
            Some(22),
        ],
        dropped_after_ms: None,
    },
    Case {
        name: "slow bookings, inside the timeout",
        requests: 3,
        booking_ms: &[Some(29_500), Some(8_000), Some(21_000)],
        dropped_after_ms: None,
    },
    Case {
        name: "bookings the scheduler does not confirm in time",
        requests: 3,
        booking_ms: &[None, Some(45_000), None],
        dropped_after_ms: None,
    },
    Case {
        name: "patients who close the page while booking",
        requests: 20,
        booking_ms: &[Some(5_000), Some(60_000), None],
        dropped_after_ms: Some(200),
    },
];

impl Case {
    /// Each request's patient (1, 2, ...) and how long booking them takes.
    pub fn bookings(&self) -> impl Iterator<Item = (u32, Option<Duration>)> + '_ {
        let times = self.booking_ms.iter().cycle();
        (1..=self.requests).zip(times.map(|ms| ms.map(Duration::from_millis)))
    }

    fn dropped_after(&self) -> Option<Duration> {
        self.dropped_after_ms.map(Duration::from_millis)
    }
}

/// One request, as the check saw it.
#[derive(Clone, Debug)]
pub struct Request {
    /// It came back with an appointment.
    pub booked: bool,
    pub took: Duration,
}

/// A task that a request left running, and by how long it outlived that request.
#[derive(Clone, Debug)]
pub struct Outlived {
    pub task: TaskRecord,
    pub by: Duration,
}

/// What one case's requests did, and what they left behind.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub requests: Vec<Request>,
    pub tasks_spawned: usize,
    /// The tasks that outlived their request (ended later than it, or never).
    pub outlived: Vec<Outlived>,
    /// How many of those were still alive when the check stopped looking.
    pub still_alive: usize,
    /// The most tasks alive at once, right after a request returned.
    pub peak_alive: usize,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab06 {
    ($lab:ident, $subject:expr) => {
        $crate::lab06::check($subject, $lab::book_appointment)
    };
}

/// Every case against one copy of the lab.
pub fn check<F, Fut>(_subject: &Subject, book_appointment: F) -> Verdict
where
    F: Fn(Scheduler, u32) -> Fut,
    Fut: Future<Output = Option<Appointment>>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut requests, mut spawned, mut outlived, mut outlived_for) = (0, 0, 0, Duration::ZERO);
    for case in cases.iter() {
        let seen = run(case, &book_appointment);
        requests += seen.requests.len();
        spawned += seen.tasks_spawned;
        outlived += seen.outlived.len();
        outlived_for += seen.outlived.iter().map(|o| o.by).sum::<Duration>();
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("requests", requests as u64);
    // A fix whose deadline is a timer inside the request spawns nothing: "tasks spawned:
    // 0" beside a pass reads as if the detector had seen nothing, so only a count is told.
    if spawned > 0 {
        verdict.measure("tasks_spawned", spawned as u64);
    }
    verdict.measure("tasks_outliving_their_request", outlived as u64);
    verdict.measure("outlived_ms_total", outlived_for.as_millis() as u64);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    requests: u32,
    booking_ms: Vec<Option<u64>>,
    dropped_after_ms: Option<u64>,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        if self.booking_ms.is_empty() {
            return Err("booking_ms is empty: it needs a booking time (or null) to cycle over".into());
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            requests: self.requests,
            booking_ms: crate::hidden::leak(self.booking_ms),
            dropped_after_ms: self.dropped_after_ms,
        })
    }
}

/// One case's requests, one after another, each seen right before and right after.
fn run<F, Fut>(case: &Case, book_appointment: &F) -> Seen
where
    F: Fn(Scheduler, u32) -> Fut,
    Fut: Future<Output = Option<Appointment>>,
{
    let diary = Diary::new(case.bookings().collect());
    let limit = case.dropped_after().unwrap_or(PATIENCE);
    let outcome = Detector::new().without_stacks().settle(SETTLE).run(|| async {
        let start = Instant::now();
        let mut requests = Vec::new();
        // Per request: when it ended, and the tasks it left alive.
        let mut left_behind: Vec<(Duration, Vec<u64>)> = Vec::new();
        let mut peak_alive = 0;
        // Requests follow one another with no await between them, so the tasks alive
        // right after one are exactly those alive right before the next.
        let mut before = alive_ids();
        for (patient, _) in case.bookings() {
            let began = Instant::now();
            // Past `limit` the portal drops the request: its future is dropped here.
            let answer = tokio::time::timeout(limit, book_appointment(diary.scheduler(), patient)).await;
            let ended = start.elapsed();
            let after = alive_ids();
            peak_alive = peak_alive.max(after.len());
            left_behind.push((ended, new_ids(&before, &after)));
            before = after;
            requests.push(Request {
                booked: matches!(answer, Ok(Some(_))),
                took: began.elapsed(),
            });
        }
        (requests, left_behind, peak_alive, start.elapsed())
    });
    let (requests, left_behind, peak_alive, last_returned) = outcome.output;
    // A task alive when the check stopped looking counts as ending then: at least this long.
    let run_end = last_returned + SETTLE;
    let tasks: HashMap<u64, &TaskRecord> = outcome.tasks.iter().map(|t| (t.id, t)).collect();
    let mut outlived = Vec::new();
    for (request_end, started) in left_behind {
        for task in started.iter().filter_map(|id| tasks.get(id)) {
            let end = task.ended_at.unwrap_or(run_end);
            if end > request_end {
                outlived.push(Outlived {
                    task: (*task).clone(),
                    by: end - request_end,
                });
            }
        }
    }
    let still_alive = outlived.iter().filter(|o| o.task.ended_at.is_none()).count();
    Seen {
        requests,
        tasks_spawned: outcome.tasks.len(),
        outlived,
        still_alive,
        peak_alive,
    }
}

/// The ids of the tasks alive right now, sorted.
fn alive_ids() -> Vec<u64> {
    let mut ids: Vec<u64> = alive_now().iter().map(|t| t.id).collect();
    ids.sort_unstable();
    ids
}

/// The ids in `after` that are not in `before` (both sorted), in one pass.
fn new_ids(before: &[u64], after: &[u64]) -> Vec<u64> {
    let mut before = before.iter().peekable();
    let mut new = Vec::new();
    for id in after {
        while before.next_if(|b| *b < id).is_some() {}
        if before.peek() != Some(&id) {
            new.push(*id);
        }
    }
    new
}

/// The rules for one case: no task outlives its request, a booking that comes back
/// within the timeout is returned, and no request takes longer than the timeout.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(judge_outlived(case, seen));
    if case.dropped_after_ms.is_some() {
        return findings; // the portal gave up on these itself: only what they left behind counts
    }
    let requests = seen.requests.len();
    let in_time: Vec<Duration> = case
        .bookings()
        .zip(&seen.requests)
        .filter_map(|((_, time), request)| time.filter(|&t| t < BOOKING_TIMEOUT && !request.booked))
        .collect();
    if let Some(slowest) = in_time.iter().max() {
        let message = format!(
            "{}: the scheduler would have booked {} of {requests} patients within the {} timeout (the \
             slowest in {}), but book_appointment gave up on them and answered None",
            case.name,
            in_time.len(),
            human(BOOKING_TIMEOUT),
            human(*slowest),
        );
        let finding = Finding::new(Kind::LostWork, message).measure("bookings_lost", in_time.len() as u64);
        findings.push(finding);
    }
    let late: Vec<Duration> = seen
        .requests
        .iter()
        .map(|r| r.took)
        .filter(|&t| t > BOOKING_TIMEOUT)
        .collect();
    if let Some(&longest) = late.iter().max() {
        let longest_text = if longest >= PATIENCE {
            format!("the check stopped waiting after {}", human(longest))
        } else {
            format!("the longest took {}", human(longest))
        };
        let message = format!(
            "{}: {} of {requests} requests took longer than the portal's {} timeout ({longest_text})",
            case.name,
            late.len(),
            human(BOOKING_TIMEOUT),
        );
        let finding = Finding::new(Kind::MissedDeadline, message)
            .measure("late_requests", late.len() as u64)
            .measure("longest_ms", longest.as_millis() as u64)
            .measure("timeout_ms", BOOKING_TIMEOUT.as_millis() as u64);
        findings.push(finding);
    }
    findings
}

/// The tasks that outlived their request: how many, by how long, and where they start.
fn judge_outlived(case: &Case, seen: &Seen) -> Option<Finding> {
    if seen.outlived.is_empty() {
        return None;
    }
    let tasks: Vec<TaskRecord> = seen.outlived.iter().map(|o| o.task.clone()).collect();
    let sites = group_sites(&tasks);
    let count = tasks.len();
    let total: Duration = seen.outlived.iter().map(|o| o.by).sum();
    let average = total / count as u32;
    let place = sites
        .first()
        .map(|site| format!(", spawned at {site}"))
        .unwrap_or_default();
    let still_alive = match seen.still_alive {
        0 => String::new(),
        n => format!(" ({n} still alive {} after the last request)", human(SETTLE)),
    };
    // A task that ran the whole timeout from its spawn (or is still running) was never
    // ended early by anything its request did: a cancel() the task never listens to
    // shows as that, where a shorter sleep or a late abort does not.
    let ran_full = |task: &TaskRecord| {
        task.ended_at
            .is_none_or(|end| end.saturating_sub(task.spawned_at) >= BOOKING_TIMEOUT)
    };
    let full = tasks.iter().filter(|task| ran_full(task)).count();
    let unstopped = match full {
        0 => String::new(),
        n if n == count => format!(
            ". {} its full {} from its spawn: nothing the request did ended it early",
            if count == 1 { "It ran" } else { "Each ran" },
            human(BOOKING_TIMEOUT)
        ),
        n => format!(
            ". {n} of them ran their full {} from their spawn: nothing their request did ended them early",
            human(BOOKING_TIMEOUT)
        ),
    };
    let message = if count == 1 {
        format!(
            "{}: 1 task outlived the request that started it{place}, by {}{still_alive}{unstopped}",
            case.name,
            human(total)
        )
    } else {
        format!(
            "{}: {} tasks outlived the request that started them{place}, by {} on average, {} in \
             total{still_alive}; {}{unstopped}",
            case.name,
            crate::count(count as u64),
            human(average),
            human(total),
            match seen.peak_alive {
                1 => "one at a time".to_owned(),
                n => format!("up to {} were alive at once", crate::count(n as u64)),
            },
        )
    };
    let finding = Finding::new(Kind::LeakedTask, message)
        .measure("tasks_outliving_their_request", count as u64)
        .measure("requests", seen.requests.len() as u64)
        .measure("outlived_ms_total", total.as_millis() as u64)
        .measure("outlived_ms_average", average.as_millis() as u64)
        .measure("still_alive", seen.still_alive as u64)
        .measure("ran_full_timeout", full as u64)
        .measure("peak_alive", seen.peak_alive as u64);
    Some(finding.with_sites(sites))
}

/// A duration the way a person says it: `850 ms`, `29.98 s`, `8 h 19 min`.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else if secs < 60 {
        format!("{:.2} s", d.as_secs_f64()).replace(".00 s", " s")
    } else if secs < 3_600 {
        format!("{} min {} s", secs / 60, secs % 60)
    } else {
        format!("{} h {} min", secs / 3_600, secs % 3_600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a correct copy sees: every timely booking returned, nothing left behind.
    fn correct(case: &Case) -> Seen {
        let requests = case
            .bookings()
            .map(|(_, time)| match (case.dropped_after(), time) {
                (Some(after), _) => Request {
                    booked: false,
                    took: after,
                },
                (None, Some(t)) if t < BOOKING_TIMEOUT => Request {
                    booked: true,
                    took: t,
                },
                (None, _) => Request {
                    booked: false,
                    took: BOOKING_TIMEOUT,
                },
            })
            .collect();
        Seen {
            requests,
            ..Seen::default()
        }
    }

    fn task(ended_at: Option<Duration>) -> TaskRecord {
        TaskRecord {
            id: 7,
            file: Some("labs/lab06_forgotten_cancel.rs".into()),
            line: 23,
            spawned_at: Duration::ZERO,
            ended_at,
            stack: None,
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
    fn a_task_outliving_its_request_by_any_time_is_a_leak() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.outlived.push(Outlived {
            task: task(Some(Duration::from_millis(1_001))),
            by: Duration::from_millis(1),
        });
        let findings = judge(case, &seen);
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::LeakedTask]
        );
        assert_eq!(
            findings[0].sites[0].to_string(),
            "labs/lab06_forgotten_cancel.rs:23"
        );
        assert!(findings[0].message.contains("by 1 ms"), "{}", findings[0].message);
    }

    /// A cancel() the watchdog never listens to ends nothing: the watchdog sleeps out
    /// its whole timeout, which the finding says, where a shorter sleep does not.
    #[test]
    fn a_watchdog_that_sleeps_out_its_whole_timeout_is_told_apart() {
        let case = &CASES[0];
        let full = |seen: &Seen| judge(case, seen)[0].measured["ran_full_timeout"];
        let mut seen = correct(case);
        seen.outlived.push(Outlived {
            task: task(Some(BOOKING_TIMEOUT)),
            by: BOOKING_TIMEOUT - Duration::from_millis(4),
        });
        assert_eq!(full(&seen), 1);
        let message = &judge(case, &seen)[0].message;
        assert!(message.contains("It ran its full 30 s"), "{message}");

        seen.outlived[0].task = task(Some(Duration::from_secs(2)));
        assert_eq!(full(&seen), 0);
        let message = &judge(case, &seen)[0].message;
        assert!(!message.contains("full"), "{message}");
    }

    #[test]
    fn a_timely_booking_answered_none_is_lost_work() {
        let case = &CASES[1];
        let mut seen = correct(case);
        seen.requests[0].booked = false;
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn waiting_past_the_timeout_misses_the_deadline() {
        let case = &CASES[2];
        let mut seen = correct(case);
        seen.requests[1].took = Duration::from_secs(45);
        assert_eq!(kinds(case, &seen), [Kind::MissedDeadline]);
    }

    #[test]
    fn a_dropped_request_only_answers_for_what_it_left_behind() {
        let case = &CASES[3];
        let mut seen = correct(case);
        seen.requests[0].booked = false;
        assert_eq!(kinds(case, &seen), []);
        seen.outlived.push(Outlived {
            task: task(None),
            by: Duration::from_secs(30),
        });
        assert_eq!(kinds(case, &seen), [Kind::LeakedTask]);
    }

    #[test]
    fn new_ids_are_those_alive_after_and_not_before() {
        assert_eq!(new_ids(&[2, 5, 9], &[2, 6, 9, 11]), [6, 11]);
        assert_eq!(new_ids(&[], &[1, 3]), [1, 3]);
        assert_eq!(new_ids(&[1, 3], &[]), Vec::<u64>::new());
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(human(Duration::from_millis(850)), "850 ms");
        assert_eq!(human(Duration::from_millis(29_980)), "29.98 s");
        assert_eq!(human(Duration::from_secs(30)), "30 s");
        assert_eq!(human(Duration::from_secs(29_950)), "8 h 19 min");
    }

    /// A fix whose deadline is a timer inside the request passes, and its figures carry
    /// no count of spawned tasks (it spawned none).
    #[test]
    fn a_pass_that_spawned_nothing_has_no_count_of_spawned_tasks() {
        let subject = crate::test_subject(LAB);
        let inside = check(&subject, |scheduler: Scheduler, patient| async move {
            tokio::time::timeout(BOOKING_TIMEOUT, scheduler.book(patient))
                .await
                .ok()
        });
        assert!(inside.findings.is_empty(), "{inside:#?}");
        assert_eq!(inside.measured.get("tasks_spawned"), None, "{inside:#?}");
        assert_eq!(inside.measured["tasks_outliving_their_request"], 0, "{inside:#?}");
    }
}
