//! What grading produces: a status per lab, and the same results as a table, as JSON
//! in the spirit of Exercism's `results.json`, as JUnit XML and as a Markdown summary.
//!
//! The statuses:
//!
//! - **pass**: every check of the lab ran to the end and found nothing.
//! - **fail**: a check ran and found something wrong with what the lab *does*: a task
//!   left alive, lost work or updates, a missed deadline, a swallowed error, a spin, a
//!   deadlock, a hang.
//! - **error**: no check could judge the lab: it does not compile, is missing, crashed
//!   the check (a panic, an exit, running out of memory), cannot be checked as written,
//!   or the copy itself cannot be trusted (files grading depends on were edited) or the
//!   tool failed.

use labkit::{Kind, Report};
use leaklab_registry::{Lab, Variant};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The version of the results format.
pub const VERSION: u32 = 1;

/// A lab is worth one point, all or nothing.
pub const POINTS: u32 = 1;

/// Messages are cut here: the table stays one line per lab, and a platform that keeps
/// 2,000 characters of output still shows every lab's reason.
const MAX_MESSAGE: usize = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }

    fn shout(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        }
    }
}

/// One lab's grade.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabResult {
    pub number: u32,
    /// "Lab 1: the orphaned task".
    pub name: String,
    /// The graded file, relative to the workspace.
    pub file: String,
    /// The SHA-256 of the graded file, when there was one.
    pub sha256: Option<String>,
    pub status: Status,
    /// Why, in one line: the first finding (`passed` on a pass).
    pub message: String,
    /// Every finding's kind, in the order found (`leaked_task`, `compile_error`, ...).
    pub kinds: Vec<String>,
    pub score: u32,
    pub max_score: u32,
    /// How long its checks ran, in milliseconds (the shared build not counted).
    pub time_ms: u64,
}

/// A whole copy's grades.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub version: u32,
    /// `pass` when every lab passes; `error` when the copy as a whole could not be
    /// graded (edited files grading depends on, the tool failed); `fail` otherwise.
    pub status: Status,
    /// Why the copy as a whole could not be graded, if it could not.
    pub message: Option<String>,
    pub score: u32,
    pub max_score: u32,
    /// The graded copy: `.` in place, or the student's folder.
    pub copy: String,
    /// The SHA-256 of the manifest of the tree the checks were built from: which checks
    /// graded this.
    pub manifest_sha256: Option<String>,
    /// The SHA-256 of the hidden-cases file, if there was one.
    pub hidden_sha256: Option<String>,
    /// Wall time of the whole grading, in milliseconds.
    pub time_ms: u64,
    pub labs: Vec<LabResult>,
}

/// "Lab 1: the orphaned task".
pub fn lab_name(lab: &Lab) -> String {
    format!("Lab {}: {}", lab.number, lab.title.to_lowercase())
}

/// Whether a finding says the check could not judge the lab (rather than what it does).
fn is_error(kind: Kind) -> bool {
    matches!(kind, Kind::Crashed | Kind::CompileError | Kind::Unchecked)
}

impl LabResult {
    /// A lab that no check could look at (missing, or the copy could not be graded),
    /// and why.
    pub fn error(lab: &Lab, message: &str) -> LabResult {
        LabResult {
            number: lab.number,
            name: lab_name(lab),
            file: lab.path(Variant::Yours),
            sha256: None,
            status: Status::Error,
            message: clip(message.to_owned()),
            kinds: Vec::new(),
            score: 0,
            max_score: POINTS,
            time_ms: 0,
        }
    }

    /// Grades a lab from its checks' reports; `not_run` is why the reports cannot be
    /// trusted to cover the hidden cases, if they cannot.
    pub fn from_reports(lab: &Lab, reports: &[Report], time: Duration, not_run: Option<String>) -> LabResult {
        let findings: Vec<_> = reports.iter().flat_map(|r| r.findings.iter()).collect();
        let mut kinds: Vec<String> = Vec::new();
        for finding in &findings {
            let name = finding.kind.name();
            if !kinds.contains(&name) {
                kinds.push(name);
            }
        }
        let first_error = findings.iter().find(|f| is_error(f.kind));
        let (status, message) = match (first_error, findings.first(), not_run) {
            (Some(finding), ..) => (Status::Error, format!("{}: {}", finding.kind, told(lab, finding))),
            // The first finding, alone: how many more a check finds can vary (a check on
            // real threads may or may not catch a race in one run), the first cannot.
            (None, Some(finding), _) => (Status::Fail, format!("{}: {}", finding.kind, told(lab, finding))),
            (None, None, Some(why)) => {
                kinds.push(Kind::Unchecked.name());
                (Status::Error, format!("unchecked: {why}"))
            }
            (None, None, None) => (Status::Pass, "passed".to_owned()),
        };
        let score = if status == Status::Pass { POINTS } else { 0 };
        LabResult {
            number: lab.number,
            name: lab_name(lab),
            file: lab.path(Variant::Yours),
            sha256: None,
            status,
            message: clip(message),
            kinds,
            score,
            max_score: POINTS,
            time_ms: time.as_millis() as u64,
        }
    }
}

/// A finding's message for a grade, which shows no detail. A loom finding's message
/// ends by pointing "below", at the interleaving `cargo lab check` prints under it: here
/// the pointer says which command prints it.
fn told(lab: &Lab, finding: &labkit::Finding) -> String {
    let message = finding.message.trim_end();
    let pointer = [" (below)", " below"]
        .iter()
        .find_map(|below| message.strip_suffix(below));
    match (pointer, &finding.detail) {
        (Some(text), Some(_)) => format!("{text} (`cargo lab check {}` prints it)", lab.number),
        _ => message.to_owned(),
    }
}

fn clip(message: String) -> String {
    let line = message.lines().next().unwrap_or_default();
    if line.chars().count() <= MAX_MESSAGE && line.len() == message.len() {
        return message;
    }
    let cut: String = line.chars().take(MAX_MESSAGE).collect();
    // Cut between words when there is room to, never inside one.
    let cut = match cut.rsplit_once(' ') {
        Some((words, _)) if words.len() > cut.len() / 2 => words,
        _ => &cut,
    };
    format!("{}…", cut.trim_end())
}

impl Results {
    /// Totals and the overall status from the labs; `message` is a copy-wide problem.
    pub fn new(copy: String, labs: Vec<LabResult>, message: Option<String>, time: Duration) -> Results {
        let status = if message.is_some() {
            Status::Error
        } else if labs.iter().all(|lab| lab.status == Status::Pass) {
            Status::Pass
        } else {
            Status::Fail
        };
        Results {
            version: VERSION,
            status,
            message,
            score: labs.iter().map(|lab| lab.score).sum(),
            max_score: labs.iter().map(|lab| lab.max_score).sum(),
            copy,
            manifest_sha256: None,
            hidden_sha256: None,
            time_ms: time.as_millis() as u64,
            labs,
        }
    }

    pub fn passed(&self) -> usize {
        self.labs.iter().filter(|lab| lab.status == Status::Pass).count()
    }

    /// The table for a terminal: a line per lab, verdict first.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if let Some(message) = &self.message {
            let _ = writeln!(out, "ERROR {message}\n");
        }
        for lab in &self.labs {
            let why = match (lab.status, &self.message) {
                (Status::Pass, _) => "",
                (_, Some(_)) => "not graded (above)",
                _ => &lab.message,
            };
            let _ = writeln!(
                out,
                "{:<5}  lab {:>2}  {:>6}  {}{}",
                lab.status.shout(),
                lab.number,
                seconds(lab.time_ms),
                lab.name.split_once(": ").map_or("", |(_, title)| title),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                }
            );
        }
        let _ = writeln!(
            out,
            "\n{} of {} labs pass (score {}/{}), graded in {}",
            self.passed(),
            self.labs.len(),
            self.score,
            self.max_score,
            seconds(self.time_ms).trim()
        );
        out
    }

    /// The same as a Markdown table (a CI job summary).
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "## leaklab: {} of {} labs pass (score {}/{})\n\n",
            self.passed(),
            self.labs.len(),
            self.score,
            self.max_score
        );
        if let Some(message) = &self.message {
            let _ = writeln!(out, "**Not graded:** {}\n", escape(message));
        }
        out.push_str("| lab | status | time | why |\n|---|---|---|---|\n");
        for lab in &self.labs {
            let why = if lab.status == Status::Pass {
                ""
            } else {
                &lab.message
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                escape(&lab.name),
                lab.status.shout(),
                seconds(lab.time_ms).trim(),
                escape(why)
            );
        }
        out
    }

    /// JUnit XML: a test suite for the copy, a test case per lab; a fail is a failure,
    /// an error an error.
    pub fn junit(&self) -> String {
        let mut suite = TestSuite::new("leaklab");
        for lab in &self.labs {
            let status = match lab.status {
                Status::Pass => TestCaseStatus::success(),
                failed => {
                    let kind = match failed {
                        Status::Fail => NonSuccessKind::Failure,
                        _ => NonSuccessKind::Error,
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status
                        .set_message(lab.message.clone())
                        .set_type(lab.kinds.join(", "));
                    status
                }
            };
            let mut case = TestCase::new(lab.name.clone(), status);
            case.set_classname(format!("leaklab.lab{:02}", lab.number))
                .set_time(Duration::from_millis(lab.time_ms));
            suite.add_test_case(case);
        }
        suite.set_time(Duration::from_millis(self.time_ms));
        let mut report = quick_junit::Report::new("leaklab");
        report.add_test_suite(suite);
        report.to_string().expect("a JUnit report serialises")
    }

    /// Writes `results.json`, `junit.xml` and `summary.md` into `folder`; returns what
    /// it wrote.
    pub fn write(&self, folder: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(folder)?;
        let json = serde_json::to_string_pretty(self).expect("results serialise") + "\n";
        let files = [
            (folder.join("results.json"), json),
            (folder.join("junit.xml"), self.junit()),
            (folder.join("summary.md"), self.markdown()),
        ];
        for (path, text) in &files {
            std::fs::write(path, text)?;
        }
        Ok(files.into_iter().map(|(path, _)| path).collect())
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// A table cell: no pipes or line breaks.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use labkit::{Check, Finding};

    fn report(kinds: &[Kind]) -> Report {
        let mut report = Report::new(1, Variant::Yours, Check::Scenario);
        report.findings = kinds.iter().map(|&k| Finding::new(k, "what was seen")).collect();
        report
    }

    #[test]
    fn behaviour_fails_and_what_stops_the_check_is_an_error() {
        let lab = leaklab_registry::lab(1).expect("lab 1");
        let grade = |kinds: &[Kind]| LabResult::from_reports(lab, &[report(kinds)], Duration::ZERO, None);
        assert_eq!(grade(&[]).status, Status::Pass);
        assert_eq!(grade(&[]).score, 1);
        for kind in [
            Kind::LeakedTask,
            Kind::Hang,
            Kind::Spin,
            Kind::Deadlock,
            Kind::MissedDeadline,
        ] {
            assert_eq!(grade(&[kind]).status, Status::Fail, "{kind}");
        }
        for kind in [Kind::Crashed, Kind::CompileError, Kind::Unchecked] {
            assert_eq!(grade(&[kind]).status, Status::Error, "{kind}");
        }
        let mixed = grade(&[Kind::LeakedTask, Kind::Crashed]);
        assert_eq!(
            (mixed.status, mixed.kinds.clone()),
            (Status::Error, vec!["leaked_task".into(), "crashed".into()])
        );
        let unproven = LabResult::from_reports(
            lab,
            &[report(&[])],
            Duration::ZERO,
            Some("no hidden cases".into()),
        );
        assert_eq!(unproven.status, Status::Error);
    }

    #[test]
    fn the_copy_is_an_error_only_when_it_could_not_be_graded_as_a_whole() {
        let lab = leaklab_registry::lab(1).expect("lab 1");
        let pass = LabResult::from_reports(lab, &[report(&[])], Duration::ZERO, None);
        let fail = LabResult::from_reports(lab, &[report(&[Kind::LeakedTask])], Duration::ZERO, None);
        let results = |labs: Vec<LabResult>, why: Option<&str>| {
            Results::new(".".into(), labs, why.map(String::from), Duration::ZERO).status
        };
        assert_eq!(results(vec![pass.clone()], None), Status::Pass);
        assert_eq!(results(vec![pass.clone(), fail], None), Status::Fail);
        assert_eq!(results(vec![pass], Some("tampered")), Status::Error);
    }

    #[test]
    fn a_message_that_points_below_at_its_detail_says_where_to_see_it() {
        let lab = leaklab_registry::lab(3).expect("lab 3");
        let grade = |message: &str, detail: Option<&str>| {
            let mut report = Report::new(3, Variant::Yours, Check::Loom);
            let mut finding = Finding::new(Kind::LostUpdate, message);
            finding.detail = detail.map(String::from);
            report.findings = vec![finding];
            LabResult::from_reports(lab, &[report], Duration::ZERO, None).message
        };
        let interleaving = Some("thread 1: load 0\nthread 2: load 0");
        for message in [
            "loom found an order that loses an update (below)",
            "loom found the order of steps below",
        ] {
            let graded = grade(message, interleaving);
            assert!(!graded.contains("below"), "{graded}");
            assert!(graded.contains("`cargo lab check 3`"), "{graded}");
        }
        // No detail, or no pointer: the message as it is.
        assert_eq!(grade("the steps below", None), "lost update: the steps below");
        assert_eq!(grade("two threads", interleaving), "lost update: two threads");
    }

    #[test]
    fn long_messages_are_cut_to_one_line() {
        assert_eq!(clip("short".into()), "short");
        assert_eq!(clip("two\nlines".into()), "two…");
        assert_eq!(clip("x".repeat(400)).chars().count(), MAX_MESSAGE + 1);
        let words = "word ".repeat(100);
        assert!(clip(words).ends_with("word…"), "cut between words");
    }
}
