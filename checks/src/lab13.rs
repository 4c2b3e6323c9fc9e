//! Lab 13's check: the result listener ends promptly when the clinic shuts down and
//! when the results channel closes, and not before; and every result sent to it
//! before then reaches the ward's board.
//!
//! Each case sends a few results, spaced out, then either cancels the shutdown token
//! or drops the last sender, and watches the listener for [`WINDOW`] of virtual time.
//! One case shuts down while a result is being posted: the post under way must still
//! finish (results still queued at shutdown may be left, as the book's chapter says).
//! The window is walked in steps of one millisecond with `tokio::time::advance`, the
//! scenario taking a turn of the runtime at each step: a listener that keeps yielding
//! keeps the paused clock from jumping ahead on its own, and would otherwise hold the
//! window open for ever. A listener still alive at the end is aborted (after being
//! counted), so that the settle that follows looks only for other tasks.
//!
//! How the spin is counted: the audit log counts the lines written since the scenario's
//! last turn. A cancel branch that writes its line and loops without ever reaching an
//! `.await` that waits writes [`AuditTrail::BURST_LIMIT`] lines before the scenario can
//! take another turn; the log then refuses the next one by unwinding, which ends the
//! listener's task, and notes the line of code that wrote it. So the check reports the
//! spin at once, exactly, with that line and the listener's spawn site, instead of
//! waiting for the watchdog (which still catches a loop that spins without writing).
//!
//! `continue` in the cancel branch is the same loop. A `yield_now` (or a short sleep)
//! in the cancel branch makes the spin polite, not finite: the listener is still alive
//! at the end of the window, and the count says how often the branch ran meanwhile.
//! Breaking on shutdown but matching `Some(result) = results.recv()` leaves the listener
//! waiting after the channel closes: a failed pattern only disables its branch. Checking
//! the token in a `while` condition around a plain `recv().await` never wakes up to look
//! at it. Stopping on any idle gap is caught by a case whose results are far apart. A
//! `select!` around the whole receive loop, or one that races the post against the
//! token, drops the post under way at shutdown: lost work.

use crate::hidden::Cases;
use crate::{Subject, count};
use labkit::detector::{TaskRecord, group_sites, normalize};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{AuditLog, AuditTrail, ResultNotice, Ward, WardBoard};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub const LAB: u32 = 13;

/// How long after shutdown (or the channel closing) the listener may still run.
pub const WINDOW: Duration = Duration::from_millis(50);

/// How long the ward's board takes to show a result.
pub const POST_TIME: Duration = Duration::from_millis(5);

/// How the listener's work ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// The clinic shuts down: the token is cancelled, the channel stays open.
    Shutdown,
    /// The lab system drops its sender: the channel closes, no shutdown.
    ChannelClosed,
}

/// One run of the listener.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    /// When each result is sent, in ms from the start; result ids are 1, 2, ...
    pub results_at: &'static [u64],
    pub end: End,
    pub end_at: u64,
}

pub const CASES: [Case; 5] = [
    Case {
        name: "shutdown after three results",
        results_at: &[0, 100, 200],
        end: End::Shutdown,
        end_at: 300,
    },
    Case {
        name: "the lab system closes the channel",
        results_at: &[0, 40],
        end: End::ChannelClosed,
        end_at: 100,
    },
    Case {
        name: "shutdown before any result",
        results_at: &[],
        end: End::Shutdown,
        end_at: 50,
    },
    Case {
        name: "results far apart, then shutdown",
        results_at: &[0, 400, 1_500],
        end: End::Shutdown,
        end_at: 2_000,
    },
    Case {
        name: "shutdown while a result is being posted",
        results_at: &[0],
        end: End::Shutdown,
        end_at: 2,
    },
];

impl Case {
    fn event(&self) -> &'static str {
        match self.end {
            End::Shutdown => "the shutdown",
            End::ChannelClosed => "the channel closed",
        }
    }
}

/// What one run saw.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The listener's task: where it was spawned, and when it ended (virtual time since
    /// the run began; an aborted listener ends when the check aborts it).
    pub listener: Option<TaskRecord>,
    /// Still running at the end of the window (the check then aborted it).
    pub alive_after_window: bool,
    /// The audit log refused a line and its panic ended the listener: where that line
    /// is written.
    pub refused: Option<Site>,
    /// The listener panicked for another reason: the panic's message.
    pub panicked: Option<String>,
    /// Audit lines written after the end (the shutdown or the close), in the window.
    pub lines_after_end: u32,
    /// Task polls the runtime made in the window: a listener that goes round its loop is
    /// polled at every step, one that waits is not polled at all.
    pub polls_in_window: u64,
    /// The results that reached the board, by id.
    pub posted: Vec<u32>,
    /// Tasks alive after the run and the settle window (the listener excluded: it ended
    /// or was aborted).
    pub leaks: Vec<TaskRecord>,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab13 {
    ($lab:ident, $subject:expr) => {
        $crate::lab13::check($subject, $lab::start_result_listener)
    };
}

/// Every case against one copy of the lab.
pub fn check<F>(_subject: &Subject, start_result_listener: F) -> Verdict
where
    F: Fn(mpsc::Receiver<ResultNotice>, WardBoard, AuditLog, CancellationToken) -> JoinHandle<()>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    for (i, case) in cases.iter().enumerate() {
        let seen = run(case, &start_result_listener);
        if i == 0 {
            verdict.measure("results_sent", case.results_at.len() as u64);
            verdict.measure("results_posted", seen.posted.len() as u64);
            verdict.measure("audit_lines_after_shutdown", u64::from(seen.lines_after_end));
            if let Some(after) = ended_after(case, &seen) {
                verdict.measure("listener_ended_ms_after_shutdown", after.as_millis() as u64);
            }
        }
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.findings = crate::once_each(verdict.findings, same_bug);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields; `end` is `"shutdown"`
/// or `"channel_closed"`.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    results_at: Vec<u64>,
    end: End,
    end_at: u64,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        if self.results_at.windows(2).any(|pair| pair[0] > pair[1]) {
            return Err("results_at must be in order: the results are sent one after another".into());
        }
        if self.results_at.last().is_some_and(|&last| last > self.end_at) {
            return Err("end_at comes before the last result is sent".into());
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            results_at: crate::hidden::leak(self.results_at),
            end: self.end,
            end_at: self.end_at,
        })
    }
}

/// One run: start the listener, feed it, end its work, and watch it through the window.
fn run<F>(case: &Case, start_result_listener: &F) -> Seen
where
    F: Fn(mpsc::Receiver<ResultNotice>, WardBoard, AuditLog, CancellationToken) -> JoinHandle<()>,
{
    let ward = Ward::new(POST_TIME);
    let trail = AuditTrail::new();
    let shutdown = CancellationToken::new();
    let (send, results) = mpsc::channel(16);
    let outcome = Detector::new().without_stacks().run(|| async {
        let started = Instant::now();
        let listener = start_result_listener(results, ward.board(), trail.log(), shutdown.clone());
        let id = listener.id().to_string().parse::<u64>().ok();
        for (i, &at) in case.results_at.iter().enumerate() {
            tokio::time::sleep_until(started + Duration::from_millis(at)).await;
            let notice = ResultNotice {
                id: i as u32 + 1,
                patient: 100 + i as u32,
            };
            let _ = send.send(notice).await; // fails if the listener has already gone
            trail.turn();
        }
        tokio::time::sleep_until(started + Duration::from_millis(case.end_at)).await;
        let lines_before = trail.lines().len();
        let mut sender = Some(send);
        match case.end {
            End::Shutdown => shutdown.cancel(),
            End::ChannelClosed => drop(sender.take()),
        }
        let polls_before = task_polls();
        let alive_after_window = !watch(&listener, &trail).await;
        let polls_in_window = task_polls() - polls_before;
        let lines_after_end = (trail.lines().len() - lines_before) as u32;
        if alive_after_window {
            listener.abort();
        }
        let panicked = match listener.await {
            Err(error) if error.is_panic() => Some(labkit::child::panic_message(&*error.into_panic())),
            _ => None,
        };
        drop(sender);
        (id, alive_after_window, panicked, lines_after_end, polls_in_window)
    });
    let (id, alive_after_window, panicked, lines_after_end, polls_in_window) = outcome.output;
    let refused = trail.refused().map(|place| Site {
        file: normalize(place.file()),
        line: place.line(),
        count: AuditTrail::BURST_LIMIT,
        stack: None,
    });
    let listener = outcome.tasks.iter().find(|t| Some(t.id) == id).cloned();
    Seen {
        listener,
        alive_after_window,
        panicked: panicked.filter(|_| refused.is_none()),
        refused,
        lines_after_end,
        polls_in_window,
        posted: ward.posted().iter().map(|(notice, _)| notice.id).collect(),
        leaks: outcome.leaks,
    }
}

/// Walks the window a millisecond at a time, the scenario taking a turn at each step;
/// true if the listener ended within it.
async fn watch(listener: &JoinHandle<()>, trail: &AuditTrail) -> bool {
    let steps = WINDOW.as_millis() as u32;
    trail.turn();
    tokio::task::yield_now().await;
    for _ in 0..steps {
        if listener.is_finished() {
            return true;
        }
        trail.turn();
        tokio::time::advance(Duration::from_millis(1)).await;
    }
    listener.is_finished()
}

/// How many times the runtime has polled a task so far (tokio counts polls only with
/// `--cfg tokio_unstable`; without it, 0).
fn task_polls() -> u64 {
    #[cfg(tokio_unstable)]
    let polls = tokio::runtime::Handle::current().metrics().worker_poll_count(0);
    #[cfg(not(tokio_unstable))]
    let polls = 0;
    polls
}

/// How long after the end the listener ended, if it ended by itself after it (not
/// aborted by the check, nor ended by a panic).
fn ended_after(case: &Case, seen: &Seen) -> Option<Duration> {
    let ended = seen.listener.as_ref()?.ended_at?;
    let end = Duration::from_millis(case.end_at);
    let by_itself = !seen.alive_after_window && seen.refused.is_none() && seen.panicked.is_none();
    (by_itself && ended >= end).then(|| ended - end)
}

/// The rules for one run: the listener ends within the window after the end and not
/// before, it posts every result sent to it, it records a shutdown in the audit log
/// once, and nothing is left running.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = case.name;
    let event = case.event();
    let end_ms = case.end_at;
    let spawned: Vec<Site> = group_sites(seen.listener.as_slice());
    let ended = seen.listener.as_ref().and_then(|t| t.ended_at);
    if let Some(refused) = &seen.refused {
        let place = spawned
            .first()
            .map(|site| format!(" (spawned at {site})"))
            .unwrap_or_default();
        let message = format!(
            "{name}: after {event} at {} ms, the audit line at {refused} ran {} times in a row \
             without the listener{place} ever yielding; then the audit log refused a line, and its \
             panic ended the task. The loop never exits, and while it spins nothing else on the \
             runtime's thread runs, not even an abort()",
            count(end_ms),
            count(AuditTrail::BURST_LIMIT.into()),
        );
        let mut sites = vec![refused.clone()];
        sites.extend(spawned.iter().cloned());
        let finding = Finding::new(Kind::Spin, message)
            .measure("cancel_branch_runs", u64::from(AuditTrail::BURST_LIMIT))
            .measure("end_ms", end_ms)
            .with_sites(sites);
        findings.push(finding);
    } else if let Some(panic) = &seen.panicked {
        let place = spawned
            .first()
            .map(|site| format!(" (spawned at {site})"))
            .unwrap_or_default();
        let message = format!("{name}: the listener{place} panicked: {panic}");
        findings.push(Finding::new(Kind::Crashed, message).with_sites(spawned.clone()));
    } else if seen.alive_after_window {
        let steps = WINDOW.as_millis() as u64;
        let busy = seen.polls_in_window >= steps;
        let how = match (case.end, seen.lines_after_end, busy) {
            (_, runs, _) if runs > 1 => format!(
                ": its audit line was written {} times in that window; it yields, so other tasks \
                 get to run, but the loop never exits",
                count(runs.into())
            ),
            (End::ChannelClosed, _, true) => format!(
                ", polled {} times in that window: once the channel is closed and empty, recv() \
                 returns None at once on every turn, and the loop goes round and round",
                count(seen.polls_in_window)
            ),
            (End::ChannelClosed, _, false) => ", waiting: once the channel is closed and empty, \
                                               recv() returns None, and nothing ever comes again"
                .to_owned(),
            (End::Shutdown, _, true) => format!(
                ", polled {} times in that window: it goes round its loop and never leaves it",
                count(seen.polls_in_window)
            ),
            (End::Shutdown, _, false) => {
                ", waiting: nothing it waits on ever looks at the token again".to_owned()
            }
        };
        let happened = match case.end {
            End::Shutdown => "shutdown came",
            End::ChannelClosed => "the channel closed",
        };
        let place = spawned
            .first()
            .map(|site| format!(" (spawned at {site})"))
            .unwrap_or_default();
        let message = format!(
            "{name}: {happened} at {} ms, and {} ms later the listener{place} was still running{how}",
            count(end_ms),
            WINDOW.as_millis(),
        );
        let finding = Finding::new(Kind::LeakedTask, message)
            .measure("alive_tasks", 1)
            .measure("audit_lines_after_end", u64::from(seen.lines_after_end))
            .measure("polls_in_window", seen.polls_in_window)
            .measure("window_ms", WINDOW.as_millis() as u64)
            .with_sites(spawned.clone());
        findings.push(finding);
    }
    let sent = case.results_at.len() as u32;
    let lost: Vec<u32> = (1..=sent).filter(|id| !seen.posted.contains(id)).collect();
    let early = ended.filter(|&at| at < Duration::from_millis(end_ms) && seen.refused.is_none());
    if !lost.is_empty() || early.is_some() {
        let mut message = format!("{name}: ");
        if let Some(at) = early {
            message.push_str(&format!(
                "the listener ended at {} ms, before {event} at {} ms; ",
                count(at.as_millis() as u64),
                count(end_ms)
            ));
        }
        match lost.first() {
            Some(&first) => {
                let sent_at = case.results_at[first as usize - 1];
                message.push_str(&format!(
                    "{} of {sent} results never reached the ward's board (result {first} was sent at {} ms)",
                    lost.len(),
                    count(sent_at)
                ));
                if sent_at <= end_ms && end_ms < sent_at + POST_TIME.as_millis() as u64 {
                    message.push_str(&format!(
                        "; its post, which takes {} ms, was under way when {event} came: dropping \
                         the future that posts it cut the post short",
                        POST_TIME.as_millis()
                    ));
                }
            }
            None => message.push_str("a result sent after that would never reach the ward's board"),
        }
        let finding = Finding::new(Kind::LostWork, message)
            .measure("results_lost", lost.len() as u64)
            .measure("results_sent", u64::from(sent))
            .with_sites(spawned.clone());
        findings.push(finding);
    }
    let audited = seen.lines_after_end;
    if case.end == End::Shutdown && ended_after(case, seen).is_some() && audited != 1 {
        let (kind, told) = match audited {
            0 => (Kind::LostWork, "without writing its audit line".to_owned()),
            n => (
                Kind::Duplicated,
                format!("after writing its audit line {n} times"),
            ),
        };
        let message = format!(
            "{name}: the listener ended after {event} at {} ms, {told}: the clinic's audit wants \
             the shutdown recorded once",
            count(end_ms)
        );
        let finding = Finding::new(kind, message)
            .measure("audit_lines_after_end", u64::from(audited))
            .with_sites(spawned.clone());
        findings.push(finding);
    }
    if !seen.leaks.is_empty() {
        let sites = group_sites(&seen.leaks);
        let message = format!(
            "{name}: {} still alive after the listener was done and the runtime settled{}",
            if seen.leaks.len() == 1 {
                "1 task was".to_owned()
            } else {
                format!("{} tasks were", seen.leaks.len())
            },
            spawned_at(&sites)
        );
        let finding = Finding::new(Kind::LeakedTask, message).measure("alive_tasks", seen.leaks.len() as u64);
        findings.push(finding.with_sites(sites));
    }
    findings
}

fn spawned_at(sites: &[Site]) -> String {
    sites
        .first()
        .map(|site| format!(", spawned at {site}"))
        .unwrap_or_default()
}

/// Two findings are the same bug when they are of one kind at one first site.
fn same_bug(f: &Finding) -> (Kind, Option<(String, u32)>) {
    (f.kind, f.sites.first().map(|s| (s.file.clone(), s.line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "labs/lab13_select_loop.rs";

    fn listener(ended_ms: Option<u64>) -> TaskRecord {
        TaskRecord {
            id: 1,
            file: Some(FILE.into()),
            line: 24,
            spawned_at: Duration::ZERO,
            ended_at: ended_ms.map(Duration::from_millis),
            stack: None,
        }
    }

    /// What a correct listener sees: every result posted, the end at the end.
    fn correct(case: &Case) -> Seen {
        Seen {
            listener: Some(listener(Some(case.end_at))),
            lines_after_end: u32::from(case.end == End::Shutdown),
            posted: (1..=case.results_at.len() as u32).collect(),
            ..Seen::default()
        }
    }

    fn kinds(case: &Case, seen: &Seen) -> Vec<Kind> {
        judge(case, seen).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_correct_listener_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn a_refused_audit_line_is_a_spin_at_that_line_then_the_spawn() {
        let case = &CASES[0];
        let seen = Seen {
            listener: Some(listener(Some(300))),
            refused: Some(Site {
                file: FILE.into(),
                line: 28,
                count: AuditTrail::BURST_LIMIT,
                stack: None,
            }),
            lines_after_end: AuditTrail::BURST_LIMIT,
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::Spin);
        let lines: Vec<u32> = findings[0].sites.iter().map(|s| s.line).collect();
        assert_eq!(lines, [28, 24]);
        assert!(findings[0].message.contains("ran 10,000 times in a row"));
        assert_eq!(findings[0].measured["cancel_branch_runs"], 10_000);
    }

    #[test]
    fn a_polite_spin_is_still_alive_with_its_count() {
        let case = &CASES[0];
        let seen = Seen {
            listener: Some(listener(Some(350))),
            alive_after_window: true,
            lines_after_end: 51,
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::LeakedTask);
        assert!(
            findings[0].message.contains("written 51 times"),
            "{}",
            findings[0].message
        );
        assert!(findings[0].message.contains("labs/lab13_select_loop.rs:24"));
    }

    #[test]
    fn a_listener_that_waits_after_the_close_is_alive() {
        let case = &CASES[1];
        let seen = Seen {
            alive_after_window: true,
            lines_after_end: 0,
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0]
                .message
                .contains(", waiting: once the channel is closed")
        );
        let busy = Seen {
            polls_in_window: 1_000,
            ..seen
        };
        let findings = judge(case, &busy);
        assert!(
            findings[0].message.contains("polled 1,000 times"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn ending_before_the_shutdown_loses_the_later_results() {
        let case = &CASES[3];
        let seen = Seen {
            listener: Some(listener(Some(1_400))),
            posted: vec![1, 2],
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::LostWork);
        assert!(
            findings[0]
                .message
                .contains("ended at 1,400 ms, before the shutdown at 2,000 ms; 1 of 3 results")
        );
    }

    #[test]
    fn one_bug_in_many_cases_is_told_once() {
        let spins: Vec<Finding> = CASES
            .iter()
            .filter(|case| case.end == End::Shutdown)
            .flat_map(|case| {
                let seen = Seen {
                    refused: Some(Site {
                        file: FILE.into(),
                        line: 28,
                        count: AuditTrail::BURST_LIMIT,
                        stack: None,
                    }),
                    ..correct(case)
                };
                judge(case, &seen)
            })
            .collect();
        let shutdowns = CASES.iter().filter(|case| case.end == End::Shutdown).count();
        assert!(shutdowns > 2);
        assert_eq!(spins.len(), shutdowns);
        let told = crate::once_each(spins, same_bug);
        assert_eq!(told.len(), 1);
        let more = format!("(the same in {} more cases)", shutdowns - 1);
        assert!(told[0].message.ends_with(&more), "{}", told[0].message);
    }

    #[test]
    fn the_cases_end_both_ways_and_leave_gaps_longer_than_a_second() {
        assert!(CASES.iter().any(|c| c.end == End::Shutdown));
        assert!(CASES.iter().any(|c| c.end == End::ChannelClosed));
        assert!(
            CASES
                .iter()
                .any(|c| c.results_at.windows(2).any(|w| w[1] - w[0] > 1_000))
        );
        // Every result comes well before the end, so a listener has time to post it;
        // but for one case, which shuts down while the last result is being posted.
        let post = POST_TIME.as_millis() as u64;
        let posting_at_end = |c: &&Case| c.results_at.last().is_some_and(|&at| at + post > c.end_at);
        let during: Vec<&Case> = CASES.iter().filter(posting_at_end).collect();
        assert_eq!(during.len(), 1);
        assert_eq!(during[0].end, End::Shutdown);
        for case in CASES.iter().filter(|c| !posting_at_end(c)) {
            assert!(case.results_at.iter().all(|&at| at + 50 <= case.end_at));
        }
    }

    #[test]
    fn a_shutdown_is_recorded_in_the_audit_log_once() {
        let case = &CASES[0];
        let audited = |lines| Seen {
            lines_after_end: lines,
            ..correct(case)
        };
        assert_eq!(kinds(case, &audited(1)), []);
        assert_eq!(kinds(case, &audited(0)), [Kind::LostWork]);
        let told = &judge(case, &audited(0))[0].message;
        assert!(told.ends_with("audit wants the shutdown recorded once"), "{told}");
        assert_eq!(kinds(case, &audited(3)), [Kind::Duplicated]);
        // A closed channel is not a shutdown: no line is asked for.
        let closed = CASES
            .iter()
            .find(|c| c.end == End::ChannelClosed)
            .expect("a close");
        assert_eq!(kinds(closed, &correct(closed)), []);
    }

    #[test]
    fn a_post_cut_short_by_the_shutdown_is_lost_work_and_says_so() {
        let case = CASES
            .iter()
            .find(|c| c.name == "shutdown while a result is being posted")
            .expect("the case");
        let seen = Seen {
            posted: vec![],
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(
            findings.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::LostWork]
        );
        assert!(
            findings[0].message.contains("cut the post short"),
            "{}",
            findings[0].message
        );
        // A result lost long before the shutdown is not said to be cut short.
        let far = &CASES[0];
        let seen = Seen {
            posted: vec![2, 3],
            ..correct(far)
        };
        let findings = judge(far, &seen);
        assert!(
            !findings[0].message.contains("cut the post short"),
            "{}",
            findings[0].message
        );
    }
}
