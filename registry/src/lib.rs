//! The one list of labs, and where each lab's files live.
//!
//! Everything that needs to know the labs reads them from here: the runner (`cargo lab`),
//! the check binaries, the loom models, the tests, and `cargo lab dev`, which writes the
//! README's lab table, the book's summary and each chapter's header from this list and
//! fails CI when any of them drifts. The crate has no tokio, so build scripts and the
//! loom build can depend on it.
//!
//! Adding a lab means: its entry in [`LABS`] (`labs.rs`), its three copies
//! (`labs/`, `solutions/`, `tests/originals/`), its scenario in `checks/` (or its model
//! in `models/`), its fixtures and its chapter. `cargo lab dev` writes the rest.

mod fixtures;
mod labs;

pub use fixtures::{Expect, Fixture, build_fixture_bin, fixture_bin, fixtures};
pub use labkit::{Check, Kind, Variant};
pub use labs::LABS;

/// One lab: what the runner lists, what the grader runs, what the book titles.
#[derive(Debug)]
pub struct Lab {
    pub number: u32,
    pub slug: &'static str,
    pub title: &'static str,
    /// The lab's file name, the same under `labs/`, `solutions/` and `tests/originals/`.
    pub file: &'static str,
    /// The part of the book it belongs to: what it teaches.
    pub part: Part,
    /// One line for the list: the bug, as the student meets it.
    pub summary: &'static str,
    /// The Go pitfall this lab translates.
    pub go: &'static str,
    /// One line on what the fix changes; shown after a pass, never before.
    pub fix: &'static str,
    /// Shown one at a time by `cargo lab hint N`, never in the lab file. A failed check
    /// shows the first hint that fits its first finding.
    pub hints: &'static [Hint],
    /// Every check must pass for the lab to pass. The first decides what `cargo lab N`
    /// shows first.
    pub checks: &'static [Check],
    /// What the check must report on the shipped original: the exhibit.
    pub exhibit: Exhibit,
}

/// A hint, and the findings it answers.
#[derive(Debug)]
pub struct Hint {
    pub text: &'static str,
    /// The finding kinds this hint speaks to; empty: a general hint.
    pub fits: &'static [Kind],
}

/// What the exhibit must show on the original: a finding of this kind from this check,
/// whose first site is the first line of the original that contains `culprit`.
#[derive(Debug)]
pub struct Exhibit {
    pub check: Check,
    pub kind: Kind,
    pub culprit: &'static str,
}

/// The parts of the book, by what their labs teach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// Tasks that live on after the work that needed them.
    Outlive,
    /// Data shared between threads or tasks, and the races on it.
    SharedState,
    /// Telling work to stop, and work that does not listen.
    Cancellation,
    /// Channels and replies that nobody closes or answers.
    Channels,
    /// Load, deadlines and request context.
    Load,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Outlive,
        Part::SharedState,
        Part::Cancellation,
        Part::Channels,
        Part::Load,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Part::Outlive => "Tasks that outlive their work",
            Part::SharedState => "Shared state and data races",
            Part::Cancellation => "Cancellation",
            Part::Channels => "Channels and replies",
            Part::Load => "Load, deadlines and request context",
        }
    }
}

impl Lab {
    /// The copy of this lab that `variant` names, relative to the workspace.
    pub fn path(&self, variant: Variant) -> String {
        variant.path(self.file)
    }

    /// The binary that runs this lab's `check` against one copy: `lab01-yours`, or
    /// `lab03-loom-yours` for a loom model (the two live in different packages but one
    /// workspace, so their names must differ).
    pub fn bin(&self, check: Check, variant: Variant) -> String {
        format!("{}{}", self.module(), bin_suffix(check, variant.as_str()))
    }

    /// The scenario's (or model's) module, and the macro that calls the lab: `lab01`.
    pub fn module(&self) -> String {
        format!("lab{:02}", self.number)
    }

    /// The book chapter, relative to the workspace.
    pub fn chapter(&self) -> String {
        format!("book/src/{}.md", self.module())
    }

    /// The folder of this lab's fixtures, relative to the workspace.
    pub fn fixtures(&self) -> String {
        format!("fixtures/{}", self.module())
    }

    /// The hint that fits a failed check's first finding, with its number (1-based).
    pub fn hint_for(&self, kind: Option<Kind>) -> Option<(usize, &'static str)> {
        let fits = |hint: &&Hint| kind.is_some_and(|k| hint.fits.contains(&k));
        let index = self.hints.iter().position(|h| fits(&h)).unwrap_or(0);
        self.hints.get(index).map(|hint| (index + 1, hint.text))
    }
}

/// The binary that runs every fixture for `check`: `fixtures` or `fixtures-loom`.
pub fn fixtures_bin(check: Check) -> String {
    match check {
        Check::Scenario => "fixtures".into(),
        Check::Loom => "fixtures-loom".into(),
    }
}

fn bin_suffix(check: Check, what: &str) -> String {
    match check {
        Check::Scenario => format!("-{what}"),
        Check::Loom => format!("-loom-{what}"),
    }
}

/// The lab with this number.
pub fn lab(number: u32) -> Option<&'static Lab> {
    LABS.iter().find(|lab| lab.number == number)
}

/// The book's chapters after the labs: (title, file under `book/src/`).
pub const BEYOND_THE_LABS: [(&str, &str); 3] = [
    ("Watching a leak live with tokio-console", "console.md"),
    (
        "What the fixes cost, and what the detector costs",
        "benchmarks.md",
    ),
    ("The leak detector in your own tests", "own-tests.md"),
];

/// The folders, relative to the workspace, that hold code a student or a fixture wrote:
/// where a finding's site should point.
pub const LAB_FOLDERS: [&str; 4] = ["labs/", "solutions/", "tests/originals/", "fixtures/"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_follows_the_finding() {
        let lab = lab(1).expect("lab 1");
        assert_eq!(lab.hint_for(Some(Kind::LeakedTask)).map(|h| h.0), Some(1));
        assert_eq!(lab.hint_for(Some(Kind::MissedDeadline)).map(|h| h.0), Some(2));
        assert_eq!(lab.hint_for(Some(Kind::Crashed)).map(|h| h.0), Some(1));
        assert_eq!(lab.hint_for(None).map(|h| h.0), Some(1));
    }

    #[test]
    fn labs_are_numbered_in_order_with_unique_files_and_three_hints() {
        for (i, lab) in LABS.iter().enumerate() {
            assert_eq!(lab.number as usize, i + 1);
            assert_eq!(lab.hints.len(), 3, "lab {}", lab.number);
            assert!(
                lab.file.starts_with(&lab.module()),
                "lab {}: {}",
                lab.number,
                lab.file
            );
            assert!(lab.checks.contains(&lab.exhibit.check), "lab {}", lab.number);
        }
    }
}
