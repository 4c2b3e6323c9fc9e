//! Lab 9's check: every request is answered within its deadline, and the laboratory
//! never has more than `MAX_CALLS` lookups from the portal in flight at once.
//!
//! Each case sends the server a stream of requests through the portal's channel: a
//! burst of a thousand in a tenth of a second against a laboratory that answers most
//! lookups in milliseconds, some too late and some never; and a quiet morning the
//! laboratory can keep up with. The laboratory (the scenario's half of the clinic
//! service) counts every lookup from its start until it returns or is dropped, so it
//! sees the most in flight at once, and it records when each request was answered, and
//! with what. The portal waits ten seconds past the last request, then the runtime
//! settles and the detector lists the tasks still alive. The property a fix must hold:
//! every request answered (its results, or `Unavailable`) within `DEADLINE` of being
//! sent; at most `MAX_CALLS` lookups in flight, ever; nothing left running once every
//! request is answered; and at a load the laboratory can carry, every patient gets
//! their results.
//!
//! The findings name the line the tasks wait on, not the line that spawned them: the
//! `.await` a fix must change (the lookup, or the wait for a permit). A task dump of
//! the hundreds of tasks a burst leaves would take seconds, so when a case leaves tasks,
//! a probe sends the server a few requests more than `MAX_CALLS` against a laboratory
//! that hangs and dumps where they wait: the innermost frame of each await chain in the
//! lab is the line. Without a dump (off Linux, or a copy that leaves nothing but piles
//! up lookups) the findings name the spawn line.
//!
//! A timeout alone cannot pass: every request of the burst is answered in time, but each
//! puts its lookup in flight at once, hundreds on a laboratory that takes twenty. A
//! bound alone cannot pass: the hung lookups keep their permits for good, and every
//! request behind them waits past its deadline, forever. Both, with the wait for a
//! permit outside the timeout, cannot pass either (the queue for permits is the wait
//! the deadline must cover), nor a bound in the accept loop (requests then wait, unread,
//! in the portal's channel). A lookup spawned off and abandoned at the deadline stays
//! in flight and alive: the detector lists it.

use crate::hidden::Cases;
use crate::{Subject, count};
use labkit::detector::TaskRecord;
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{Answer, LabResults, Laboratory, ResultRequest};
use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub const LAB: u32 = 9;

/// The patient's deadline, as the lab states it.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// The most lookups the laboratory takes at once, as the lab states it.
pub const MAX_CALLS: u32 = 20;

/// How long the portal waits after the last request before it stops looking.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The detector's settle window after that: what is alive then is left behind.
pub const SETTLE: Duration = Duration::from_secs(1);

/// A stream of requests against a laboratory of a given speed.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub requests: u32,
    /// The requests arrive evenly spread over this long.
    pub over_ms: u64,
    /// How long the laboratory takes to look up each patient, cycled over the
    /// requests; `None`: it never answers.
    pub lookup_ms: &'static [Option<u64>],
    /// The laboratory can carry this load: it never has more than `MAX_CALLS` lookups
    /// at once, so every request whose lookup takes less than `DEADLINE` must get its
    /// results.
    pub within_capacity: bool,
}

pub const CASES: [Case; 2] = [
    Case {
        name: "a burst against a hanging laboratory",
        requests: 1_000,
        over_ms: 100,
        lookup_ms: &[
            Some(30),
            None,
            Some(80),
            Some(2_500),
            Some(15),
            Some(300_000),
            Some(45),
            Some(1_200),
            None,
            Some(60),
        ],
        within_capacity: false,
    },
    Case {
        name: "a quiet morning",
        requests: 40,
        over_ms: 2_000,
        lookup_ms: &[Some(40), Some(250), Some(1_900), Some(90), Some(600)],
        within_capacity: true,
    },
];

impl Case {
    /// Each request's patient (1, 2, ...), when it is sent, and how long its lookup
    /// takes (`None`: forever).
    pub fn requests(&self) -> impl Iterator<Item = (u32, Duration, Option<Duration>)> + '_ {
        let times = self.lookup_ms.iter().cycle();
        (1..=self.requests).zip(times).map(|(patient, time)| {
            let at = u64::from(patient - 1) * self.over_ms / u64::from(self.requests);
            (
                patient,
                Duration::from_millis(at),
                time.map(Duration::from_millis),
            )
        })
    }
}

/// One request, as the portal saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// From being sent to being answered; `None`: no answer when the portal stopped
    /// looking.
    pub took: Option<Duration>,
    pub answer: Option<Answer>,
}

/// What one case's requests got, and what the server did meanwhile.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// In the order they were sent (patient 1 first).
    pub requests: Vec<Request>,
    /// The most lookups in flight at once.
    pub peak_calls: u32,
    /// The most tasks alive at once.
    pub peak_tasks: usize,
    /// The tasks the lookups were made from.
    pub callers: Vec<TaskRecord>,
    /// The tasks alive after the portal stopped looking and the runtime settled.
    pub left: Vec<TaskRecord>,
    /// Where the server's tasks wait when the laboratory hangs, from the probe's task
    /// dump; empty without one.
    pub waits: Vec<Wait>,
    /// The lookups still in flight when the portal stopped looking.
    pub calls_left: u32,
}

impl Seen {
    /// The ids of the tasks that made lookups.
    fn caller_ids(&self) -> HashSet<u64> {
        self.callers.iter().map(|t| t.id).collect()
    }
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab09 {
    ($lab:ident, $subject:expr) => {
        $crate::lab09::check($subject, $lab::serve)
    };
}

/// Every case against one copy of the lab.
pub fn check<F, Fut>(_subject: &Subject, serve: F) -> Verdict
where
    F: Fn(mpsc::Receiver<ResultRequest>, LabResults) -> Fut,
    Fut: Future<Output = ()>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut requests, mut in_time, mut peak_calls, mut left) = (0, 0, 0, 0);
    let mut seens: Vec<Seen> = cases.iter().map(|case| run(case, &serve)).collect();
    // Where the tasks wait matters when some are left. (Only then: the probe's run then
    // comes after a case that leaked, and `--timeline`, which draws the first run that
    // shows a leak, never draws the probe.)
    if seens.iter().any(|s| !s.left.is_empty()) {
        let waits = probe(&serve);
        for seen in &mut seens {
            seen.waits = waits.clone();
        }
    }
    for (case, seen) in cases.iter().zip(seens) {
        requests += seen.requests.len();
        in_time += seen.requests.iter().filter(|r| answered_in_time(r)).count();
        peak_calls = peak_calls.max(seen.peak_calls);
        left += seen.left.len();
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("requests", requests as u64);
    verdict.measure("answered_in_time", in_time as u64);
    verdict.measure("max_calls", u64::from(MAX_CALLS));
    verdict.measure("peak_calls_in_flight", u64::from(peak_calls));
    verdict.measure("tasks_left", left as u64);
    // Not the peak of tasks alive: a fix keeps one task per request waiting its turn,
    // hundreds in a burst, and that figure matters only beside an overload (its finding
    // gives it).
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    requests: u32,
    over_ms: u64,
    lookup_ms: Vec<Option<u64>>,
    within_capacity: bool,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        if self.lookup_ms.is_empty() {
            return Err("lookup_ms is empty: it needs a lookup time (or null) to cycle over".into());
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            requests: self.requests,
            over_ms: self.over_ms,
            lookup_ms: crate::hidden::leak(self.lookup_ms),
            within_capacity: self.within_capacity,
        })
    }
}

/// One case: the portal sends its requests on time and waits, with the server running
/// alongside; the laboratory records the rest.
fn run<F, Fut>(case: &Case, serve: &F) -> Seen
where
    F: Fn(mpsc::Receiver<ResultRequest>, LabResults) -> Fut,
    Fut: Future<Output = ()>,
{
    let laboratory = Laboratory::new(case.requests().map(|(patient, _, time)| (patient, time)));
    let outcome = Detector::new().without_stacks().settle(SETTLE).run(|| async {
        let start = Instant::now();
        // Room for the whole burst: the portal never waits to send.
        let (portal, requests) = mpsc::channel(case.requests as usize);
        let lab = &laboratory;
        let sending = async move {
            for (patient, at, _) in case.requests() {
                tokio::time::sleep_until(start + at).await;
                // A server that stopped reading drops the request, and the reply with it.
                let _ = portal.send(lab.request(patient)).await;
            }
            drop(portal);
            tokio::time::sleep(PATIENCE).await;
            // What the portal saw, before the server is dropped below.
            (lab.sent(), lab.calls().in_flight)
        };
        let serving = async {
            serve(requests, lab.lab_results()).await;
            std::future::pending::<Infallible>().await
        };
        let (sent, calls_left) = tokio::select! {
            seen = sending => seen,
            never = serving => match never {},
        };
        (sent, calls_left)
    });
    let (sent, calls_left) = outcome.output;
    let requests = sent
        .iter()
        .map(|s| Request {
            took: s.answered.map(|(at, _)| at - s.sent_at),
            answer: s.answered.map(|(_, answer)| answer),
        })
        .collect();
    let callers: HashSet<u64> = laboratory.callers().into_iter().flatten().collect();
    Seen {
        requests,
        peak_calls: laboratory.calls().peak,
        peak_tasks: peak_alive(&outcome.tasks),
        callers: outcome
            .tasks
            .iter()
            .filter(|t| callers.contains(&t.id))
            .cloned()
            .collect(),
        left: outcome.leaks,
        calls_left,
        waits: Vec::new(),
    }
}

/// How many requests the probe sends: two more than `MAX_CALLS`, so that with a bound
/// on the lookups, some wait for a permit.
pub const PROBE_REQUESTS: u32 = MAX_CALLS + 2;

/// Where tasks spawned at one line wait when the laboratory hangs: in a lookup, or
/// before one (for a permit, say).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub file: String,
    /// The line they were spawned at.
    pub spawned: u32,
    /// Whether they wait in a lookup, or before making one.
    pub in_lookup: bool,
    /// The line of the lab they wait on, and the await chain of one of them.
    pub line: u32,
    pub stack: String,
}

/// The probe: `PROBE_REQUESTS` requests at once to a laboratory that hangs, then a
/// task dump of the server's tasks while they wait. Nothing here is judged.
///
/// A dump costs milliseconds a task with an await chain, so only the first lookup
/// hangs on a tokio timer (an hour); the others never answer, which leaves no chain
/// to trace unless the fix put a timer around them. A task in a lookup is thus seen at
/// least once, and so is each task waiting before one (there are two if the lookups
/// are bounded).
fn probe<F, Fut>(serve: &F) -> Vec<Wait>
where
    F: Fn(mpsc::Receiver<ResultRequest>, LabResults) -> Fut,
    Fut: Future<Output = ()>,
{
    let hour = Duration::from_secs(3_600);
    let laboratory =
        Laboratory::new((1..=PROBE_REQUESTS).map(|patient| (patient, (patient == 1).then_some(hour))));
    // The dump is taken halfway to the deadline: every permit a fix may have is still
    // held, by a lookup that hangs, so the requests behind them wait where a burst's do.
    let outcome = Detector::new().settle(DEADLINE / 2).run(|| async {
        let (portal, requests) = mpsc::channel(PROBE_REQUESTS as usize);
        let lab = &laboratory;
        let sending = async move {
            for patient in 1..=PROBE_REQUESTS {
                let _ = portal.send(lab.request(patient)).await;
            }
            // A moment for the server to take them in (free, on the paused clock).
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let serving = async {
            serve(requests, lab.lab_results()).await;
            std::future::pending::<Infallible>().await
        };
        tokio::select! {
            () = sending => {}
            never = serving => match never {},
        }
    });
    let callers: HashSet<u64> = laboratory.callers().into_iter().flatten().collect();
    waits(&outcome.leaks, &callers)
}

/// Where `tasks` wait, from their await chains: for each spawn site, the first line
/// seen in a lookup (the tasks in `callers` made one) and the first seen before one.
fn waits(tasks: &[TaskRecord], callers: &HashSet<u64>) -> Vec<Wait> {
    let mut waits: Vec<Wait> = Vec::new();
    for task in tasks {
        let (Some(file), Some(stack), Some(line)) = (&task.file, &task.stack, waiting_line(task)) else {
            continue;
        };
        // Not from the chain: a lookup that never answers leaves no frame in it.
        let in_lookup = callers.contains(&task.id);
        let known = waits
            .iter()
            .any(|w| w.file == *file && w.spawned == task.line && w.in_lookup == in_lookup);
        if !known {
            waits.push(Wait {
                file: file.clone(),
                spawned: task.line,
                in_lookup,
                line,
                stack: stack.clone(),
            });
        }
    }
    waits
}

/// The most tasks alive at once, from each task's spawn and end (a task that ends at
/// the instant another starts is not counted with it).
fn peak_alive(tasks: &[TaskRecord]) -> usize {
    let mut events: Vec<(Duration, i64)> = Vec::with_capacity(tasks.len() * 2);
    for task in tasks {
        events.push((task.spawned_at, 1));
        if let Some(end) = task.ended_at {
            events.push((end, -1));
        }
    }
    events.sort_unstable();
    let (mut alive, mut peak) = (0i64, 0i64);
    for (_, change) in events {
        alive += change;
        peak = peak.max(alive);
    }
    peak as usize
}

fn answered_in_time(request: &Request) -> bool {
    matches!(
        (request.took, request.answer),
        (Some(took), Some(Answer::Results | Answer::Unavailable)) if took <= DEADLINE
    )
}

/// The rules for one case: every request answered within the deadline, never more
/// than `MAX_CALLS` lookups at once, nothing left running, and at a load the laboratory
/// can carry, every result that comes in time delivered.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(judge_deadline(case, seen));
    findings.extend(judge_dropped(case, seen));
    findings.extend(judge_pile_up(case, seen));
    findings.extend(judge_results(case, seen));
    findings
}

/// Requests with no answer by the deadline: answered late, or not at all.
fn judge_deadline(case: &Case, seen: &Seen) -> Option<Finding> {
    let total = seen.requests.len();
    let answered = |r: &&Request| matches!(r.answer, Some(Answer::Results | Answer::Unavailable));
    let never = seen.requests.iter().filter(|r| r.answer.is_none()).count();
    let late: Vec<Duration> = seen
        .requests
        .iter()
        .filter(answered)
        .filter_map(|r| r.took.filter(|&took| took > DEADLINE))
        .collect();
    if never == 0 && late.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if never > 0 {
        parts.push(format!(
            "{never} had none {} after the last request was sent",
            human(PATIENCE)
        ));
    }
    if let Some(latest) = late.iter().max() {
        parts.push(format!(
            "{} {} answered late, the latest after {}",
            late.len(),
            if late.len() == 1 { "was" } else { "were" },
            human(*latest)
        ));
    }
    let places = waiting_places(&seen.left, &seen.caller_ids(), &seen.waits);
    let waiting = match places.first() {
        Some(place) if never > 0 => format!(
            "; still waiting: {} {}, {}",
            place.site.count,
            if place.site.count == 1 { "task" } else { "tasks" },
            place.parked()
        ),
        _ => String::new(),
    };
    let message = format!(
        "{}: {} of {} requests got no answer within the {} deadline: {}{waiting}",
        case.name,
        count((never + late.len()) as u64),
        count(total as u64),
        human(DEADLINE),
        parts.join(", "),
    );
    let finding = Finding::new(Kind::MissedDeadline, message)
        .measure("requests_unanswered", never as u64)
        .measure("requests_late", late.len() as u64)
        .measure("requests", total as u64)
        .measure("deadline_ms", DEADLINE.as_millis() as u64);
    Some(finding.with_sites(places.into_iter().map(|p| p.site).collect()))
}

/// Replies dropped without an answer: the patient's page fails instead of saying
/// "try again later".
fn judge_dropped(case: &Case, seen: &Seen) -> Option<Finding> {
    let dropped = seen
        .requests
        .iter()
        .filter(|r| r.answer == Some(Answer::DroppedUnanswered))
        .count();
    if dropped == 0 {
        return None;
    }
    let message = format!(
        "{}: {} of {} requests were dropped without an answer: their patients saw the page \
         fail, not \"results unavailable\" (send Err(Unavailable) through the reply)",
        case.name,
        count(dropped as u64),
        count(seen.requests.len() as u64),
    );
    Some(Finding::new(Kind::SwallowedError, message).measure("replies_dropped", dropped as u64))
}

/// Lookups piled up past the bound, or tasks and lookups left running at the end.
fn judge_pile_up(case: &Case, seen: &Seen) -> Option<Finding> {
    let over = seen.peak_calls > MAX_CALLS;
    let left = seen.left.len();
    if !over && left == 0 {
        return None;
    }
    let ids = seen.caller_ids();
    let callers = waiting_places(&seen.callers, &ids, &seen.waits);
    let left_places = waiting_places(&seen.left, &ids, &seen.waits);
    let mut parts = Vec::new();
    if over {
        let made = match callers.first() {
            Some(place) if place.known() => format!(
                ", made at {} (by tasks spawned at line {})",
                place.site, place.spawned
            ),
            Some(place) => format!(", from tasks spawned at {}", place.site),
            None => String::new(),
        };
        parts.push(format!(
            "up to {} lookups were in flight at once{made}, where the laboratory takes at most \
             {MAX_CALLS} (MAX_CALLS); {} tasks were alive at the peak",
            seen.peak_calls, seen.peak_tasks,
        ));
    }
    if left > 0 {
        let still = match seen.calls_left {
            0 => String::new(),
            n => format!(", {n} lookups still in flight"),
        };
        let at = match left_places.first() {
            Some(place) => format!(", {}", place.parked()),
            None => String::new(),
        };
        // What is seen is a task still running when the check looked, not that it runs
        // for ever: a queue for permits drains in the end, a hung lookup never does.
        // Either way every request's deadline had long passed.
        let (tasks, they_end) = match left {
            1 => ("task was", "it ends"),
            _ => ("tasks were", "they end"),
        };
        parts.push(format!(
            "{left} {tasks} still running when the check looked, {} after the last request{at}{still} \
             (whether {they_end} later or never, every request's deadline has passed)",
            human(PATIENCE + SETTLE),
        ));
    }
    let message = format!("{}: {}", case.name, parts.join("; "));
    // The callers are named by line only: most of them had finished, and their await
    // chains (below the columns) would say they are all parked there.
    let sites = if over {
        callers
            .into_iter()
            .map(|p| Site {
                stack: None,
                ..p.site
            })
            .collect()
    } else {
        left_places.into_iter().map(|p| p.site).collect()
    };
    // Lookups past the bound are an overload; tasks left behind, a leak.
    let kind = if over { Kind::Overload } else { Kind::LeakedTask };
    let finding = Finding::new(kind, message)
        .measure("peak_calls_in_flight", u64::from(seen.peak_calls))
        .measure("max_calls", u64::from(MAX_CALLS))
        .measure("peak_tasks_alive", seen.peak_tasks as u64)
        .measure("tasks_left", left as u64)
        .measure("calls_left", u64::from(seen.calls_left));
    Some(finding.with_sites(sites))
}

/// At a load the laboratory can carry, a result that comes within the deadline must
/// reach the patient: a fix that turns requests away (or times out early) loses them.
fn judge_results(case: &Case, seen: &Seen) -> Option<Finding> {
    if !case.within_capacity {
        return None;
    }
    let in_time: Vec<Duration> = case
        .requests()
        .filter_map(|(_, _, time)| time.filter(|&t| t < DEADLINE))
        .collect();
    let turned_away = case
        .requests()
        .zip(&seen.requests)
        .filter(|((_, _, time), request)| {
            time.is_some_and(|t| t < DEADLINE) && request.answer == Some(Answer::Unavailable)
        })
        .count();
    if turned_away == 0 {
        return None;
    }
    let slowest = in_time.iter().max().copied().unwrap_or_default();
    let message = format!(
        "{}: the laboratory answers {} of these requests within the deadline (the slowest in {}) and \
         never has more than {MAX_CALLS} at once, but {turned_away} got \"unavailable\" instead of their \
         results",
        case.name,
        in_time.len(),
        human(slowest),
    );
    Some(Finding::new(Kind::LostWork, message).measure("results_lost", turned_away as u64))
}

/// Where a group of tasks waits: the line of the lab they are parked on, as a task
/// dump shows it, or where they were spawned when no dump does.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Place {
    /// The line they wait on (or were spawned at), with how many, and one await chain.
    site: Site,
    /// The line they were spawned at.
    spawned: u32,
}

impl Place {
    /// Whether a task dump said where the tasks wait.
    fn known(&self) -> bool {
        self.site.line != self.spawned
    }

    /// "parked at file:line (spawned at line N)", or "spawned at file:line" when no
    /// task dump said where they wait.
    fn parked(&self) -> String {
        if self.known() {
            format!("parked at {} (spawned at line {})", self.site, self.spawned)
        } else {
            format!("spawned at {}", self.site)
        }
    }
}

/// The line `task` waits on, when its await chain is known: the innermost frame in the
/// file it was spawned from (the `.await` of the lab it is parked on).
fn waiting_line(task: &TaskRecord) -> Option<u32> {
    let (file, stack) = (task.file.as_deref()?, task.stack.as_deref()?);
    // A chain reads outermost first, one frame a line: `╼ name at file:line:col`.
    stack.lines().rev().find_map(|frame| {
        let place = frame.rsplit_once(" at ")?.1;
        let line = place.strip_prefix(file)?.strip_prefix(':')?;
        line.split(':').next()?.parse().ok()
    })
}

/// `tasks` grouped by the line they wait on, most first: where `waits` says the tasks
/// of their spawn site wait (in a lookup if they made one, the tasks in `callers`;
/// else before one), or else their spawn line.
fn waiting_places(tasks: &[TaskRecord], callers: &HashSet<u64>, waits: &[Wait]) -> Vec<Place> {
    let mut places: Vec<Place> = Vec::new();
    for task in tasks {
        let Some(file) = task.file.as_deref() else {
            continue;
        };
        let in_lookup = callers.contains(&task.id);
        let wait = waits
            .iter()
            .find(|w| w.file == file && w.spawned == task.line && w.in_lookup == in_lookup);
        let (line, stack) = match wait {
            Some(wait) => (wait.line, Some(wait.stack.as_str())),
            None => (task.line, None),
        };
        let same = |p: &&mut Place| p.site.file == file && p.site.line == line && p.spawned == task.line;
        match places.iter_mut().find(same) {
            Some(place) => place.site.count += 1,
            None => places.push(Place {
                site: Site {
                    file: file.to_owned(),
                    line,
                    count: 1,
                    stack: stack.map(str::to_owned),
                },
                spawned: task.line,
            }),
        }
    }
    places.sort_by_key(|p| std::cmp::Reverse(p.site.count));
    places
}

/// A duration the way a person says it: `850 ms`, `2.5 s`, `11 s`.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        let text = format!("{:.2}", d.as_secs_f64());
        format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a correct server sees: every request answered within the deadline, by its
    /// results when the lookup is quick enough, nothing left, never over the bound.
    fn correct(case: &Case) -> Seen {
        let requests = case
            .requests()
            .map(|(_, _, time)| match time {
                Some(t) if t < DEADLINE => Request {
                    took: Some(t),
                    answer: Some(Answer::Results),
                },
                _ => Request {
                    took: Some(DEADLINE),
                    answer: Some(Answer::Unavailable),
                },
            })
            .collect();
        Seen {
            requests,
            peak_calls: MAX_CALLS,
            peak_tasks: case.requests as usize,
            ..Seen::default()
        }
    }

    fn task(line: u32) -> TaskRecord {
        TaskRecord {
            id: u64::from(line),
            file: Some("labs/lab09_no_timeout_downstream.rs".into()),
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
    fn a_correct_server_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn a_request_never_answered_or_answered_late_misses_the_deadline() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.requests[1] = Request {
            took: None,
            answer: None,
        };
        seen.requests[3].took = Some(Duration::from_millis(2_500));
        seen.left = vec![task(26)];
        let findings = judge(case, &seen);
        assert_eq!(findings[0].kind, Kind::MissedDeadline);
        assert_eq!(findings[0].measured["requests_unanswered"], 1);
        assert_eq!(findings[0].measured["requests_late"], 1);
        let message = &findings[0].message;
        assert!(message.contains("2 of 1,000 requests"), "{message}");
        assert!(message.contains("the latest after 2.5 s"), "{message}");
        // The task still waiting is a leak as well.
        assert_eq!(kinds(case, &seen), [Kind::MissedDeadline, Kind::LeakedTask]);
    }

    #[test]
    fn more_lookups_than_the_bound_is_a_pile_up_at_the_callers_spawn_site() {
        let case = &CASES[0];
        let seen = Seen {
            peak_calls: MAX_CALLS + 1,
            callers: vec![task(26), task(26)],
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(kinds(case, &seen), [Kind::Overload]);
        assert_eq!(
            findings[0].sites[0].to_string(),
            "labs/lab09_no_timeout_downstream.rs:26"
        );
        assert!(
            findings[0].message.contains("up to 21 lookups"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn a_reply_dropped_unanswered_swallows_the_error() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.requests[1].answer = Some(Answer::DroppedUnanswered);
        assert_eq!(kinds(case, &seen), [Kind::SwallowedError]);
    }

    #[test]
    fn turning_away_requests_the_laboratory_could_carry_loses_their_results() {
        let quiet = &CASES[1];
        let mut seen = correct(quiet);
        seen.requests[2].answer = Some(Answer::Unavailable);
        assert_eq!(kinds(quiet, &seen), [Kind::LostWork]);
        // Under a burst, turning requests away is how the bound is kept.
        let burst = &CASES[0];
        let mut seen = correct(burst);
        seen.requests[0].answer = Some(Answer::Unavailable);
        assert_eq!(kinds(burst, &seen), []);
    }

    /// The most lookups in flight at once if every request is looked up the moment it
    /// is sent, from the schedule alone.
    fn overlap(case: &Case) -> usize {
        let spans: Vec<(Duration, Duration)> = case
            .requests()
            .map(|(_, at, time)| (at, at + time.unwrap_or(Duration::MAX / 2)))
            .collect();
        spans
            .iter()
            .map(|&(start, _)| spans.iter().filter(|&&(s, e)| s <= start && start < e).count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn the_cases_overload_the_laboratory_or_stay_within_it_as_they_say() {
        for case in &CASES {
            let within = overlap(case) <= MAX_CALLS as usize;
            assert_eq!(within, case.within_capacity, "{}: {}", case.name, overlap(case));
        }
        let burst = &CASES[0];
        assert!(burst.requests >= 1_000);
        assert!(burst.lookup_ms.contains(&None), "some lookups never end");
        let late = |ms: &Option<u64>| ms.is_some_and(|ms| ms > DEADLINE.as_millis() as u64);
        assert!(burst.lookup_ms.iter().any(late), "some end far too late");
        let quiet = &CASES[1];
        let slowest = quiet.lookup_ms.iter().flatten().max().copied().unwrap_or(0);
        assert!(
            slowest > DEADLINE.as_millis() as u64 * 9 / 10,
            "a timeout shorter than DEADLINE loses one"
        );
    }

    #[test]
    fn the_peak_counts_tasks_alive_at_once() {
        let ms = Duration::from_millis;
        let at = |start, end: Option<u64>| TaskRecord {
            spawned_at: ms(start),
            ended_at: end.map(ms),
            ..task(1)
        };
        assert_eq!(peak_alive(&[at(0, Some(10)), at(5, None), at(10, Some(20))]), 2);
        assert_eq!(peak_alive(&[]), 0);
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(human(Duration::from_millis(850)), "850 ms");
        assert_eq!(human(Duration::from_millis(2_500)), "2.5 s");
        assert_eq!(human(Duration::from_secs(11)), "11 s");
    }
}
