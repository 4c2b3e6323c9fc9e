//! An execution's log as the student reads it, one step a line:
//!
//! ```text
//! booking thread 1: load reads 0 at labs/lab03_unsynchronised_counter.rs:24
//! booking thread 2: store writes 1 at labs/lab03_unsynchronised_counter.rs:25
//! ```
//!
//! The text is labkit's (`labkit::steps`), which the runner reads back to draw the
//! interleaving; [`render`] writes it and [`parse`] reads the steps back, so tests can
//! reason about the interleaving a finding shows. The rest picks what a finding says
//! about the steps.

use crate::{Finding, Kind, Subject};
use labkit::Site;
use labkit::paths::normalize;
pub use labkit::steps::{Step, mark, render};

/// The steps of a finding's detail, skipping the remarks between them (`=> total()
/// returned 1`) and any other line.
pub fn parse(detail: &str) -> Vec<Step> {
    let lines = labkit::steps::parse(detail).into_iter();
    lines
        .filter_map(|line| match line {
            labkit::steps::Line::Step(step) => Some(step),
            labkit::steps::Line::Mark(_) => None,
        })
        .collect()
}

/// What a model reports when the lab's threads made no step it could see (the lab took
/// its sync types from `std`, not the shim): `message`, at the lab's imports.
pub fn unseen(subject: &Subject, message: &str) -> Finding {
    let site = Site {
        file: subject.file.to_owned(),
        line: subject.line_of("use ").unwrap_or(1),
        count: 1,
        stack: None,
    };
    Finding::new(Kind::Unchecked, message).with_sites(vec![site])
}

/// Whether every step that read a value read the last value written before it (one
/// location is assumed). Loom also finds executions where a `Relaxed` load reads an
/// older value; those need the memory model to explain, so a model shows a coherent
/// failure when it has one.
pub fn coherent(steps: &[Step]) -> bool {
    let mut last = None;
    steps.iter().all(|step| {
        let ok = match (step.read, last) {
            (Some(read), Some(written)) => read == written,
            _ => true,
        };
        last = step.wrote.or(step.read).or(last);
        ok
    })
}

/// The places in `file` where the model's threads (not `main`) made their steps, in
/// the order the execution first reached them: where a finding about an interleaving
/// points.
pub fn sites(steps: &[Step], file: &str) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::new();
    for step in steps.iter().filter(|step| step.thread != "main") {
        let Some((path, line)) = step.at.as_deref().and_then(|at| at.rsplit_once(':')) else {
            continue;
        };
        let (path, Ok(line)) = (normalize(path), line.parse()) else {
            continue;
        };
        if path != file {
            continue;
        }
        match sites.iter_mut().find(|site| site.line == line) {
            Some(site) => site.count += 1,
            None => sites.push(Site {
                file: path,
                line,
                count: 1,
                stack: None,
            }),
        }
    }
    sites
}
