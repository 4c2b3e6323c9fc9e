//! Runs a lab's checks against one or more copies of it and gathers the reports.
//!
//! For each kind of check the lab has, one cargo call builds the binaries for every copy
//! asked for; then each binary runs as a child process under its limits
//! (`grade::limits`: a wall-clock bound, rlimits, its own process group), the copies in
//! parallel. The grader runs every lab of a copy the same way, one build per kind of
//! check for all of them ([`run_yours`]).

use crate::compile::{BUILD_TIMEOUT, Built, ToolError, build_in};
use crate::grade::limits::{self, Limits};
use labkit::child::{Meta, ROOT_ENV};
use labkit::{Check, Finding, Report, Variant};
use leaklab_registry::{Fixture, Lab};
use serde::Serialize;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How a copy's checks are built and run.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Where the builds go: the copy's own target dir, or a grader's shared one.
    pub target: PathBuf,
    /// What each check child may use.
    pub limits: Limits,
    /// More environment for every check child (the grader's hidden cases).
    pub env: Vec<(String, OsString)>,
    /// A build that takes longer is stopped (a grader's bound; none for the student).
    pub build_timeout: Option<Duration>,
    /// Whether a slow build says so on stderr (not under a progress bar).
    pub announce: bool,
}

impl Setup {
    /// How `cargo lab check` and its siblings run the copy at `root`.
    pub fn of(root: &Path) -> Setup {
        Setup {
            target: crate::workspace::target_dir(root),
            limits: Limits::default(),
            env: Vec::new(),
            build_timeout: None,
            announce: true,
        }
    }

    /// This setup, with every check asked for the timeline of its run (for a picture).
    pub fn with_timelines(mut self) -> Setup {
        let wanted = (labkit::child::TIMELINE_ENV.to_owned(), "1".into());
        self.env.push(wanted);
        self
    }
}

/// Every report for one copy of a lab. It passes only if every check found nothing.
#[derive(Debug, Serialize)]
pub struct Run {
    pub variant: Variant,
    /// The file that was checked, relative to the workspace.
    pub file: String,
    pub passed: bool,
    pub reports: Vec<Report>,
}

impl Run {
    fn new(variant: Variant, file: String, reports: Vec<Report>) -> Self {
        Run {
            variant,
            file,
            passed: reports.iter().all(Report::passed),
            reports,
        }
    }

    /// Every finding, in report order.
    pub fn findings(&self) -> impl Iterator<Item = (&Report, &Finding)> {
        self.reports
            .iter()
            .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
    }
}

/// What `--json` prints: the lab, and a run per copy.
#[derive(Debug, Serialize)]
pub struct LabRuns {
    pub lab: u32,
    pub slug: &'static str,
    pub title: &'static str,
    pub runs: Vec<Run>,
}

/// One thing to check: a binary, the argument that picks what it runs, and the report
/// header it must sign.
struct Job {
    bin: String,
    arg: Option<String>,
    meta: Meta,
}

/// Builds the jobs' binaries for `check` and runs them, as many at once as there are
/// cores (a check may use every core itself, and an overloaded machine would only make
/// each one slower), a report each and how long it ran, in the jobs' order.
fn run_jobs(
    root: &Path,
    setup: &Setup,
    check: Check,
    jobs: &[Job],
) -> Result<Vec<(Report, Duration)>, ToolError> {
    let mut bins: Vec<String> = jobs.iter().map(|job| job.bin.clone()).collect();
    bins.sort();
    bins.dedup();
    let built = build_each(root, setup, check, &bins)?;
    let run = |job: &Job| {
        let started = Instant::now();
        let report = match built[&job.bin].clone() {
            Ok(exe) => {
                let mut command = Command::new(exe);
                command.args(&job.arg).env(ROOT_ENV, root);
                command.envs(setup.env.iter().map(|(k, v)| (k, v)));
                limits::run(command, job.meta, &setup.limits)
            }
            Err(finding) => job.meta.failed(finding),
        };
        (report, started.elapsed())
    };
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let done = Mutex::new(vec![None; jobs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers.min(jobs.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(index) else { break };
                    let report = run(job);
                    done.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(report);
                }
            });
        }
    });
    let done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    Ok(done.into_iter().map(|r| r.expect("every job ran")).collect())
}

/// Builds `bins` in one cargo call. When a build timeout stops it with more than one
/// binary unfinished, each of those is built again on its own, so that only the copy
/// that takes forever to compile is charged with it.
fn build_each(root: &Path, setup: &Setup, check: Check, bins: &[String]) -> Result<Built, ToolError> {
    let mut built = build_in(
        root,
        &setup.target,
        check,
        bins,
        setup.build_timeout,
        setup.announce,
    )?;
    let stopped = |result: &Result<PathBuf, Finding>| matches!(result, Err(finding) if finding.measured.contains_key(BUILD_TIMEOUT));
    let unfinished: Vec<String> = bins.iter().filter(|bin| stopped(&built[*bin])).cloned().collect();
    if unfinished.len() > 1 {
        for bin in unfinished {
            let alone = build_in(
                root,
                &setup.target,
                check,
                std::slice::from_ref(&bin),
                setup.build_timeout,
                setup.announce,
            )?;
            built.extend(alone);
        }
    }
    Ok(built)
}

/// Runs every check of `lab` against each of `variants` in the copy at `root`.
pub fn run_lab(root: &Path, lab: &'static Lab, variants: &[Variant]) -> Result<LabRuns, ToolError> {
    run_lab_in(root, &Setup::of(root), lab, variants)
}

/// [`run_lab`] with its own setup (`--timeline` asks every check for its timeline).
pub fn run_lab_in(
    root: &Path,
    setup: &Setup,
    lab: &'static Lab,
    variants: &[Variant],
) -> Result<LabRuns, ToolError> {
    let setup = setup.clone();
    let mut reports: Vec<Vec<Report>> = vec![Vec::new(); variants.len()];
    for &check in lab.checks {
        let jobs: Vec<Job> = variants
            .iter()
            .map(|&variant| Job {
                bin: lab.bin(check, variant),
                arg: None,
                meta: Meta {
                    lab: lab.number,
                    variant,
                    check,
                },
            })
            .collect();
        for (slot, (report, _)) in reports.iter_mut().zip(run_jobs(root, &setup, check, &jobs)?) {
            slot.push(report);
        }
    }
    let runs: Vec<Run> = variants
        .iter()
        .zip(reports)
        .map(|(&variant, reports)| Run::new(variant, lab.path(variant), reports))
        .collect();
    // Remember the verdict on your copy, so `cargo lab` can list where you stand.
    for run in runs.iter().filter(|run| run.variant == Variant::Yours) {
        let kinds = run.findings().map(|(_, finding)| finding.kind).collect();
        crate::state::record(root, lab, run.passed, kinds);
    }
    Ok(LabRuns {
        lab: lab.number,
        slug: lab.slug,
        title: lab.title,
        runs,
    })
}

/// Runs every check of each fixture's lab against the fixture: one binary per kind of
/// check holds every fixture, so this is two builds at most, whatever the count.
pub fn run_fixtures(root: &Path, fixtures: &[Fixture]) -> Result<Vec<Run>, ToolError> {
    let setup = Setup::of(root);
    let mut reports: Vec<Vec<Report>> = vec![Vec::new(); fixtures.len()];
    for check in [Check::Loom, Check::Scenario] {
        let (indices, jobs): (Vec<usize>, Vec<Job>) = fixtures
            .iter()
            .enumerate()
            .filter(|(_, f)| leaklab_registry::lab(f.lab).is_some_and(|lab| lab.checks.contains(&check)))
            .map(|(i, fixture)| {
                let job = Job {
                    bin: leaklab_registry::fixtures_bin(check),
                    arg: Some(fixture.name.clone()),
                    meta: Meta {
                        lab: fixture.lab,
                        variant: Variant::Fixture,
                        check,
                    },
                };
                (i, job)
            })
            .unzip();
        if jobs.is_empty() {
            continue;
        }
        for (i, (report, _)) in indices.into_iter().zip(run_jobs(root, &setup, check, &jobs)?) {
            reports[i].push(report);
        }
    }
    Ok(fixtures
        .iter()
        .zip(reports)
        .map(|(fixture, reports)| Run::new(Variant::Fixture, fixture.path.clone(), reports))
        .collect())
}

/// What the grader learns about one lab of a copy: its reports, and the time its checks
/// ran (not counting the shared build).
#[derive(Debug)]
pub struct Graded {
    pub lab: &'static Lab,
    pub reports: Vec<Report>,
    pub time: Duration,
}

/// Runs every check of each of `labs` against the copy in `labs/` at `root`: one build
/// per kind of check for all of them, then every check binary as its own child under
/// `setup.limits`, so that each lab is charged only with what its own binary did.
pub fn run_yours(root: &Path, setup: &Setup, labs: &[&'static Lab]) -> Result<Vec<Graded>, ToolError> {
    let mut graded: Vec<Graded> = labs
        .iter()
        .map(|&lab| Graded {
            lab,
            reports: Vec::new(),
            time: Duration::ZERO,
        })
        .collect();
    for check in [Check::Loom, Check::Scenario] {
        let (indices, jobs): (Vec<usize>, Vec<Job>) = labs
            .iter()
            .enumerate()
            .filter(|(_, lab)| lab.checks.contains(&check))
            .map(|(i, lab)| {
                let job = Job {
                    bin: lab.bin(check, Variant::Yours),
                    arg: None,
                    meta: Meta {
                        lab: lab.number,
                        variant: Variant::Yours,
                        check,
                    },
                };
                (i, job)
            })
            .unzip();
        if jobs.is_empty() {
            continue;
        }
        for (i, (report, time)) in indices.into_iter().zip(run_jobs(root, setup, check, &jobs)?) {
            graded[i].reports.push(report);
            graded[i].time += time;
        }
    }
    // Keep each lab's reports in the order its registry entry lists its checks.
    for entry in &mut graded {
        let order = |report: &Report| entry.lab.checks.iter().position(|&c| c == report.check);
        entry.reports.sort_by_key(order);
    }
    Ok(graded)
}
