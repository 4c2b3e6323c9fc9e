//! Lab 3's model: two booking threads each record one booking, and afterwards the
//! counter must say 2.
//!
//! That is the whole property: no booking is lost, whatever the order of the threads'
//! steps. loom tries every order with up to [`PREEMPTION_BOUND`] preemptions, which is
//! all a split read-modify-write needs to go wrong (thread 1 is stopped after its read,
//! thread 2 reads, thread 1 is resumed). A fix passes only if no order loses a booking,
//! so stronger memory ordering on the same load and store fails, and so does a lock
//! taken to read and taken again to write; `fetch_add` or one lock held across the
//! read-modify-write passes.
//!
//! When an execution loses a booking, the finding's detail is that execution's log
//! (see [`crate::steps`]), and its sites are the lines of the steps that raced.

use crate::Subject;
use labkit::Verdict;

pub const LAB: u32 = 3;

/// How many booking threads the model runs, each recording one booking.
pub const THREADS: u64 = 2;

/// Preemptions loom may make per execution. Set here, so no environment variable is
/// needed; two are enough to split two read-modify-writes.
pub const PREEMPTION_BOUND: usize = 2;

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab03 {
    ($lab:ident, $subject:expr) => {
        $crate::lab03::check(
            $subject,
            $lab::BookingCounter::new,
            $lab::BookingCounter::record_booking,
            $lab::BookingCounter::total,
        )
    };
}

/// Without `--cfg loom` there is no model to run: say so, never pass.
#[cfg(not(loom))]
pub fn check<C>(_: &Subject, _: fn() -> C, _: fn(&C), _: fn(&C) -> u64) -> Verdict {
    crate::without_loom()
}

/// Runs the model against one copy of the lab: its constructor, `record_booking` and
/// `total`.
#[cfg(loom)]
pub fn check<C: Send + Sync + 'static>(
    subject: &Subject,
    new: fn() -> C,
    record_booking: fn(&C),
    total: fn(&C) -> u64,
) -> Verdict {
    use crate::driver::{Body, Model, explore};
    use std::sync::Arc;

    let booking: Body<C, u64> = Arc::new(move |counter| {
        record_booking(counter);
        None
    });
    let model = Model {
        new,
        threads: (1..=THREADS)
            .map(|n| (format!("booking thread {n}"), Arc::clone(&booking)))
            .collect(),
        after: Arc::new(move |counter| Some(total(counter)).filter(|&counted| counted != THREADS)),
        preemption_bound: PREEMPTION_BOUND,
    };
    let mut verdict = Verdict::default();
    verdict.measure("preemption_bound", PREEMPTION_BOUND as u64);
    match explore(model) {
        Ok(explored) => {
            verdict.measure("executions", explored.executions);
            verdict.findings.extend(judge::explored(subject, &explored));
            if verdict.findings.is_empty() {
                verdict.notes.push(format!(
                    "loom ran all {} executions of {THREADS} booking threads (every interleaving with \
                     up to {PREEMPTION_BOUND} preemptions); every one counted every booking",
                    explored.executions
                ));
            }
        }
        Err(stopped) => verdict.findings.push(judge::stopped(subject, &stopped)),
    }
    verdict
}

#[cfg(loom)]
pub mod judge {
    //! What an exploration means for lab 3, as findings.

    use super::THREADS;
    use crate::driver::{Explored, Failure, Stopped};
    use crate::steps::{coherent, mark, render, sites, unseen};
    use crate::{Finding, Kind, Subject};

    /// A lost booking, or a model that saw nothing to check.
    pub fn explored(subject: &Subject, explored: &Explored<u64>) -> Option<Finding> {
        let failures = &explored.failures;
        if let Some(failure) = failures.iter().find(|f| coherent(&f.steps)).or(failures.first()) {
            return Some(lost_update(subject, failure, failures.len()));
        }
        if !explored.saw_thread_steps {
            return Some(unseen(subject, UNSEEN));
        }
        None
    }

    fn lost_update(subject: &Subject, failure: &Failure<u64>, failing: usize) -> Finding {
        let counted = failure.violation;
        let lost = THREADS.abs_diff(counted);
        let message = format!(
            "{THREADS} booking threads each recorded one booking, but total() returned {counted}: loom \
             found an order of their steps that loses an update (below)"
        );
        let mut detail = render(&failure.steps);
        let returned = format!("total() returned {counted} after {THREADS} bookings");
        detail.push_str(&format!("\n{}", mark(&returned)));
        if !coherent(&failure.steps) {
            detail
                .push_str("\n(a load read an older value than the last store: Relaxed ordering allows that)");
        }
        Finding::new(Kind::LostUpdate, message)
            .measure("expected", THREADS)
            .measure("counted", counted)
            .measure("lost", lost)
            .measure("failing_executions", failing as u64)
            .with_sites(sites(&failure.steps, subject.file))
            .with_detail(detail)
    }

    const UNSEEN: &str = "the model saw record_booking make no synchronised step at all, so it cannot \
                          check it: take the counter's sync types from leaklab_sync (a std::sync type \
                          is invisible to loom)";

    const DEADLOCK: &str = "loom found a schedule in which the booking threads wait for each other (or \
                            for themselves) forever: record_booking can deadlock";

    const SPIN: &str = "loom gave up after too many steps in one execution: record_booking spins \
                        waiting for another thread (a hand-made lock?), which the model cannot check; \
                        a Mutex or one atomic read-modify-write needs no spinning";

    /// An exploration a panic ended: loom's deadlock detector, its step bound (a spin
    /// loop), or the lab itself.
    pub fn stopped(subject: &Subject, stopped: &Stopped) -> Finding {
        let (finding, end) = if stopped.deadlock() {
            (Finding::new(Kind::Deadlock, DEADLOCK), "every thread is blocked")
        } else if stopped.spin() {
            (Finding::new(Kind::Spin, SPIN), "still waiting when loom gave up")
        } else {
            let message = format!("the lab panicked under the model: {}", stopped.panic);
            (Finding::new(Kind::Crashed, message), "panicked")
        };
        let detail = format!("{}\n{}", render(&stopped.steps), mark(end));
        finding
            .with_sites(sites(&stopped.steps, subject.file))
            .with_detail(detail.trim_start().to_owned())
    }
}
