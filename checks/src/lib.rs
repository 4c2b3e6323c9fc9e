//! Each lab's scenario, and the check binaries that run it.
//!
//! The data flow: a copy of a lab (`labs/`, `solutions/`, `tests/originals/` or a
//! fixture) is compiled into a check binary (in `bins/`) together with its scenario
//! (`src/labNN.rs` here).
//! The binary runs in a child process that the runner watches ([`serve`]); the scenario
//! drives the lab under labkit's leak detector and returns a [`Verdict`], which the
//! runner, the tests and the grader read as a signed report. One binary per lab and
//! copy, so a copy that does not compile breaks only its own binary.
//!
//! Each scenario has the same shape: a table of cases, a run of the lab per case that
//! records what was seen, and a pure `judge(case, &seen) -> Vec<Finding>` that holds the
//! rules, unit-tested without a runtime.

pub mod hidden;
pub mod lab01;
pub mod lab02;
pub mod lab03;
pub mod lab04;
pub mod lab05;
pub mod lab06;
pub mod lab07;
pub mod lab08;
pub mod lab09;
pub mod lab10;
pub mod lab11;
pub mod lab12;
pub mod lab13;
pub mod live;

use labkit::child::Meta;
pub use labkit::child::Subject;
pub use labkit::finding::count;
pub use labkit::{Check, Finding, Kind, Variant, Verdict};

/// Runs a scenario against `subject` in this (child) process and reports to the runner.
pub fn serve(subject: Subject, check: impl FnOnce(&Subject) -> Verdict) -> ! {
    let meta = Meta {
        lab: subject.lab,
        variant: subject.variant,
        check: Check::Scenario,
    };
    labkit::child::serve(meta, || check(&subject))
}

/// The findings with a repeat (the same `key`, from a later case) folded into the
/// first: one bug, told once, with how many more cases showed it.
pub fn once_each<K: PartialEq>(findings: Vec<Finding>, key: impl Fn(&Finding) -> K) -> Vec<Finding> {
    let mut kept: Vec<(Finding, usize)> = Vec::new();
    for finding in findings {
        match kept.iter_mut().find(|(k, _)| key(k) == key(&finding)) {
            Some((_, repeats)) => *repeats += 1,
            None => kept.push((finding, 0)),
        }
    }
    kept.into_iter()
        .map(|(mut finding, repeats)| {
            if repeats > 0 {
                let cases = if repeats == 1 { "case" } else { "cases" };
                finding
                    .message
                    .push_str(&format!(" (the same in {repeats} more {cases})"));
            }
            finding
        })
        .collect()
}

/// The subject of a check's own test that runs it on code written in the test (a fix,
/// say): a fixture of `lab`, with no file of its own.
#[cfg(test)]
fn test_subject(lab: u32) -> Subject {
    Subject {
        lab,
        variant: Variant::Fixture,
        file: "a check's own test",
    }
}
