//! The runtime a scenario runs on, and what the detector hooks into it.
//!
//! - The spawn and terminate hooks (`--cfg tokio_unstable`) write each task into the
//!   run's [`Tracker`], with its spawn location.
//! - No hook runs per poll. The thread-start and unpark hooks mark the thread's slot busy
//!   ([`super::slots`]) and the park hook marks it idle; the watchdog reads tokio's own
//!   count of each worker's polls to tell a thread that keeps polling from a stuck poll.
//! - On the paused clock, the unpark hook also re-reads virtual time for the tracker.
//!
//! The scenario's own future is not a task (`block_on` polls it), so no hook sees it:
//! [`Watched`] marks the slot busy around its polls instead, and it is where the run's
//! task-local lives ([`RUN`], read by `alive_now`) and where the watchdog gets in when the
//! runtime is hung (see [`watched`]).

use super::Flavor;
use super::dump::{self, HangDump};
use super::slots;
use super::tracker::{Tracker, lock};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

tokio::task_local! {
    /// The run the scenario belongs to.
    pub(crate) static RUN: Arc<Tracker>;
}

/// Something that adjusts the runtime's builder before the detector adds its hooks.
pub(crate) type Configure = Arc<dyn Fn(&mut tokio::runtime::Builder) + Send + Sync>;

/// The runtime for one run: `flavor`, every driver on (I/O and time, as far as the
/// tokio build has them), the caller's adjustments, and last the detector's hooks (a
/// task, thread-start, park or unpark hook the caller set is replaced: the builder holds
/// one of each).
pub(crate) fn build(
    flavor: Flavor,
    paused: bool,
    configure: &[Configure],
    tracker: &Arc<Tracker>,
) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Flavor::MultiThread { workers } => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(workers.max(1));
            b
        }
    };
    builder.enable_all();
    if paused {
        pause(&mut builder);
    }
    for adjust in configure {
        adjust(&mut builder);
    }
    hooks(&mut builder, tracker);
    builder.build()
}

#[cfg(any(feature = "test-util", feature = "lab"))]
fn pause(builder: &mut tokio::runtime::Builder) {
    builder.start_paused(true);
}

#[cfg(not(any(feature = "test-util", feature = "lab")))]
fn pause(_builder: &mut tokio::runtime::Builder) {
    unreachable!("Detector::paused exists only with the test-util feature")
}

#[cfg(tokio_unstable)]
fn hooks(builder: &mut tokio::runtime::Builder, tracker: &Arc<Tracker>) {
    use dump::id_of;
    let (spawns, ends, woken, run) = (tracker.clone(), tracker.clone(), tracker.clone(), tracker.id);
    builder
        .on_task_spawn(move |meta| spawns.spawned(id_of(meta.id()), Some(meta.spawned_at())))
        .on_task_terminate(move |meta| ends.ended(id_of(meta.id())))
        .on_thread_start(move || slots::work(run))
        .on_thread_unpark(move || {
            slots::work(woken.id);
            // Time moved while the thread was parked: refresh the hooks' copy.
            woken.tick();
        })
        .on_thread_park(slots::park);
}

#[cfg(not(tokio_unstable))]
fn hooks(builder: &mut tokio::runtime::Builder, tracker: &Arc<Tracker>) {
    // No task hooks without tokio_unstable; the clock's copy is still refreshed.
    let clock = tracker.clone();
    builder.on_thread_unpark(move || clock.tick());
}

/// The future `block_on` runs: `body` (the scenario, the settle window and the
/// inspection) under the run's task-local, raced against the watchdog's dump requests.
///
/// When the watchdog finds the runtime idle with nothing that can wake it, only a wake
/// from outside can make it run again: it takes a [`Notify`](tokio::sync::Notify) permit
/// here, and this branch dumps every task's await chain (and traces the scenario's own)
/// and sends them back. It is a branch of this future and not a spawned task, so it never
/// shows up as a task, let alone a leak.
pub(crate) fn watched<F: Future>(
    tracker: &Arc<Tracker>,
    flavor: Flavor,
    body: F,
) -> Watched<impl Future<Output = F::Output>> {
    let run = tracker.clone();
    let raced = async move {
        // Traces of the scenario start at its own future, not at the machinery around it.
        #[cfg(all(tokio_unstable, feature = "stacks"))]
        let body = tokio::runtime::dump::Trace::root(body);
        let body = RUN.scope(run.clone(), body);
        let mut body = std::pin::pin!(body);
        loop {
            tokio::select! {
                biased;
                output = &mut body => return output,
                () = run.dump_request.notified() => {
                    if let Some(output) = answer_dump(&run, body.as_mut()).await {
                        return output;
                    }
                }
            }
        }
    };
    Watched {
        inner: Box::pin(raced),
        tracker: tracker.clone(),
        current_thread: flavor == Flavor::CurrentThread,
    }
}

/// Marks this thread's slot busy with the scenario during each poll of `inner`.
pub(crate) struct Watched<F> {
    inner: Pin<Box<F>>,
    tracker: Arc<Tracker>,
    /// The thread that polls the scenario polls the tasks too.
    current_thread: bool,
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.tracker.tick();
        let busy = slots::scenario(this.tracker.id);
        if this.tracker.main.get().is_none() {
            if let Some(slot) = slots::mine() {
                let _ = this.tracker.main.set(slot);
            }
        }
        let polled = this.inner.as_mut().poll(cx);
        // Without tokio_unstable no hook marks the thread idle when it parks: then only
        // the scenario's polls are watched.
        busy.ended(cfg!(tokio_unstable) && this.current_thread && polled.is_pending());
        polled
    }
}

/// Answers a dump request; `Some` if the scenario happened to finish meanwhile.
async fn answer_dump<F: Future>(tracker: &Tracker, body: Pin<&mut F>) -> Option<F::Output> {
    let reply = lock(&tracker.dump_reply).take()?;
    let (polled, scenario) = trace_scenario(body).await;
    let tasks = match tracker.handle() {
        Some(handle) => dump::dump(&handle).await,
        None => Err("the run was over"),
    };
    let _ = reply.send(HangDump { tasks, scenario });
    match polled {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

/// Polls the scenario once in tracing mode: its await chain, down to the tokio resource
/// it waits on. (Tracing wakes it again, so nothing is lost by the extra poll.)
#[cfg(all(tokio_unstable, feature = "stacks"))]
async fn trace_scenario<F: Future>(mut body: Pin<&mut F>) -> (Poll<F::Output>, Option<String>) {
    let (polled, trace) = std::future::poll_fn(|cx| {
        let (polled, trace) = tokio::runtime::dump::Trace::capture(|| body.as_mut().poll(cx));
        Poll::Ready((polled, trace))
    })
    .await;
    let trace = dump::unwatched(|| dump::tidy_trace(&trace.to_string()));
    (polled, (!trace.trim().is_empty()).then_some(trace))
}

#[cfg(not(all(tokio_unstable, feature = "stacks")))]
async fn trace_scenario<F: Future>(_body: Pin<&mut F>) -> (Poll<F::Output>, Option<String>) {
    (Poll::Pending, None)
}
