//! Findings: what a check measured, as data.
//!
//! A check never answers with a bare yes or no. It answers with a [`Report`]: the
//! findings it made (empty means the lab passed), what it measured on the way, and
//! notes for the reader. The terminal, the tests, `--json` and the grader all read the
//! same structure, so what a student sees is exactly what was graded.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What went wrong, in the catalogue's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A task still alive after its work was over.
    LeakedTask,
    /// Work that was started but never finished (records never written).
    LostWork,
    /// A read-modify-write that lost an update to another thread.
    LostUpdate,
    /// An entry left in a table (a pending reply, a registration) after whoever filed
    /// it stopped waiting.
    LeakedEntry,
    /// The same work done or delivered more than once.
    Duplicated,
    /// More work in flight at once than the bound the code is meant to keep.
    Overload,
    /// A request's own value (a trace id) missing from its work, or another's in its place.
    LostContext,
    /// The scenario never finished: something waits for what will never come.
    Hang,
    /// A request answered, but later than its deadline allows.
    MissedDeadline,
    /// An error the code was told about never reached its caller.
    SwallowedError,
    /// A task stopped yielding and is burning CPU.
    Spin,
    /// A task stopped yielding and is blocked (a lock that will never be released).
    Deadlock,
    /// The lab did not let the check finish: it exited, panicked or crashed the process.
    Crashed,
    /// The lab did not compile.
    CompileError,
    /// The copy cannot be checked as written (it hides its steps from the model
    /// checker, or the check was built without what it needs): not a pass, not a crash.
    Unchecked,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::LeakedTask,
        Kind::LostWork,
        Kind::LostUpdate,
        Kind::LeakedEntry,
        Kind::Duplicated,
        Kind::Overload,
        Kind::LostContext,
        Kind::Hang,
        Kind::MissedDeadline,
        Kind::SwallowedError,
        Kind::Spin,
        Kind::Deadlock,
        Kind::Crashed,
        Kind::CompileError,
        Kind::Unchecked,
    ];

    /// The name in JSON and in fixture headers: `leaked_task`.
    pub fn name(self) -> String {
        self.to_string().replace(' ', "_")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::LeakedTask => "leaked task",
            Kind::LostWork => "lost work",
            Kind::LostUpdate => "lost update",
            Kind::LeakedEntry => "leaked entry",
            Kind::Duplicated => "duplicated",
            Kind::Overload => "overload",
            Kind::LostContext => "lost context",
            Kind::Hang => "hang",
            Kind::MissedDeadline => "missed deadline",
            Kind::SwallowedError => "swallowed error",
            Kind::Spin => "spin",
            Kind::Deadlock => "deadlock",
            Kind::Crashed => "crashed",
            Kind::CompileError => "compile error",
            Kind::Unchecked => "unchecked",
        })
    }
}

/// A place in the source, with how many tasks came from it and, where a task dump
/// could be taken, the await chain each one is parked in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub file: String,
    pub line: u32,
    /// How many tasks (or events) point at this place.
    pub count: u32,
    /// The task's await chain, innermost last, when a task dump was available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One thing a check found wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    /// One or two sentences a student reads: the symptom, measured.
    pub message: String,
    /// The numbers behind the message (`alive_tasks`, `records_lost`, ...).
    #[serde(default)]
    pub measured: BTreeMap<String, u64>,
    /// Where the offending tasks were spawned (or the offending code lives).
    #[serde(default)]
    pub sites: Vec<Site>,
    /// Free-form detail: a loom interleaving, compiler output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Finding {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Finding {
            kind,
            message: message.into(),
            measured: BTreeMap::new(),
            sites: Vec::new(),
            detail: None,
        }
    }

    pub fn measure(mut self, name: &str, value: u64) -> Self {
        self.measured.insert(name.to_owned(), value);
        self
    }

    pub fn with_sites(mut self, sites: Vec<Site>) -> Self {
        self.sites = sites;
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Which copy of a lab a check ran against. The same words everywhere: the runner's
/// flags (`--yours`, `--solution`), its labels and the JSON (`"variant": "yours"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// `labs/`: your working copy, broken until you fix it.
    Yours,
    /// `solutions/`: the fixed version.
    Solution,
    /// `tests/originals/`: the broken lab exactly as shipped, for the exhibits.
    Original,
    /// `fixtures/labNN/{wrong,right}/`: a known fix, right or wrong, for the fixture test.
    Fixture,
}

impl Variant {
    /// The three copies every lab has.
    pub const COPIES: [Variant; 3] = [Variant::Yours, Variant::Solution, Variant::Original];

    /// The folder that holds this copy of every lab (fixtures live one folder per lab).
    pub fn folder(self) -> &'static str {
        match self {
            Variant::Yours => "labs",
            Variant::Solution => "solutions",
            Variant::Original => "tests/originals",
            Variant::Fixture => "fixtures",
        }
    }

    /// The copy of lab file `file`, relative to the workspace.
    pub fn path(self, file: &str) -> String {
        format!("{}/{file}", self.folder())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Yours => "yours",
            Variant::Solution => "solution",
            Variant::Original => "original",
            Variant::Fixture => "fixture",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a lab is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A scenario: tokio on virtual time under the leak detector (or real threads).
    Scenario,
    /// A loom model of the lab's synchronous core, built with `--cfg loom`.
    Loom,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Scenario => "scenario",
            Check::Loom => "loom",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one check found, before it is stamped with the lab and copy it was about:
/// what a scenario or model returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// Empty means the check passed.
    pub findings: Vec<Finding>,
    /// Numbers measured whether or not anything was wrong (`requests`, `tasks_spawned`).
    pub measured: BTreeMap<String, u64>,
    /// Remarks for the reader that are not findings ("locations need tokio_unstable").
    pub notes: Vec<String>,
}

impl Verdict {
    pub fn measure(&mut self, name: &str, value: u64) {
        self.measured.insert(name.to_owned(), value);
    }
}

/// Everything one check reported about one copy of one lab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub lab: u32,
    pub variant: Variant,
    pub check: Check,
    /// Empty means the check passed.
    pub findings: Vec<Finding>,
    /// Numbers measured whether or not anything was wrong (`requests`, `tasks_spawned`).
    #[serde(default)]
    pub measured: BTreeMap<String, u64>,
    /// Remarks for the reader that are not findings ("locations need tokio_unstable").
    #[serde(default)]
    pub notes: Vec<String>,
    /// Each run's timeline (a run per case), for a picture; only when the runner asks
    /// for them (see [`crate::child::TIMELINE_ENV`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timelines: Vec<Timeline>,
}

impl Report {
    pub fn new(lab: u32, variant: Variant, check: Check) -> Self {
        Report::of(lab, variant, check, Verdict::default())
    }

    pub fn of(lab: u32, variant: Variant, check: Check, verdict: Verdict) -> Self {
        Report {
            lab,
            variant,
            check,
            findings: verdict.findings,
            measured: verdict.measured,
            notes: verdict.notes,
            timelines: Vec::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.findings.is_empty()
    }
}

/// One run of a scenario on the paused clock, as a picture of it needs it: when each
/// task was spawned and ended, and when the scenario returned. Virtual time only, in
/// microseconds since the run started, so the same lab always draws the same picture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    /// Every task the run spawned, in spawn order.
    pub tasks: Vec<Span>,
    /// When the scenario's future returned (the request's end, or `main`'s); `None` when
    /// it never did (the watchdog stopped a stuck run).
    pub returned_us: Option<u64>,
    /// When the detector looked for tasks still alive (after the settle window), or when
    /// the watchdog stopped the run.
    pub inspected_us: u64,
}

/// One task of a [`Timeline`]: where it was spawned, and when it started and ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// `labs/lab01_orphaned_task.rs`; `None` without `--cfg tokio_unstable`.
    pub file: Option<String>,
    pub line: u32,
    pub spawned_us: u64,
    /// `None`: still alive when the run was inspected.
    pub ended_us: Option<u64>,
}

impl Timeline {
    /// Of the runs one check made (a run per case), the first that shows a task
    /// outliving its scenario: still alive at the end, or still running when the
    /// scenario returned.
    pub fn showing_a_leak(runs: &[Timeline]) -> Option<usize> {
        runs.iter().position(|run| {
            let returned = run.returned_us.unwrap_or(u64::MAX);
            run.tasks
                .iter()
                .any(|t| t.ended_us.is_none_or(|end| end > returned))
        })
    }
}

/// A count the way a person writes it in a finding's message: `19,850`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
