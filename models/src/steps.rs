//! An execution's log as the student reads it, one step a line:
//!
//! ```text
//! booking thread 1: load reads 0 at labs/lab03_unsynchronised_counter.rs:24
//! booking thread 2: store writes 1 at labs/lab03_unsynchronised_counter.rs:25
//! ```
//!
//! [`render`] writes it and [`parse`] reads it back, so tests can reason about the
//! interleaving a finding shows.

use labkit::Site;
use labkit::paths::normalize;
pub use leaklab_sync::log::Step;

/// One step a line; lines that are not steps (`=> total() returned 1`) are for [`parse`]
/// to skip.
pub fn render(steps: &[Step]) -> String {
    let line = |step: &Step| {
        let mut line = format!("{}: {}", step.thread, step.op);
        if let Some(read) = step.read {
            line.push_str(&format!(" reads {read}"));
        }
        if let Some(wrote) = step.wrote {
            line.push_str(&format!(" writes {wrote}"));
        }
        if let Some(at) = &step.at {
            line.push_str(&format!(" at {}", normalize(at)));
        }
        line
    };
    steps.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// Reads back the steps of a finding's detail, skipping the lines that are not steps.
pub fn parse(detail: &str) -> Vec<Step> {
    let step = |line: &str| {
        let (thread, rest) = line.split_once(": ")?;
        let (rest, at) = match rest.split_once(" at ") {
            Some((rest, at)) => (rest, Some(at.to_owned())),
            None => (rest, None),
        };
        let mut words = rest.split(' ');
        let op = words.next()?.to_owned();
        let (mut read, mut wrote) = (None, None);
        while let Some(word) = words.next() {
            let value = words.next()?.parse().ok()?;
            match word {
                "reads" => read = Some(value),
                "writes" => wrote = Some(value),
                _ => return None,
            }
        }
        Some(Step {
            thread: thread.to_owned(),
            op,
            read,
            wrote,
            at,
        })
    };
    detail
        .lines()
        .filter(|line| !line.starts_with("=>"))
        .filter_map(step)
        .collect()
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
