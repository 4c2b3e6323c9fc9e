//! The registry of labs. Adding a lab means adding an entry here, its three files
//! (`labs/`, `solutions/`, `tests/originals/`), its scenario and its check binaries;
//! the runner, the tests and the book find it from here.

/// How a lab is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// A tokio scenario under the leak detector, binaries in this package.
    Scenario,
    /// A loom model of the lab's synchronous core, binaries in `leaklab-models`,
    /// built with `--cfg loom`.
    Loom,
}

impl Check {
    pub fn name(self) -> &'static str {
        match self {
            Check::Scenario => "scenario",
            Check::Loom => "loom",
        }
    }
}

/// One lab: what the runner lists, what the grader runs, what the book titles.
#[derive(Debug)]
pub struct Lab {
    pub number: u32,
    pub slug: &'static str,
    pub title: &'static str,
    /// The lab's file name, the same under `labs/`, `solutions/` and `tests/originals/`.
    pub file: &'static str,
    /// One line for the list.
    pub summary: &'static str,
    /// The Go pitfall this lab translates.
    pub go: &'static str,
    /// One line on what the fix changes, shown under the side-by-side.
    pub fix: &'static str,
    /// Shown one at a time by `cargo lab hint N`, never in the lab file.
    pub hints: &'static [&'static str],
    /// Every check must pass for the lab to pass. The first decides what `cargo lab N` shows first.
    pub checks: &'static [Check],
}

impl Lab {
    /// The copy of this lab that `variant` names, relative to the workspace.
    pub fn path(&self, variant: labkit::Variant) -> String {
        variant.path(self.file)
    }

    pub fn student_path(&self) -> String {
        self.path(labkit::Variant::Student)
    }

    pub fn original_path(&self) -> String {
        self.path(labkit::Variant::Original)
    }
}

pub static LABS: &[Lab] = &[
    Lab {
        number: 1,
        slug: "orphaned-task",
        title: "The orphaned task",
        file: "lab01_orphaned_task.rs",
        summary: "a handler gives up on a slow lookup, but the task doing the lookup lives on",
        go: "a goroutine blocked on a channel that the handler stopped reading (goroutine leak)",
        fix: "the request owns the lookup: it runs inside the handler's timeout (or is aborted when the handler returns), so it cannot outlive the request",
        hints: &[
            "After fetch_lab_result returns, who still holds the JoinHandle of the task it spawned?",
            "Dropping a JoinHandle detaches the task; it does not stop it. Waiting longer does not help either: the lab system may never answer.",
            "Either await the lookup itself inside tokio::time::timeout (dropping a future cancels it), or keep the handle and abort it when the handler returns.",
        ],
        checks: &[Check::Scenario],
    },
    Lab {
        number: 2,
        slug: "missing-join",
        title: "The missing join",
        file: "lab02_missing_join.rs",
        summary: "main spawns the record-sync workers and returns before they finish",
        go: "main returns before its goroutines finish; the fix is a WaitGroup (Add before go, defer Done)",
        fix: "every worker goes into a JoinSet and sync waits for each one, passing its error up: nothing is running when main returns",
        hints: &[
            "When the function that plays main returns, the runtime shuts down and drops every task still running. How many are running then?",
            "A sleep long enough for today's records is too short for tomorrow's (the check varies the write time) and too long when they are fast.",
            "Put each worker in a tokio::task::JoinSet and drain it with join_next before returning; a failed write should come back as an Err.",
        ],
        checks: &[Check::Scenario],
    },
    Lab {
        number: 3,
        slug: "unsynchronised-counter",
        title: "The unsynchronised counter",
        file: "lab03_unsynchronised_counter.rs",
        summary: "a booking counter read and written in two steps loses updates",
        go: "a counter incremented from many goroutines without a lock; go run -race flags it",
        fix: "the read-modify-write is one indivisible step (fetch_add, or one lock held across it), so no update can fall between the read and the write",
        hints: &[
            "Two threads can both read the same value before either writes. What does each then write?",
            "Ordering::SeqCst orders operations; it does not fuse a load and a store into one.",
            "Use fetch_add, or take one lock and hold it for the whole read-modify-write.",
        ],
        checks: &[Check::Loom, Check::Scenario],
    },
];

/// The lab with this number.
pub fn lab(number: u32) -> Option<&'static Lab> {
    LABS.iter().find(|lab| lab.number == number)
}
