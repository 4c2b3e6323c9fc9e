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
                text: "Ordering::SeqCst orders operations; it does not fuse a load and a store into one. Take every sync type from leaklab_sync, or the model cannot see your steps.",
                fits: &[Kind::Unchecked],
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
];
