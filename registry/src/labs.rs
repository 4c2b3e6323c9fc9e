//! Every lab, in the order a student meets them. See the crate docs for what adding
//! one involves.

use crate::{Check, Exhibit, Hint, Kind, Lab, Part};

pub static LABS: &[Lab] = &[
    Lab {
        number: 1,
        slug: "orphaned-task",
        title: "The orphaned task",
        file: "lab01_orphaned_task.rs",
        part: Part::Outlive,
        summary: "a handler gives up on a slow lookup, but the task doing the lookup lives on",
        go: "a goroutine blocked on a channel that the handler stopped reading (goroutine leak)",
        fix: "the request owns the lookup: it runs inside the handler's timeout (or is aborted when the handler returns), so it cannot outlive the request",
        hints: &[
            Hint {
                text: "After fetch_lab_result returns, who still holds the JoinHandle of the task it spawned?",
                fits: &[Kind::LeakedTask],
            },
            Hint {
                text: "Dropping a JoinHandle detaches the task; it does not stop it. Waiting longer does not help either: the lab system may never answer, and the patient waits past the deadline.",
                fits: &[Kind::MissedDeadline, Kind::Hang],
            },
            Hint {
                text: "Either await the lookup itself inside tokio::time::timeout (dropping a future cancels it), or keep the handle and abort it when the handler returns.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::LeakedTask,
            culprit: "tokio::spawn",
        },
    },
    Lab {
        number: 2,
        slug: "missing-join",
        title: "The missing join",
        file: "lab02_missing_join.rs",
        part: Part::Outlive,
        summary: "main spawns the record-sync workers and returns before they finish",
        go: "main returns before its goroutines finish; the fix is a WaitGroup (Add before go, defer Done)",
        fix: "every worker goes into a JoinSet and sync waits for each one, passing its error up: nothing is running when main returns",
        hints: &[
            Hint {
                text: "When the function that plays main returns, the runtime shuts down and drops every task still running. How many are running then?",
                fits: &[Kind::LostWork, Kind::LeakedTask],
            },
            Hint {
                text: "A sleep long enough for today's records is too short for tomorrow's (the check varies the write time) and too long when they are fast. Stopping at the first failed write drops the writes still under way.",
                fits: &[Kind::MissedDeadline],
            },
            Hint {
                text: "Put each worker in a tokio::task::JoinSet and drain it with join_next before returning; keep draining after a failed write, and return that failure as the Err.",
                fits: &[Kind::SwallowedError],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::LostWork,
            culprit: "tokio::spawn",
        },
    },
    Lab {
        number: 3,
        slug: "unsynchronised-counter",
        title: "The unsynchronised counter",
        file: "lab03_unsynchronised_counter.rs",
        part: Part::SharedState,
        summary: "a booking counter read and written in two steps loses updates",
        go: "a counter incremented from many goroutines without a lock; go run -race flags it",
        fix: "the read-modify-write is one indivisible step (fetch_add, or one lock held across it), so no update can fall between the read and the write",
        hints: &[
            Hint {
                text: "Two threads can both read the same value before either writes. What does each then write?",
                fits: &[Kind::LostUpdate],
            },
            Hint {
                text: "Ordering::SeqCst orders operations; it does not fuse a load and a store into one. Take every sync type from leaklab_sync, or the model cannot see your steps: a std::sync::Mutex even stops it dead, because the model cannot switch threads around a lock it does not know.",
                fits: &[Kind::Unchecked, Kind::Deadlock],
            },
            Hint {
                text: "Use fetch_add, or take one lock and hold it for the whole read-modify-write.",
                fits: &[],
            },
        ],
        checks: &[Check::Loom, Check::Scenario],
        exhibit: Exhibit {
            check: Check::Loom,
            kind: Kind::LostUpdate,
            culprit: "self.booked.load",
        },
    },
    Lab {
        number: 4,
        slug: "cooperative-cancellation",
        title: "Cancellation is cooperative",
        file: "lab04_cooperative_cancellation.rs",
        part: Part::Cancellation,
        summary: "the coordinator presses Stop on a research export, and the worker redacting the notes is aborted, yet runs on to the last note",
        go: "cancel() only closes ctx.Done(); a busy loop that never checks it runs on to the end",
        fix: "the worker checks the token between notes (on the blocking pool, where CPU work belongs) and returns how far it got, so Stop lands within a note",
        hints: &[
            Hint {
                text: "Stop cancels the token and aborts the worker. Which line of the worker ever looks at the token? And where in its loop is the .await at which an abort could take effect?",
                fits: &[Kind::MissedDeadline],
            },
            Hint {
                text: "A token is only a flag: cancelling it again, or checking it once before the loop, stops nothing. An abort lands only at an .await, and never on a spawn_blocking task; and an aborted task returns no count, yet the function must still say how many notes were redacted.",
                fits: &[Kind::LostWork, Kind::LeakedTask],
            },
            Hint {
                text: "Move a clone of the token into the worker and check stop.is_cancelled() before each note, breaking out with the count so far; then await the worker and return its count. Better still, run that loop in tokio::task::spawn_blocking: CPU-bound work should not hold a runtime thread.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::MissedDeadline,
            culprit: "tokio::spawn",
        },
    },
    Lab {
        number: 5,
        slug: "orphaned-token",
        title: "The orphaned token",
        file: "lab05_orphaned_token.rs",
        part: Part::Cancellation,
        summary: "the clinician cancels an export, but its child tasks never hear of it and keep sending pages",
        go: "a goroutine builds its own context.Background() instead of deriving from the request's ctx, so cancelling the request never reaches it",
        fix: "each child's token is request.child_token(), so cancelling the request reaches every child and none outlives it",
        hints: &[
            Hint {
                text: "When the request's token is cancelled, which other tokens does that reach? Follow the token each child waits on back to where it was made.",
                fits: &[Kind::LeakedTask],
            },
            Hint {
                text: "A child that cancels itself after a fixed time stops too late when the clinician cancels early, and too early when an export is long: the check varies both. Waiting for every child before returning makes the return late.",
                fits: &[Kind::LostWork, Kind::MissedDeadline],
            },
            Hint {
                text: "Make each child's token with request.child_token() before the spawn and move it in: cancelling the request then cancels every child.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::LeakedTask,
            culprit: "tokio::spawn",
        },
    },
    Lab {
        number: 6,
        slug: "forgotten-cancel",
        title: "The forgotten cancel",
        file: "lab06_forgotten_cancel.rs",
        part: Part::Cancellation,
        summary: "each booking starts a 30 s watchdog that nobody stops when the booking comes back early",
        go: "context.WithTimeout without defer cancel(): the child context and its timer live on until the timeout fires",
        fix: "the deadline lives inside the request (tokio::time::timeout, or a watchdog held in an AbortOnDropHandle), so it ends whenever the request ends",
        hints: &[
            Hint {
                text: "When a booking comes back in 10 ms, what is the watchdog task doing, and who will ever stop it?",
                fits: &[Kind::LeakedTask],
            },
            Hint {
                text: "A shorter sleep only shortens each leak, and gives up on bookings that were coming back in time. Stopping the watchdog on the last line misses requests the portal drops midway: a dropped future never reaches that line.",
                fits: &[Kind::LostWork, Kind::MissedDeadline],
            },
            Hint {
                text: "Put the deadline inside the request: tokio::time::timeout(BOOKING_TIMEOUT, scheduler.book(patient)). Or keep the watchdog, but hold its JoinHandle in a tokio_util::task::AbortOnDropHandle, so it ends however the request ends.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::LeakedTask,
            culprit: "tokio::spawn",
        },
    },
    Lab {
        number: 7,
        slug: "stuck-receive",
        title: "The stuck receive",
        file: "lab07_stuck_receive.rs",
        part: Part::Channels,
        summary: "a ward stops waiting for the on-call doctor, but the task awaiting the reply and its entry in the pending table stay forever",
        go: "a goroutine blocked on <-resultChan that no one will ever send on; the fix is a select with ctx.Done()",
        fix: "the waiting task selects on the reply and on the ward leaving (Sender::closed), and a drop guard takes its entry out of the table however it ends",
        hints: &[
            Hint {
                text: "When a ward gives up, it drops its receiver. Does the task that waits for the doctor ever hear of it? And who takes the page's sender out of the pending table?",
                fits: &[Kind::LeakedTask, Kind::LeakedEntry],
            },
            Hint {
                text: "A timeout in the task only guesses the ward's patience: too short loses answers the ward still wants, too long outlives the ward, and either way the entry stays in the table. oneshot::Sender::closed() completes when the receiver is dropped.",
                fits: &[Kind::LostWork, Kind::SwallowedError],
            },
            Hint {
                text: "In the task, tokio::select! on the doctor's reply and on to_ward.closed(); and put the entry's removal (pending.remove(page)) in the Drop of a small guard the task holds, so it runs however the task ends.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::LeakedTask,
            culprit: "tokio::spawn",
        },
    },
    Lab {
        number: 8,
        slug: "unclosed-pipeline",
        title: "The pipeline that never closes",
        file: "lab08_unclosed_pipeline.rs",
        part: Part::Channels,
        summary: "a spare Sender kept for retries means the anonymiser's channel never closes, so the export pipeline never ends",
        go: "a pipeline stage ranges over a channel whose producer never closes it; each stage must close its output when done",
        fix: "every Sender is moved into the stage that sends and dropped when that stage ends, so each channel closes after its last record and the pipeline shuts down stage by stage",
        hints: &[
            Hint {
                text: "recv() returns None only when the queue is empty and every Sender of the channel is gone. Count the senders of the anonymiser's channel: who holds each one, and when is it dropped?",
                fits: &[Kind::Hang],
            },
            Hint {
                text: "Closing the receiver, a timeout, or stopping when the queue looks empty all end the wait by guessing, and a slow stage makes the guess wrong: records still on their way are lost, or stages are left running.",
                fits: &[Kind::LostWork, Kind::LeakedTask, Kind::Duplicated],
            },
            Hint {
                text: "let _retries = ... keeps a Sender alive until the function returns (only let _ = drops at once). Remove it, or move it into the stage that would retry, so the reader's channel closes when the reader is done.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::Hang,
            culprit: "let anonymising",
        },
    },
    Lab {
        number: 9,
        slug: "no-timeout-downstream",
        title: "No timeout downstream",
        file: "lab09_no_timeout_downstream.rs",
        part: Part::Load,
        summary: "the laboratory hangs, so every request for lab results hangs with it, and a burst piles up a stuck task and an open lookup per request",
        go: "a call to a slow service with no deadline: under load, blocked goroutines pile up until the service falls over; the fix gives each call context.WithTimeout",
        fix: "each request waits for one of MAX_CALLS permits and for the lookup inside one timeout of DEADLINE, and answers Unavailable when it fires: every patient is answered in time, and a burst never puts more than MAX_CALLS lookups in flight",
        hints: &[
            Hint {
                text: "The laboratory may never answer. How long does a request wait for it, and who answers the patient if it does not?",
                fits: &[Kind::MissedDeadline, Kind::Hang],
            },
            Hint {
                text: "A timeout alone answers everyone in time, but a burst still puts every request's lookup in flight at once, on a laboratory that takes MAX_CALLS. A bound alone lets hung lookups keep every permit while the rest wait forever. The deadline counts from when the portal sent the request: a wait for a permit, or in the channel, is part of it. And a reply dropped unanswered is not an answer.",
                fits: &[
                    Kind::Overload,
                    Kind::LeakedTask,
                    Kind::SwallowedError,
                    Kind::LostWork,
                ],
            },
            Hint {
                text: "Share an Arc<tokio::sync::Semaphore> with MAX_CALLS permits. In each request's task, put both permits.acquire() and lab.fetch(..) inside one tokio::time::timeout(DEADLINE, ..), and send Err(Unavailable) through the reply when it fires.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::Overload,
            // The lookup the tasks wait on: the task dump places the finding there.
            culprit: "lab.fetch(",
        },
    },
    Lab {
        number: 10,
        slug: "lost-trace-id",
        title: "The lost trace id",
        file: "lab10_lost_trace_id.rs",
        part: Part::Load,
        summary: "a results summary logs inside its request's span, but the lines from the department lookups it spawns have lost the trace id",
        go: "request-scoped values such as a trace id travel in the context.Context each call takes; a global, or a context stored in a struct, mixes requests up",
        fix: "each spawned lookup carries the request's span with it (.in_current_span(), or .instrument(span)), so every line it logs, on any thread, names its own request's trace id",
        hints: &[
            Hint {
                text: "The request's span is entered while its own future is polled. Who polls a task spawned from it, and which span is current there?",
                fits: &[Kind::LostContext, Kind::LostWork],
            },
            Hint {
                text: "A global, or a thread_local, holds one trace id for every request at once (or for every request on a thread): the check runs several requests together, and on worker threads. A span.enter() guard held across an .await stays entered on the thread while other requests run there. Span::current() inside the spawned task is the task's own: none.",
                fits: &[Kind::Unchecked],
            },
            Hint {
                text: "Give the spawned future the span: lookups.spawn(async move { ... }.in_current_span()) (or .instrument(Span::current()), both from tracing::Instrument), called in the request, where its span is current. Or pass the trace id into the task and log it as a field.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::LostContext,
            culprit: "lookups.spawn",
        },
    },
    Lab {
        number: 11,
        slug: "early-wake-up",
        title: "The early wake-up",
        file: "lab11_early_wake_up.rs",
        part: Part::SharedState,
        summary: "the batch job waits for the night's lab-report uploads, but wait() returns before they have even started",
        go: "wg.Add(1) inside the goroutine: Wait can run before any Add and return at once",
        fix: "start() counts each upload in before its thread exists, so wait() cannot see zero while an upload is still to run; the check and the sleep stay under one lock",
        hints: &[
            Hint {
                text: "When wait() reads the count, which uploads have counted themselves in? Follow one upload from start() to the first step its thread takes.",
                fits: &[Kind::LostWork],
            },
            Hint {
                text: "SeqCst, a yield or a lock around the count does not help: the count is not late to be seen, it has not been made yet. And the check of the count and the sleep must be under one lock, with the last upload notifying under it, or the wake-up can fall in between.",
                fits: &[Kind::Deadlock, Kind::Spin, Kind::Unchecked],
            },
            Hint {
                text: "Count the upload in inside start(), before thread::spawn (Go's wg.Add(1) goes before go), and leave the thread only the count out.",
                fits: &[],
            },
        ],
        checks: &[Check::Loom, Check::Scenario],
        exhibit: Exhibit {
            check: Check::Loom,
            kind: Kind::LostWork,
            culprit: "uploads.in_flight.fetch_add",
        },
    },
    Lab {
        number: 12,
        slug: "lock-across-await",
        title: "The lock held across .await",
        file: "lab12_lock_across_await.rs",
        part: Part::SharedState,
        summary: "the ward's chart cache keeps its lock while it fetches a chart, so two clinicians opening charts at once stop the whole runtime",
        go: "a mutex held across a slow call serialises every request; hold a lock as briefly as you can, and use an RWMutex for read-mostly maps",
        fix: "the guard covers only the map: copy out what you need and drop it before the fetch, then lock again to insert, so a cached chart comes back at once and an uncached one takes one fetch",
        hints: &[
            Hint {
                text: "Two reads share one thread. The first takes the lock and awaits the records service with the guard still in hand. What does the second read's lock() do to that thread, and who can ever release the lock? Try cargo clippy -p leaklab-bins --bin lab12-yours -- -W clippy::await_holding_lock.",
                fits: &[Kind::Deadlock, Kind::Hang],
            },
            Hint {
                text: "tokio::sync::Mutex ends the deadlock, not the waiting: held across the fetch, it makes every read queue behind every fetch before it, so ten charts take ten fetches and a cached chart waits behind other patients. Retrying try_lock with a yield turns the wait into a spin, and answering before the fetch is done hands out the wrong chart.",
                fits: &[Kind::MissedDeadline, Kind::LostWork, Kind::Spin],
            },
            Hint {
                text: "Hold the lock only to touch the map: let cached = self.charts.lock().unwrap().get(&patient).cloned(); if that is None, fetch with no lock held, then lock again to insert the chart. An RwLock suits read-mostly data, under the same rule: no guard across an .await.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::Deadlock,
            culprit: "self.charts.lock()",
        },
    },
    Lab {
        number: 13,
        slug: "select-loop",
        title: "The select loop that never exits",
        file: "lab13_select_loop.rs",
        part: Part::Cancellation,
        summary: "the ward's result listener logs the shutdown and goes round its loop again, for ever: a cancelled token is ready on every turn",
        go: "for { select { case <-ctx.Done(): log } } with no return keeps looping (and in Go, break only leaves the select)",
        fix: "the cancel branch breaks out of the loop, and None from recv() ends it too, so the listener ends at shutdown and when the channel closes",
        hints: &[
            Hint {
                text: "Once shutdown is cancelled, what does shutdown.cancelled() give the next time the loop reaches the select!, and the time after that? Which line ever leaves the loop?",
                fits: &[Kind::Spin, Kind::Deadlock],
            },
            Hint {
                text: "continue, a yield or a sleep in the cancel branch still goes round the loop: politer, never finished. And a Some(result) = results.recv() pattern only disables its branch when the channel closes; it ends nothing. Whatever ends the loop must let a post under way finish: a select! that races the post (or the whole loop) against the token drops the post with it.",
                fits: &[Kind::LeakedTask, Kind::LostWork],
            },
            Hint {
                text: "break in the cancel branch (in Rust, break inside select! leaves the enclosing loop, unlike Go), and match what recv() returns: Some(result) is posted in the branch's body (a body, once begun, runs to its end, so shutdown never cuts a post short), None breaks.",
                fits: &[],
            },
        ],
        checks: &[Check::Scenario],
        exhibit: Exhibit {
            check: Check::Scenario,
            kind: Kind::Spin,
            culprit: "audit.record(",
        },
    },
];
