//! Grading: every lab of a copy, each charged only with what its own check binary did,
//! with results as data. The instructor's guide and the threat model are in GRADING.md.
//!
//! Two ways to grade a copy:
//!
//! - **in place** ([`in_place`]): the copy the command runs in, after checking every file
//!   grading depends on against the manifest (`manifest`), so that only `labs/` may
//!   differ from what was shipped. For a student's own CI, or Classroom 50.
//! - **a student's clone** ([`student`]): only the student's `labs/lab*.rs` are copied
//!   into a clean scratch workspace made from the instructor's copy (`scratch`); nothing
//!   else from the clone is read. For `--student` and `grade-class`.
//!
//! Either way the labs are built together (one cargo call per kind of check, a compile
//! error costing only its own binary) and each check binary runs as its own child under
//! `limits`: wall time, memory, CPU, and a process group killed when it ends.

pub mod class;
pub mod classroom;
pub mod hidden;
pub mod limits;
pub mod manifest;
pub mod results;
pub mod scratch;

use crate::compile::{ToolError, build_in};
use crate::runner::{Setup, run_yours};
use hidden::Hidden;
use leaklab_registry::{Check, Lab, Variant};
use limits::Limits;
use results::{LabResult, Results};
use scratch::{Put, Scratch};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// How to grade.
#[derive(Clone, Debug)]
pub struct Options {
    /// The labs to grade, in registry order.
    pub labs: Vec<&'static Lab>,
    pub limits: Limits,
    pub hidden: Option<Hidden>,
    /// The manifest's SHA-256, pinned from outside the copy (in-place grading only).
    pub pin: Option<String>,
    /// A build that takes longer is stopped; the labs it had not built are charged.
    pub build_timeout: Duration,
    /// Build the checks, run none of them (a platform's setup step).
    pub build_only: bool,
    /// Whether a slow build says so on stderr (not under `grade-class`'s progress bar).
    pub announce: bool,
}

impl Options {
    /// The run setup for a copy whose builds go to `target`.
    fn setup(&self, target: &Path) -> Setup {
        let mut env = Vec::new();
        if let Some(hidden) = &self.hidden {
            env.push((hidden::ENV.to_owned(), hidden.path.clone().into_os_string()));
        }
        Setup {
            target: target.to_path_buf(),
            limits: self.limits,
            env,
            build_timeout: Some(self.build_timeout),
            announce: self.announce,
        }
    }
}

/// A grading's results, and whether the tool itself failed (exit 3, not the copy's fault).
pub struct Outcome {
    pub results: Results,
    pub tool_failed: bool,
}

/// Grades the copy at `root` in place, its builds going to `target`.
pub fn in_place(root: &Path, target: &Path, options: &Options) -> Outcome {
    let started = Instant::now();
    let manifest = match manifest::verify(root, options.pin.as_deref()) {
        Ok(sha) => sha,
        Err(tampered) => {
            let message = tampered.message();
            let labs = options
                .labs
                .iter()
                .map(|lab| LabResult::error(lab, &message))
                .collect();
            let results = Results::new(".".into(), labs, Some(message), started.elapsed());
            return Outcome {
                results: stamp(results, None, options),
                tool_failed: false,
            };
        }
    };
    let put: BTreeMap<u32, Put> = options
        .labs
        .iter()
        .map(|lab| (lab.number, scratch::read_lab(root, lab)))
        .collect();
    let outcome = grade_labs(root, &options.setup(target), options, &put, ".".into(), started);
    Outcome {
        results: stamp(outcome.results, Some(manifest), options),
        ..outcome
    }
}

/// Grades the labs of the student's clone at `student` in `scratch`, a clean copy of
/// the trusted workspace at `trusted` (whose builds go to `target`).
pub fn student(
    trusted: &Path,
    target: &Path,
    student: &Path,
    scratch: &Scratch,
    options: &Options,
) -> Outcome {
    let started = Instant::now();
    let copy = student.display().to_string();
    if let Err(problem) = scratch.mirror(trusted) {
        return tool_failure(options, copy, problem, started);
    }
    let put = scratch.put_labs(student, &options.labs);
    let outcome = grade_labs(
        &scratch.root,
        &options.setup(target),
        options,
        &put,
        copy,
        started,
    );
    let sha = manifest::pin_of(&manifest::Manifest::of(trusted, &BTreeMap::new(), &[]).render());
    Outcome {
        results: stamp(outcome.results, Some(sha), options),
        ..outcome
    }
}

/// Builds and runs the labs whose files were put in (`put`) in the workspace at `root`.
fn grade_labs(
    root: &Path,
    setup: &Setup,
    options: &Options,
    put: &BTreeMap<u32, Put>,
    copy: String,
    started: Instant,
) -> Outcome {
    let ready: Vec<&'static Lab> = options
        .labs
        .iter()
        .copied()
        .filter(|lab| put.get(&lab.number).is_some_and(Result::is_ok))
        .collect();
    let graded = if options.build_only {
        build_only(root, setup, &ready)
    } else {
        run_yours(root, setup, &ready).map(|graded| {
            graded
                .into_iter()
                .map(|g| {
                    let not_run = options
                        .hidden
                        .as_ref()
                        .and_then(|h| g.reports.iter().find_map(|r| h.not_run(r)));
                    (
                        g.lab.number,
                        LabResult::from_reports(g.lab, &g.reports, g.time, not_run),
                    )
                })
                .collect::<BTreeMap<u32, LabResult>>()
        })
    };
    let mut graded = match graded {
        Ok(graded) => graded,
        Err(ToolError(problem)) => return tool_failure(options, copy, problem, started),
    };
    let labs = options
        .labs
        .iter()
        .map(|lab| match &put[&lab.number] {
            Err(problem) => LabResult::error(lab, problem),
            Ok(sha) => {
                let mut result = graded.remove(&lab.number).expect("every ready lab was graded");
                result.sha256 = Some(sha.clone());
                result
            }
        })
        .collect();
    Outcome {
        results: Results::new(copy, labs, None, started.elapsed()),
        tool_failed: false,
    }
}

/// The setup step of a platform: builds every lab's check binaries and runs none. A
/// lab that does not compile is reported here too, and charged when its test runs.
fn build_only(
    root: &Path,
    setup: &Setup,
    labs: &[&'static Lab],
) -> Result<BTreeMap<u32, LabResult>, ToolError> {
    let mut built: BTreeMap<u32, LabResult> = BTreeMap::new();
    for check in [Check::Loom, Check::Scenario] {
        let bins: Vec<String> = labs
            .iter()
            .filter(|lab| lab.checks.contains(&check))
            .map(|lab| lab.bin(check, Variant::Yours))
            .collect();
        if bins.is_empty() {
            continue;
        }
        let result = build_in(
            root,
            &setup.target,
            check,
            &bins,
            setup.build_timeout,
            setup.announce,
        )?;
        for lab in labs.iter().filter(|lab| lab.checks.contains(&check)) {
            if let Err(finding) = &result[&lab.bin(check, Variant::Yours)] {
                let report = labkit::Report::of(
                    lab.number,
                    Variant::Yours,
                    check,
                    labkit::Verdict {
                        findings: vec![finding.clone()],
                        ..Default::default()
                    },
                );
                built.insert(
                    lab.number,
                    LabResult::from_reports(lab, &[report], Duration::ZERO, None),
                );
            }
        }
    }
    for lab in labs {
        built.entry(lab.number).or_insert_with(|| {
            let mut result = LabResult::from_reports(lab, &[], Duration::ZERO, None);
            result.message = "built".into();
            result
        });
    }
    Ok(built)
}

fn tool_failure(options: &Options, copy: String, problem: String, started: Instant) -> Outcome {
    let message = format!("leaklab could not build its checks (not the lab's fault): {problem}");
    let labs = options
        .labs
        .iter()
        .map(|lab| LabResult::error(lab, &message))
        .collect();
    Outcome {
        results: stamp(
            Results::new(copy, labs, Some(message), started.elapsed()),
            None,
            options,
        ),
        tool_failed: true,
    }
}

/// Records which checks and which hidden cases graded these results.
fn stamp(mut results: Results, manifest: Option<String>, options: &Options) -> Results {
    results.manifest_sha256 = manifest;
    results.hidden_sha256 = options.hidden.as_ref().map(|h| h.sha256.clone());
    results
}
