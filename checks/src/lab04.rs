//! Lab 4's check: when the coordinator presses Stop, the redaction stops within a few
//! notes, however early Stop comes, and `redact_for_study` says how far it got.
//!
//! Each case exports some thousands of notes and presses Stop after a chosen note, or
//! never. Stop is pressed from inside the redaction of that note (see
//! `leaklab_clinic::NotesExport`), so "how far past Stop" is an exact count of the
//! notes whose redaction started after it, with no clock, on whatever thread the work
//! runs (off the runtime thread, `StopButton` below keeps it free of races too). Each
//! note stands for 2 ms of CPU, so the count is also work time; the real work is nil,
//! so even the broken copy's 20,000 notes take milliseconds and nothing hangs on it. The
//! property a fix must hold, whatever its shape:
//! - at most [`STOP_WITHIN`] notes (100 ms of work) are redacted after Stop, counted to
//!   the end of the run, so work left running after the function returns counts too;
//! - it returns the number of notes redacted, Stop or no Stop;
//! - an export nobody stops redacts every note, and nothing it started is left alive.
//!
//! The bound leaves room for a worker that looks at Stop every few dozen notes, and no
//! more: the cases press Stop right after the 4,097th note and the 3,001st, so a worker
//! that looks every 64 or every 100 notes runs past it.
//!
//! The caller cancels through the token: the function hands out no `JoinHandle`, and
//! aborting its worker is its own business. So a fix must make something look at the
//! token: a worker that only yields, with nothing watching the token, runs to the end
//! (yielding makes room for an abort, but nobody sends one). Calling `cancel()` again
//! changes nothing: a token is a flag, and cancelling it twice sets it twice. A worker
//! that checks the token once before the loop sees only a Stop pressed before the
//! export began (one case does that, and it passes there). Moving the loop to
//! `spawn_blocking` without a flag runs to the end too: a blocking task cannot be
//! aborted once it runs.

use crate::hidden::Cases;
use crate::{Subject, count};
use labkit::detector::{TaskRecord, group_sites};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{ClinicalNote, NOTE_WORK, NotesExport, Redactor};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::ThreadId;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const LAB: u32 = 4;

/// How many notes may still be redacted after Stop: 50 notes, 100 ms of work.
pub const STOP_WITHIN: u32 = 50;

/// One export: how many notes, and after which one (if any) Stop is pressed.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub notes: u32,
    /// Stop is pressed the moment this many notes are redacted; `Some(0)`: before the
    /// export begins; `None`: never.
    pub stop_after: Option<u32>,
}

pub const CASES: [Case; 7] = [
    Case {
        name: "a long export, stopped early",
        notes: 20_000,
        stop_after: Some(150),
    },
    Case {
        name: "stopped after the first note",
        notes: 4_000,
        stop_after: Some(1),
    },
    Case {
        name: "stopped right after note 4,097",
        notes: 9_000,
        stop_after: Some(4_097),
    },
    Case {
        name: "stopped right after note 3,001",
        notes: 5_000,
        stop_after: Some(3_001),
    },
    Case {
        name: "stopped before it began",
        notes: 500,
        stop_after: Some(0),
    },
    Case {
        name: "an export nobody stops",
        notes: 6_000,
        stop_after: None,
    },
    Case {
        name: "a short export nobody stops",
        notes: 3,
        stop_after: None,
    },
];

/// What one export did, seen after it returned and the runtime settled.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// What `redact_for_study` returned.
    pub returned: usize,
    /// Redactions, to the end of the run.
    pub redacted: u32,
    pub stop_pressed: bool,
    /// Redactions that started after Stop.
    pub after_stop: u32,
    /// The tasks that redacted notes after Stop.
    pub workers: Vec<TaskRecord>,
    /// Some work after Stop ran on the blocking pool (a task with no spawn record).
    pub on_blocking_pool: bool,
    /// Some work after Stop ran in `redact_for_study`'s own future, not in a task.
    pub in_caller: bool,
    /// Tasks still alive after the runtime settled.
    pub leaks: Vec<TaskRecord>,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab04 {
    ($lab:ident, $subject:expr) => {
        $crate::lab04::check($subject, $lab::redact_for_study)
    };
}

/// Every case against one copy of the lab.
pub fn check<F, Fut>(_subject: &Subject, redact_for_study: F) -> Verdict
where
    F: Fn(Redactor, Vec<ClinicalNote>, CancellationToken) -> Fut,
    Fut: Future<Output = usize>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut after_stop, mut most) = (0, 0);
    for case in cases.iter() {
        let seen = run(case, &redact_for_study);
        after_stop += u64::from(seen.after_stop);
        most = most.max(seen.after_stop);
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("exports", cases.len() as u64);
    verdict.measure("notes_redacted_after_stop", after_stop);
    verdict.measure("most_notes_after_one_stop", u64::from(most));
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with an owned name.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    notes: u32,
    stop_after: Option<u32>,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        if let Some(after) = self.stop_after.filter(|&after| after > self.notes) {
            return Err(format!(
                "stop_after ({after}) is past the last of its {} notes: Stop would never be pressed",
                self.notes
            ));
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            notes: self.notes,
            stop_after: self.stop_after,
        })
    }
}

/// One export, with Stop wired to the caller's token.
fn run<F, Fut>(case: &Case, redact_for_study: &F) -> Seen
where
    F: Fn(Redactor, Vec<ClinicalNote>, CancellationToken) -> Fut,
    Fut: Future<Output = usize>,
{
    let export = NotesExport::new(case.notes, case.stop_after);
    let stop = CancellationToken::new();
    let (button, reacted) = StopButton::new(stop.clone());
    let pressing = button.clone();
    export.on_stop(move || pressing.press());
    let outcome = Detector::new().run(|| async {
        let _ = button.runtime_thread.set(std::thread::current().id());
        if case.stop_after == Some(0) {
            export.press_stop();
        }
        let lab = redact_for_study(export.redactor(), export.notes(), stop);
        button.serve(reacted, lab).await
    });
    // The runtime has settled: work that ran on after the function returned is counted.
    let ran_after_stop = export.workers_after_stop();
    let tracked = |id: &tokio::task::Id| {
        let id = id.to_string().parse::<u64>().ok();
        outcome.tasks.iter().find(|task| Some(task.id) == id)
    };
    let workers = ran_after_stop
        .iter()
        .flatten()
        .filter_map(tracked)
        .cloned()
        .collect();
    let untracked = ran_after_stop.iter().flatten().any(|id| tracked(id).is_none());
    Seen {
        returned: outcome.output,
        redacted: export.redacted(),
        stop_pressed: export.stop_pressed(),
        after_stop: export.redacted_after_stop(),
        workers,
        on_blocking_pool: untracked && outcome.locations,
        in_caller: ran_after_stop.contains(&None),
        leaks: outcome.leaks,
    }
}

/// The caller's side of Stop: it cancels the token, as a caller on the runtime would.
///
/// Stop is pressed from inside a redaction, on whatever thread runs it. On the runtime's
/// own thread nothing else can run meanwhile, so the press is all there is. On another
/// thread (the blocking pool), a real caller would react to Stop on the runtime while
/// the worker is still in its 2 ms note, and anything it does there (set a stop flag of
/// its own, abort a task whose drop guard sets one) reaches the worker within a note.
/// Here a note takes no real time, so the pressing thread waits until the runtime has
/// had [`REACTION_ROUNDS`] turns to react: the count then depends on what the code
/// does, never on which thread is faster. (The wait is cut short once the function
/// returns, and after [`REACTION_LIMIT`] if the runtime thread is blocked and cannot
/// react at all.)
struct StopButton {
    token: CancellationToken,
    runtime_thread: OnceLock<ThreadId>,
    pressed: Notify,
    reacted: Mutex<mpsc::Receiver<()>>,
}

/// How many times the runtime runs every ready task after a press from another thread.
const REACTION_ROUNDS: usize = 8;

/// How long a press from another thread waits for a runtime thread that never comes back
/// to it (one blocked on that very thread): a safety net, far above a normal reaction,
/// and below the watchdog's stall limit.
const REACTION_LIMIT: Duration = Duration::from_millis(500);

impl StopButton {
    fn new(token: CancellationToken) -> (Arc<StopButton>, mpsc::Sender<()>) {
        let (reacted, waiting) = mpsc::channel();
        let button = StopButton {
            token,
            runtime_thread: OnceLock::new(),
            pressed: Notify::new(),
            reacted: Mutex::new(waiting),
        };
        (Arc::new(button), reacted)
    }

    fn press(&self) {
        self.token.cancel();
        if self.runtime_thread.get() == Some(&std::thread::current().id()) {
            return;
        }
        self.pressed.notify_one();
        let waiting = self.reacted.lock().unwrap_or_else(|e| e.into_inner());
        let _ = waiting.recv_timeout(REACTION_LIMIT);
    }

    /// Runs `lab` to its end and, meanwhile, lets a press from another thread go on
    /// once the runtime has reacted. Dropping `reacted` at the end frees any later press.
    async fn serve<T>(&self, reacted: mpsc::Sender<()>, lab: impl Future<Output = T>) -> T {
        let react = async move {
            self.pressed.notified().await;
            for _ in 0..REACTION_ROUNDS {
                tokio::task::yield_now().await;
            }
            let _ = reacted.send(());
            std::future::pending::<()>().await;
        };
        tokio::select! {
            biased;
            output = lab => output,
            () = react => unreachable!("the reaction never ends"),
        }
    }
}

/// The rules for one export: Stop lands within the bound, the count returned is the
/// count redacted, an export nobody stops redacts every note, and nothing is left alive.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = case.name;
    if seen.stop_pressed && seen.after_stop > STOP_WITHIN {
        findings.push(ran_past_stop(case, seen));
    }
    if seen.redacted < case.notes {
        let message = match case.stop_after {
            _ if seen.stop_pressed => None,
            None => Some(format!(
                "{name}: nobody pressed Stop, but only {} of {} notes were redacted",
                count(seen.redacted.into()),
                count(case.notes.into())
            )),
            Some(after) => Some(format!(
                "{name}: the export ended after {} of {} notes, before Stop was pressed (it comes \
                 after note {})",
                count(seen.redacted.into()),
                count(case.notes.into()),
                count(after.into())
            )),
        };
        if let Some(message) = message {
            let finding = Finding::new(Kind::LostWork, message)
                .measure("notes_redacted", u64::from(seen.redacted))
                .measure("notes_total", u64::from(case.notes));
            findings.push(finding);
        }
    }
    if seen.returned != seen.redacted as usize {
        let message = format!(
            "{name}: redact_for_study returned {}, but the export redacted {} in all: the study \
             cannot tell how far it got",
            count(seen.returned as u64),
            notes(seen.redacted)
        );
        let finding = Finding::new(Kind::LostWork, message)
            .measure("notes_returned", seen.returned as u64)
            .measure("notes_redacted", u64::from(seen.redacted));
        findings.push(finding);
    }
    if !seen.leaks.is_empty() {
        let sites = group_sites(&seen.leaks);
        let message = format!(
            "{name}: {} still alive after redact_for_study returned and the runtime settled{}",
            tasks(seen.leaks.len()),
            spawned_at(&sites)
        );
        let finding = Finding::new(Kind::LeakedTask, message).measure("alive_tasks", seen.leaks.len() as u64);
        findings.push(finding.with_sites(sites));
    }
    findings
}

/// The finding for work that went on past Stop: how many notes, how much work, where.
fn ran_past_stop(case: &Case, seen: &Seen) -> Finding {
    let sites = group_sites(&seen.workers);
    let mut place = spawned_at(&sites).replacen(", spawned", ", in the task spawned", 1);
    if seen.on_blocking_pool {
        place.push_str(", on the blocking pool (a blocking task cannot be aborted once it runs)");
    }
    if seen.in_caller {
        place.push_str(", in redact_for_study's own future");
    }
    let pressed = match case.stop_after {
        Some(0) | None => "before the export began".to_owned(),
        Some(after) => format!(
            "after note {} of {}",
            count(after.into()),
            count(case.notes.into())
        ),
    };
    let work = NOTE_WORK * seen.after_stop;
    let message = format!(
        "{}: Stop came {pressed}, but the work went on for {} more notes (about {} of CPU){place}; \
         the bound is {} notes ({})",
        case.name,
        count(seen.after_stop.into()),
        span(work),
        STOP_WITHIN,
        span(NOTE_WORK * STOP_WITHIN),
    );
    Finding::new(Kind::MissedDeadline, message)
        .measure("notes_after_stop", u64::from(seen.after_stop))
        .measure("work_ms_after_stop", work.as_millis() as u64)
        .measure("notes_total", u64::from(case.notes))
        .measure("stop_after_note", u64::from(case.stop_after.unwrap_or(0)))
        .with_sites(sites)
}

fn spawned_at(sites: &[Site]) -> String {
    match sites {
        [] => String::new(),
        [one] => format!(", spawned at {one}"),
        [first, rest @ ..] => format!(", spawned at {first} and {} other places", rest.len()),
    }
}

fn tasks(n: usize) -> String {
    if n == 1 {
        "1 task was".into()
    } else {
        format!("{n} tasks were")
    }
}

/// `1 note`, `19,850 notes`.
fn notes(n: u32) -> String {
    match n {
        1 => "1 note".into(),
        n => format!("{} notes", count(n.into())),
    }
}

/// A span of work the way a person says it: `100 ms`, `4 s`, `39.7 s`.
fn span(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64()).replace(".0 s", " s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(line: u32) -> TaskRecord {
        TaskRecord {
            id: 1,
            file: Some("labs/lab04_cooperative_cancellation.rs".into()),
            line,
            spawned_at: Duration::ZERO,
            ended_at: Some(Duration::ZERO),
            stack: None,
        }
    }

    /// What a correct copy sees: the work stops at Stop and reports how far it got, or
    /// redacts every note when nobody presses Stop.
    fn correct(case: &Case) -> Seen {
        let redacted = case.stop_after.unwrap_or(case.notes);
        Seen {
            returned: redacted as usize,
            redacted,
            stop_pressed: case.stop_after.is_some(),
            ..Seen::default()
        }
    }

    /// What the original sees: every note redacted, reported right, far past Stop.
    fn runs_to_the_end(case: &Case) -> Seen {
        Seen {
            returned: case.notes as usize,
            redacted: case.notes,
            stop_pressed: case.stop_after.is_some(),
            after_stop: case.notes - case.stop_after.unwrap_or(case.notes),
            workers: vec![worker(22)],
            ..Seen::default()
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
    fn running_on_past_stop_misses_the_deadline_with_the_spawn_site() {
        let case = &CASES[0];
        let findings = judge(case, &runs_to_the_end(case));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::MissedDeadline);
        assert_eq!(
            findings[0].sites[0].to_string(),
            "labs/lab04_cooperative_cancellation.rs:22"
        );
        assert_eq!(findings[0].measured["notes_after_stop"], 19_850);
        assert_eq!(findings[0].measured["work_ms_after_stop"], 39_700);
        assert!(
            findings[0]
                .message
                .contains("19,850 more notes (about 39.7 s of CPU)")
        );
    }

    #[test]
    fn the_bound_is_inclusive() {
        let case = &CASES[2];
        let mut seen = correct(case);
        seen.after_stop = STOP_WITHIN;
        seen.redacted += STOP_WITHIN;
        seen.returned = seen.redacted as usize;
        assert_eq!(kinds(case, &seen), []);
        seen.after_stop += 1;
        seen.redacted += 1;
        seen.returned += 1;
        assert_eq!(kinds(case, &seen), [Kind::MissedDeadline]);
    }

    #[test]
    fn a_wrong_count_is_lost_work() {
        let case = &CASES[1];
        let seen = Seen {
            returned: 0,
            ..correct(case)
        };
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn an_unstopped_export_must_redact_every_note() {
        let case = &CASES[5];
        let mut seen = correct(case);
        seen.redacted -= 1;
        seen.returned -= 1;
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn ending_before_stop_is_pressed_is_lost_work() {
        let case = &CASES[0];
        let seen = Seen {
            returned: 100,
            redacted: 100,
            stop_pressed: false,
            ..Seen::default()
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::LostWork);
        assert!(findings[0].message.contains("before Stop was pressed"));
    }

    #[test]
    fn a_task_alive_after_the_settle_is_a_leak() {
        let case = &CASES[5];
        let mut seen = correct(case);
        let mut alive = worker(22);
        alive.ended_at = None;
        seen.leaks.push(alive);
        assert_eq!(kinds(case, &seen), [Kind::LeakedTask]);
    }

    #[test]
    fn the_cases_catch_a_worker_that_looks_too_seldom() {
        // A worker that looks at Stop every `every` notes, after the notes it has done
        // are a multiple of `every`, runs this far past a Stop after note `k`.
        let past = |k: u32, every: u32| (every - k % every) % every;
        let stops: Vec<u32> = CASES.iter().filter_map(|c| c.stop_after).collect();
        for every in [64, 100, 128, 256, 1_000] {
            assert!(
                stops.iter().any(|&k| past(k, every) > STOP_WITHIN),
                "looking every {every} notes passes"
            );
        }
        assert!(stops.contains(&0), "a Stop before the export began");
        assert!(CASES.iter().any(|c| c.stop_after.is_none()));
    }

    #[test]
    fn counts_and_spans_read_as_a_person_writes_them() {
        assert_eq!(count(7), "7");
        assert_eq!(count(4_097), "4,097");
        assert_eq!(count(19_850), "19,850");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(span(Duration::from_millis(100)), "100 ms");
        assert_eq!(span(Duration::from_millis(39_700)), "39.7 s");
        assert_eq!(span(Duration::from_secs(4)), "4 s");
    }
}
