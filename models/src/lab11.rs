//! Lab 11's model: a batch job starts two uploads, each of which writes its report and
//! finishes, waits for the batch, and then reads the reports.
//!
//! The property is a wait group's whole contract: when `wait` returns, every upload
//! started before it has finished, and the batch job sees what each one did. loom tries
//! every order of the threads' steps with up to [`PREEMPTION_BOUND`] preemptions. An
//! upload that counts itself in on its own thread fails with none at all: the batch job
//! runs on, finds the count at zero and returns before either upload has taken a step.
//! So `SeqCst` on every atomic fails (the count is not late to become visible, it has
//! not been made yet), and so does a yield or a lock around the late count. A waiter
//! that checks the count and then sleeps without holding the lock across both, or a
//! last upload that notifies without the lock, can sleep through its only wake-up:
//! loom's deadlock detector finds the batch job asleep with no upload left to wake it.
//! A copy that passes all that is explored again with the batch job reading the
//! reports: a `Relaxed` count returns on time, but orders nothing, and loom reports the
//! read it cannot order after the upload's write.
//!
//! An early return's log is the finding's detail, cut where `wait` returned, and its
//! sites are the first line an upload ran after that (the count that came too late)
//! and the batch job's check that read zero. The uploads' threads are the lab's own,
//! unnamed; the log calls them `upload 1` and `upload 2`, in the order they were
//! spawned.

use crate::Subject;
use labkit::Verdict;

pub const LAB: u32 = 11;

/// Uploads the batch job starts before it waits.
pub const UPLOADS: u64 = 2;

/// Preemptions loom may make per execution. The early return needs none and a missed
/// wake-up one; two let a right fix be tried against every shape of those.
pub const PREEMPTION_BOUND: usize = 2;

/// The name of the model's thread that starts the uploads and waits.
pub const BATCH_JOB: &str = "batch job";

/// One upload's work as the model hands it to `start`.
pub type Upload = Box<dyn FnOnce() + Send>;

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab11 {
    ($lab:ident, $subject:expr) => {
        $crate::lab11::check(
            $subject,
            $lab::UploadBatch::new,
            |batch, upload| batch.start(upload),
            |batch| batch.wait(),
        )
    };
}

/// Without `--cfg loom` there is no model to run: say so, never pass.
#[cfg(not(loom))]
pub fn check<B>(_: &Subject, _: fn() -> B, _: fn(&B, Upload), _: fn(&B)) -> Verdict {
    crate::without_loom()
}

/// What one execution that broke the property saw when `wait` returned.
#[cfg(loom)]
#[derive(Clone, Debug)]
pub struct Early {
    /// Uploads that had finished, in the order loom ran the steps.
    pub finished: u64,
    /// The log up to the return of `wait`; the rest of the execution's log is the
    /// failure's own.
    pub until_return: Vec<crate::steps::Step>,
}

/// Runs the model against one copy of the lab: its constructor, `start` and `wait`.
#[cfg(loom)]
pub fn check<B: Send + Sync + 'static>(
    subject: &Subject,
    new: fn() -> B,
    start: fn(&B, Upload),
    wait: fn(&B),
) -> Verdict {
    use crate::driver::{Body, Model, explore};
    use leaklab_sync::log;
    use loom::cell::UnsafeCell;
    use std::mem::ManuallyDrop;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    // The batch job, reading the uploads' reports after `wait` or not.
    let batch_job = move |read_reports: bool| -> Body<B, Early> {
        Arc::new(move |batch| {
            // Each upload writes its report into a slot of its own and then counts itself
            // finished. The count is invisible to loom: it tells what had happened in the
            // order loom ran the steps, and reading it is no step. The slots are loom's
            // cells: when the batch job reads one that nothing ordered after the upload's
            // write (no happens-before from the upload to the return of `wait`), loom
            // reports a causality violation, since the batch job need not see that report.
            // loom's Arcs are dropped by hand, never by unwinding (see the driver).
            let reports = Reports((0..UPLOADS).map(|_| UnsafeCell::new(0)).collect());
            let reports = ManuallyDrop::new(loom::sync::Arc::new(reports));
            let finished = Arc::new(AtomicU64::new(0));
            for upload in 0..UPLOADS as usize {
                let reports = ManuallyDrop::new(loom::sync::Arc::clone(&reports));
                let finished = Arc::clone(&finished);
                start(
                    batch,
                    Box::new(move || {
                        // SAFETY: loom runs one thread at a time and checks the access.
                        reports.0[upload].with_mut(|report| unsafe { *report = 1 });
                        finished.fetch_add(1, Ordering::SeqCst);
                        drop(ManuallyDrop::into_inner(reports));
                    }),
                );
            }
            wait(batch);
            let finished = finished.load(Ordering::SeqCst);
            let early = (finished < UPLOADS).then(|| Early {
                finished,
                // Cut the log here, before any step of loom's can let another thread run.
                until_return: log::take(),
            });
            if early.is_none() && read_reports {
                for report in &reports.0 {
                    // SAFETY: as above; loom panics before a read it cannot order.
                    report.with(|report| unsafe { *report });
                }
            }
            drop(ManuallyDrop::into_inner(reports));
            early
        })
    };
    let mut verdict = Verdict::default();
    verdict.measure("preemption_bound", PREEMPTION_BOUND as u64);
    // First when `wait` returns, then (once that is right) what the batch job sees: a
    // read that loom cannot order stops the exploration, and would hide every early
    // return found before it.
    let mut executions = 0;
    for read_reports in [false, true] {
        let model = Model {
            new,
            threads: vec![(BATCH_JOB.to_owned(), batch_job(read_reports))],
            after: Arc::new(|_| None),
            preemption_bound: PREEMPTION_BOUND,
        };
        match explore(model) {
            Ok(explored) => {
                executions += explored.executions;
                verdict.findings.extend(judge::explored(subject, &explored));
            }
            Err(stopped) => verdict.findings.push(judge::stopped(subject, &stopped)),
        }
        if !verdict.findings.is_empty() {
            break;
        }
    }
    verdict.measure("executions", executions);
    if verdict.findings.is_empty() {
        verdict.notes.push(format!(
            "loom ran all {executions} executions of a batch job starting {UPLOADS} uploads and waiting \
             (every interleaving with up to {PREEMPTION_BOUND} preemptions, twice: for when wait() \
             returns, then for what the batch job sees after it); in every one, wait() returned only \
             after both uploads had finished, and the batch job saw what each had done"
        ));
    }
    verdict
}

/// One report slot per upload, written by the upload and read by the batch job.
#[cfg(loom)]
struct Reports(Vec<loom::cell::UnsafeCell<u64>>);

// SAFETY: loom runs one thread at a time, and checks every access to a slot against
// the memory model, reporting (by a panic, before the access) any it cannot order.
#[cfg(loom)]
unsafe impl Sync for Reports {}

#[cfg(loom)]
pub mod judge {
    //! What an exploration means for lab 11, as findings.

    use super::{BATCH_JOB, Early, UPLOADS};
    use crate::driver::{Explored, Failure, Stopped};
    use crate::steps::{Step, mark, render, sites, unseen};
    use crate::{Finding, Kind, Subject};
    use labkit::Site;

    /// An early return, or a model that saw nothing to check.
    pub fn explored(subject: &Subject, explored: &Explored<Early>) -> Option<Finding> {
        let failures = &explored.failures;
        // Shown: an execution in which an upload ran after the return, if there is one.
        let late_steps = |f: &&Failure<Early>| !sites(&f.steps, subject.file).is_empty();
        let shown = failures.iter().find(late_steps).or(failures.first());
        if let Some(failure) = shown {
            return Some(early_return(subject, failure, failures.len()));
        }
        if !explored.saw_thread_steps {
            return Some(unseen(subject, UNSEEN));
        }
        None
    }

    fn early_return(subject: &Subject, failure: &Failure<Early>, failing: usize) -> Finding {
        let finished = failure.violation.finished;
        let mut before = failure.violation.until_return.clone();
        let mut after = failure.steps.clone();
        name_uploads(&mut before, &mut after);
        let message = format!(
            "the batch job started {UPLOADS} uploads and called wait(), which returned while {} of \
             them had not finished: loom found the order of steps below",
            UPLOADS - finished
        );
        let mut detail = render(&before);
        let returned = format!("wait() returned with {finished} of {UPLOADS} uploads finished; then:");
        detail.push_str(&format!("\n{}\n", mark(&returned)));
        detail.push_str(&render(&after));
        // The first step the uploads took after the return (the count that came too
        // late), then the batch job's last read before it (where it decided the batch
        // was done).
        let late = sites(&after, subject.file).into_iter().take(1);
        let mut found: Vec<Site> = late.chain(decision(&before, subject.file)).collect();
        dedup(&mut found);
        Finding::new(Kind::LostWork, message)
            .measure("uploads", UPLOADS)
            .measure("finished_at_return", finished)
            .measure("failing_executions", failing as u64)
            .with_sites(found)
            .with_detail(detail.trim_start().to_owned())
    }

    const UNSEEN: &str = "the model saw the batch make no synchronised step at all, so it cannot check \
                          it: take the batch's sync types and threads from leaklab_sync (a std type is \
                          invisible to loom)";

    const DEADLOCK: &str = "loom found a schedule in which wait() sleeps forever: the batch job is \
                            asleep on the condvar with every upload finished, and nobody is left to \
                            wake it (the wake-up came between its check and its sleep)";

    const UNORDERED: &str = "wait() returned after every upload had finished, but nothing ordered an \
                             upload's work before that return: the batch job read a report that the \
                             memory model lets it not see yet (loom: a causality violation). The \
                             count out needs Release and the check Acquire, or both under the lock";

    const SPIN: &str = "loom gave up after too many steps in one execution: wait() spins on the count \
                        instead of sleeping on the condvar, which the model cannot check";

    /// An exploration a panic ended: loom's deadlock detector (a missed wake-up), its
    /// step bound (a spin loop), or the lab itself.
    pub fn stopped(subject: &Subject, stopped: &Stopped) -> Finding {
        let (finding, end) = if stopped.deadlock() {
            (
                Finding::new(Kind::Deadlock, DEADLOCK),
                "every thread is blocked: the batch job waits for a wake-up that already came",
            )
        } else if stopped.panic.contains("Causality violation") {
            (
                Finding::new(Kind::LostWork, UNORDERED),
                "the batch job read a report that nothing ordered after the upload wrote it",
            )
        } else if stopped.spin() {
            (Finding::new(Kind::Spin, SPIN), "still waiting when loom gave up")
        } else {
            let message = format!("the lab panicked under the model: {}", stopped.panic);
            (Finding::new(Kind::Crashed, message), "panicked")
        };
        let mut steps = stopped.steps.clone();
        name_uploads(&mut steps, &mut []);
        if stopped.deadlock() {
            asleep_after_the_notify(&mut steps);
        }
        let detail = format!("{}\n{}", render(&steps), mark(end));
        // A missed wake-up: the batch job's check, then the notify that came before its
        // sleep. Unordered work: the batch job's check, then the uploads' count-outs
        // that it was not ordered after. Any other stop: every line the threads reached.
        let check = decision(&steps, subject.file);
        let notify = steps.iter().rev().find(|s| s.op.starts_with("notify"));
        let notify = notify.and_then(|s| site_of(s, subject.file));
        let uploads = steps.iter().filter(|s| s.thread.starts_with("upload "));
        let counted_out: Vec<Step> = uploads.filter(|s| s.wrote.is_some()).cloned().collect();
        let mut found = match (check, notify) {
            (Some(check), Some(notify)) if stopped.deadlock() => vec![check, notify],
            (Some(check), _) if finding.kind == Kind::LostWork => std::iter::once(check)
                .chain(sites(&counted_out, subject.file))
                .collect(),
            _ => sites(&steps, subject.file),
        };
        dedup(&mut found);
        finding
            .with_sites(found)
            .with_detail(detail.trim_start().to_owned())
    }

    /// The shim logs a condvar `wait` when it is called, and loom may run other threads
    /// between that call and the moment the caller sleeps. In a deadlock the batch job's
    /// last step is that `wait`, and any notify logged after it came before the sleep (a
    /// notify after would have woken it, and it would have taken the lock again): so the
    /// `wait` is moved after the last such notify, where the sleep really began.
    fn asleep_after_the_notify(steps: &mut Vec<Step>) {
        let Some(slept) = steps.iter().rposition(|s| s.thread == BATCH_JOB) else {
            return;
        };
        let notified = steps.iter().rposition(|s| s.op.starts_with("notify"));
        if let Some(notified) = notified.filter(|&n| steps[slept].op == "wait" && n > slept) {
            let wait = steps.remove(slept);
            steps.insert(notified, wait);
        }
    }

    /// The line of one step, if it is in `file`.
    fn site_of(step: &Step, file: &str) -> Option<Site> {
        sites(std::slice::from_ref(step), file).pop()
    }

    /// Where the batch job last read the count (a load, or a lock that found a value):
    /// where it decided the batch was done, or that it had to sleep.
    fn decision(steps: &[Step], file: &str) -> Option<Site> {
        let read = steps
            .iter()
            .rev()
            .filter(|s| s.thread == BATCH_JOB && s.read.is_some());
        read.filter_map(|s| site_of(s, file)).next()
    }

    /// The lab's threads are unnamed, so the log calls them `thread N` after loom's
    /// index; loom numbers threads as they are spawned, so they are the uploads in the
    /// order `start` was called: `upload 1`, `upload 2`.
    fn name_uploads(first: &mut [Step], second: &mut [Step]) {
        let index = |name: &str| name.strip_prefix("thread ")?.parse::<u64>().ok();
        let mut spawned: Vec<u64> = (first.iter().chain(second.iter()))
            .filter_map(|step| index(&step.thread))
            .collect();
        spawned.sort_unstable();
        spawned.dedup();
        for step in first.iter_mut().chain(second.iter_mut()) {
            if let Some(n) = index(&step.thread) {
                let k = spawned.iter().position(|&m| m == n).unwrap_or(0) + 1;
                step.thread = format!("upload {k}");
            }
        }
    }

    /// One site per line, in the order first reached, with the counts added up.
    fn dedup(found: &mut Vec<Site>) {
        let mut kept: Vec<Site> = Vec::new();
        for site in found.drain(..) {
            match kept
                .iter_mut()
                .find(|k| k.file == site.file && k.line == site.line)
            {
                Some(k) => k.count += site.count,
                None => kept.push(site),
            }
        }
        *found = kept;
    }
}
