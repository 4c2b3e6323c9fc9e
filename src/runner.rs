//! Runs a lab's checks against one or more copies of it and gathers the reports.
//!
//! For each kind of check the lab has, one cargo call builds the binaries for every copy
//! asked for; then each binary runs as a child process under a wall-clock bound
//! (`labkit::child::run_check`), the copies in parallel.

use crate::build::{bin_name, build};
use labkit::child::{Meta, run_check};
use labkit::{Report, Variant};
use leaklab_checks::{Check, Lab};
use serde::Serialize;
use std::time::Duration;

/// A wall-clock backstop per check binary. Checks run on virtual time and the child's
/// own watchdog reports a stuck runtime after two seconds, so this fires only when the
/// child itself cannot (a process that ignores everything).
fn wall_limit(check: Check) -> Duration {
    match check {
        Check::Scenario => Duration::from_secs(30),
        Check::Loom => Duration::from_secs(120),
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

/// What `--json` prints: the lab, and a run per copy.
#[derive(Debug, Serialize)]
pub struct LabRuns {
    pub lab: u32,
    pub slug: &'static str,
    pub title: &'static str,
    pub runs: Vec<Run>,
}

/// Runs every check of `lab` against each of `variants`.
pub fn run_lab(lab: &'static Lab, variants: &[Variant]) -> LabRuns {
    let mut reports: Vec<Vec<Report>> = vec![Vec::new(); variants.len()];
    for &check in lab.checks {
        let bins: Vec<String> = variants.iter().map(|&v| bin_name(lab.number, v)).collect();
        let built = build(check, &bins);
        std::thread::scope(|scope| {
            let handles: Vec<_> = variants
                .iter()
                .zip(&bins)
                .map(|(&variant, bin)| {
                    let meta = Meta {
                        lab: lab.number,
                        variant,
                        check: check.name(),
                    };
                    let exe = built.get(bin).cloned();
                    scope.spawn(move || match exe {
                        Some(Ok(exe)) => run_check(&exe, meta, wall_limit(check)),
                        Some(Err(finding)) => {
                            let mut report = Report::new(lab.number, variant, check.name());
                            report.findings.push(finding);
                            report
                        }
                        None => unreachable!("build() answers for every binary it is given"),
                    })
                })
                .collect();
            for (slot, handle) in reports.iter_mut().zip(handles) {
                slot.push(handle.join().expect("a check runner thread panicked"));
            }
        });
    }
    let runs = variants
        .iter()
        .zip(reports)
        .map(|(&variant, reports)| Run {
            variant,
            file: lab.path(variant),
            passed: reports.iter().all(Report::passed),
            reports,
        })
        .collect();
    LabRuns {
        lab: lab.number,
        slug: lab.slug,
        title: lab.title,
        runs,
    }
}
