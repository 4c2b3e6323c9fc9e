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
//! When an execution loses a booking, the finding's detail is that execution's log, one
//! `Step` a line, as `render` writes it and `parse` reads it back (loom builds only).

use labkit::child::Meta;
use labkit::{Finding, Kind, Report, Variant};

#[cfg(loom)]
pub use leaklab_sync::log::Step;

/// The lab's file name under `labs/`, `solutions/` and `tests/originals/`.
pub const FILE: &str = "lab03_unsynchronised_counter.rs";

/// How many booking threads the model runs, each recording one booking.
pub const THREADS: u64 = 2;

/// Preemptions loom may make per execution. Set here, so no environment variable is
/// needed; two are enough to split two read-modify-writes.
pub const PREEMPTION_BOUND: usize = 2;

/// Runs the check in this (child) process and reports to the runner.
pub fn serve<C: Send + Sync + 'static>(
    variant: Variant,
    new: fn() -> C,
    record_booking: fn(&C),
    total: fn(&C) -> u64,
) -> ! {
    labkit::child::serve(
        Meta {
            lab: 3,
            variant,
            check: "loom",
        },
        || check(variant, new, record_booking, total),
    )
}

/// Without `--cfg loom` there is no model to run: say so, never pass.
#[cfg(not(loom))]
pub fn check<C: Send + Sync + 'static>(
    variant: Variant,
    _new: fn() -> C,
    _record_booking: fn(&C),
    _total: fn(&C) -> u64,
) -> Report {
    let mut report = Report::new(3, variant, "loom");
    report.findings.push(Finding::new(
        Kind::Crashed,
        "this check binary was built without --cfg loom, so it has no model to run; build it with \
         RUSTFLAGS=\"--cfg loom --cfg tokio_unstable\" cargo build --release -p leaklab-models \
         --target-dir target/loom",
    ));
    report
}

/// Runs the model against one copy of the lab: its constructor, `record_booking` and
/// `total`.
#[cfg(loom)]
pub fn check<C: Send + Sync + 'static>(
    variant: Variant,
    new: fn() -> C,
    record_booking: fn(&C),
    total: fn(&C) -> u64,
) -> Report {
    let path = variant.path(FILE);
    let mut report = Report::new(3, variant, "loom");
    report
        .measured
        .insert("preemption_bound".into(), PREEMPTION_BOUND as u64);

    let explored = match model::explore(new, record_booking, total) {
        Ok(explored) => explored,
        Err((panic, steps)) => {
            let site = crate::source::site_of(&path, "fn record_booking", 1);
            report
                .findings
                .push(stopped(&panic, &steps).with_sites(vec![site]));
            return report;
        }
    };
    report.measured.insert("executions".into(), explored.executions);

    if let Some(failure) = pick(&explored.failures) {
        report.findings.push(lost_update(failure, &explored, &path));
    } else if !explored.saw_booking_steps {
        let finding = Finding::new(Kind::Crashed, UNSEEN);
        report
            .findings
            .push(finding.with_sites(vec![crate::source::site_of(&path, "use ", 1)]));
    } else {
        report.notes.push(format!(
            "loom ran all {} executions of {THREADS} booking threads (every interleaving with up to \
             {PREEMPTION_BOUND} preemptions); every one counted every booking",
            explored.executions
        ));
    }
    report
}

/// The finding for a failing execution: what was lost, and the interleaving that lost it.
#[cfg(loom)]
fn lost_update(failure: &Failure, explored: &model::Explored, path: &str) -> Finding {
    let lost = THREADS.abs_diff(failure.counted);
    let message = format!(
        "{THREADS} booking threads each recorded one booking, but total() returned {}: loom found an \
         order of their steps that loses an update (below)",
        failure.counted,
    );
    let mut detail = render(&failure.steps);
    detail.push_str(&format!(
        "\n=> total() returned {} after {THREADS} bookings",
        failure.counted
    ));
    if !coherent(&failure.steps) {
        detail.push_str("\n(a load read an older value than the last store: Relaxed ordering allows that)");
    }
    Finding::new(Kind::LostUpdate, message)
        .measure("expected", THREADS)
        .measure("counted", failure.counted)
        .measure("lost", lost)
        .measure("failing_executions", explored.failures.len() as u64)
        .with_sites(vec![crate::source::site_of(
            path,
            "fn record_booking",
            lost as u32,
        )])
        .with_detail(detail)
}

#[cfg(loom)]
const UNSEEN: &str = "the model saw record_booking make no synchronised step at all, so it cannot \
                      check it: take the counter's sync types from leaklab_sync (a std::sync type is \
                      invisible to loom)";

#[cfg(loom)]
const DEADLOCK: &str = "loom found a schedule in which the booking threads wait for each other (or for \
                        themselves) forever: record_booking can deadlock";

#[cfg(loom)]
const SPIN: &str = "loom gave up after too many steps in one execution: record_booking spins waiting \
                    for another thread (a hand-made lock?), which the model cannot check; a Mutex or \
                    one atomic read-modify-write needs no spinning";

/// The finding for an exploration that a panic ended: loom's deadlock detector, its
/// bound on steps in one execution (a spin loop), or the lab itself.
#[cfg(loom)]
fn stopped(panic: &str, steps: &[Step]) -> Finding {
    let (finding, end) = if panic.starts_with("deadlock") {
        (Finding::new(Kind::Deadlock, DEADLOCK), "every thread is blocked")
    } else if panic.contains("maximum number of branches") {
        (Finding::new(Kind::Spin, SPIN), "still waiting when loom gave up")
    } else {
        let message = format!("the lab panicked under the model: {panic}");
        (Finding::new(Kind::Crashed, message), "panicked")
    };
    finding.with_detail(format!("{}\n=> {end}", render(steps)).trim_start().to_owned())
}

/// One failing execution: its log, and what `total()` said afterwards.
#[cfg(loom)]
#[derive(Clone, Debug)]
struct Failure {
    steps: Vec<Step>,
    counted: u64,
}

/// The failure to show: the first whose loads each read the latest store before it, so
/// the log explains itself as an interleaving. Under `Relaxed` loom also finds loads of
/// older values, which need the memory model to explain; those are shown only if
/// nothing else failed.
#[cfg(loom)]
fn pick(failures: &[Failure]) -> Option<&Failure> {
    failures
        .iter()
        .find(|failure| coherent(&failure.steps))
        .or(failures.first())
}

/// Whether every step that read a value read the last value written before it (the
/// lab has one counter, so one location is assumed).
#[cfg(loom)]
fn coherent(steps: &[Step]) -> bool {
    let mut last = None;
    steps.iter().all(|step| {
        let ok = match (step.read, last) {
            (Some(read), Some(written)) => read == written,
            _ => true,
        };
        last = step.wrote.or(step.read).or(last);
        ok
    })
}

/// One step a line: `booking thread 1: load reads 0`, `booking thread 2: store writes 1`,
/// `booking thread 1: lock`.
#[cfg(loom)]
pub fn render(steps: &[Step]) -> String {
    let line = |step: &Step| {
        let mut line = format!("{}: {}", step.thread, step.op);
        if let Some(read) = step.read {
            line.push_str(&format!(" reads {read}"));
        }
        if let Some(wrote) = step.wrote {
            line.push_str(&format!(" writes {wrote}"));
        }
        line
    };
    steps.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// Reads back the steps of a finding's detail, skipping the lines that are not steps.
#[cfg(loom)]
pub fn parse(detail: &str) -> Vec<Step> {
    let step = |line: &str| {
        let (thread, rest) = line.split_once(": ")?;
        let mut words = rest.split(' ');
        let op = words.next()?.to_owned();
        let (mut read, mut wrote) = (None, None);
        while let Some(word) = words.next() {
            let value = words.next()?.parse().ok()?;
            match word {
                "reads" => read = Some(value),
                "writes" => wrote = Some(value),
                _ => return None,
            }
        }
        Some(Step {
            thread: thread.to_owned(),
            op,
            read,
            wrote,
        })
    };
    detail
        .lines()
        .filter(|line| !line.starts_with("=>"))
        .filter_map(step)
        .collect()
}

#[cfg(loom)]
mod model {
    use super::{Failure, Step, THREADS};
    use leaklab_sync::log;
    use std::mem::ManuallyDrop;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, Mutex};

    /// What loom's exploration found.
    #[derive(Default)]
    pub(super) struct Explored {
        pub executions: u64,
        pub failures: Vec<Failure>,
        /// Whether the booking threads logged any step (they do, unless the lab bypasses
        /// the shim, which loom cannot see).
        pub saw_booking_steps: bool,
    }

    /// Runs every interleaving and collects the ones that lose a booking. A failing
    /// execution is recorded, not panicked on, so loom carries on and every failure is
    /// counted. A panic (from the lab, or loom's deadlock detector) ends the
    /// exploration: it comes back with the log of the execution it stopped.
    pub(super) fn explore<C: Send + Sync + 'static>(
        new: fn() -> C,
        record_booking: fn(&C),
        total: fn(&C) -> u64,
    ) -> Result<Explored, (String, Vec<Step>)> {
        let explored = Arc::new(Mutex::new(Explored::default()));
        let shared = Arc::clone(&explored);
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(super::PREEMPTION_BOUND);
        builder.checkpoint_file = None;

        let run = catch_unwind(AssertUnwindSafe(|| {
            builder.check(move || {
                log::clear();
                // The counter's Arcs are dropped by hand, never by unwinding: after a
                // panic (or a deadlock) loom can take no more steps, and dropping a loom
                // Arc then would panic again and abort the process.
                let counter = ManuallyDrop::new(loom::sync::Arc::new(new()));
                let threads: Vec<_> = (1..=THREADS)
                    .map(|n| {
                        let counter = ManuallyDrop::new(loom::sync::Arc::clone(&counter));
                        loom::thread::Builder::new()
                            .name(format!("booking thread {n}"))
                            .spawn(move || {
                                record_booking(&counter);
                                drop(ManuallyDrop::into_inner(counter));
                            })
                            .expect("loom spawns a booking thread")
                    })
                    .collect();
                for thread in threads {
                    thread.join().expect("a booking thread panicked");
                }
                let steps = log::take();
                let counted = total(&counter);
                drop(ManuallyDrop::into_inner(counter));

                let mut explored = shared.lock().unwrap_or_else(|e| e.into_inner());
                explored.executions += 1;
                explored.saw_booking_steps |= steps.iter().any(|step| step.thread != "main");
                if counted != THREADS {
                    explored.failures.push(Failure { steps, counted });
                }
            });
        }));
        match run {
            Ok(()) => Ok(std::mem::take(
                &mut *explored.lock().unwrap_or_else(|e| e.into_inner()),
            )),
            Err(panic) => Err((labkit::child::panic_message(panic.as_ref()), log::take())),
        }
    }
}
