//! The text of a loom finding's detail: the execution that went wrong, one step a line,
//! with remarks between the steps.
//!
//! ```text
//! booking thread 1: load reads 0 at labs/lab03_unsynchronised_counter.rs:24
//! booking thread 2: store writes 1 at labs/lab03_unsynchronised_counter.rs:25
//! => total() returned 1 after 2 bookings
//! ```
//!
//! The loom models write it and the runner reads it back (to draw the interleaving),
//! so both go through this one module: what [`Line`] prints, [`parse`] reads.

use crate::paths::normalize;
use std::fmt;

/// What a remark line starts with.
const MARK: &str = "=> ";

/// One operation of a loom execution: which thread, what it did, the value it read and
/// the value it wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The loom thread's name, or `main` for the model's own thread.
    pub thread: String,
    /// The method called: `load`, `store`, `fetch_add`, `lock`, `unlock`, ...
    pub op: String,
    pub read: Option<u64>,
    pub wrote: Option<u64>,
    /// Where the lab made the call, `file:line` as the compiler wrote the path (a
    /// release has no caller, so none). Printed relative to the workspace.
    pub at: Option<String>,
}

impl Step {
    /// What the step did, without who or where: `load reads 0`, `store writes 1`.
    pub fn action(&self) -> String {
        let mut action = self.op.clone();
        if let Some(read) = self.read {
            action.push_str(&format!(" reads {read}"));
        }
        if let Some(wrote) = self.wrote {
            action.push_str(&format!(" writes {wrote}"));
        }
        action
    }

    /// Reads a line that [`Step`]'s `Display` wrote: `thread: op [reads N] [writes N]
    /// [at file:line]`.
    pub fn parse(line: &str) -> Option<Step> {
        let (thread, rest) = line.split_once(": ")?;
        // The first ` at ` ends the action (no word of it holds one); the path after it
        // is the rest of the line, spaces and all.
        let (action, at) = match rest.split_once(" at ") {
            Some((action, at)) => (action, Some(at.to_owned())),
            None => (rest, None),
        };
        let mut words = action.split(' ');
        let op = words.next().filter(|op| !op.is_empty())?.to_owned();
        let (mut read, mut wrote) = (None, None);
        while let Some(word) = words.next() {
            let value = Some(words.next()?.parse().ok()?);
            match word {
                "reads" if read.is_none() => read = value,
                "writes" if wrote.is_none() => wrote = value,
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
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.thread, self.action())?;
        if let Some(at) = &self.at {
            write!(f, " at {}", normalize(at))?;
        }
        Ok(())
    }
}

/// One line of a detail: a step, or a remark between steps (`=> wait() returned with 1
/// of 2 uploads finished; then:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    Step(Step),
    Mark(String),
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Step(step) => step.fmt(f),
            Line::Mark(remark) => write!(f, "{MARK}{remark}"),
        }
    }
}

/// The steps, one a line.
pub fn render(steps: &[Step]) -> String {
    let lines: Vec<String> = steps.iter().map(Step::to_string).collect();
    lines.join("\n")
}

/// A remark line, to put between the steps.
pub fn mark(remark: &str) -> String {
    Line::Mark(remark.to_owned()).to_string()
}

/// The steps and remarks of a detail, in order; lines that are neither are skipped.
pub fn parse(detail: &str) -> Vec<Line> {
    detail
        .lines()
        .filter_map(|line| match line.strip_prefix(MARK) {
            Some(remark) => Some(Line::Mark(remark.to_owned())),
            None => Step::parse(line).map(Line::Step),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(thread: &str, op: &str, read: Option<u64>, wrote: Option<u64>, at: Option<&str>) -> Step {
        Step {
            thread: thread.into(),
            op: op.into(),
            read,
            wrote,
            at: at.map(Into::into),
        }
    }

    #[test]
    fn every_shape_of_step_and_a_remark_read_back_as_written() {
        let lines = vec![
            Line::Step(step(
                "booking thread 1",
                "load",
                Some(0),
                None,
                Some("labs/c.rs:24"),
            )),
            Line::Step(step("booking thread 2", "store", None, Some(1), None)),
            Line::Step(step(
                "upload 1",
                "fetch_add",
                Some(1),
                Some(2),
                Some("labs/a b.rs:7"),
            )),
            Line::Mark("total() returned 1 after 2 bookings".into()),
            Line::Step(step("main", "unlock", None, None, None)),
            Line::Mark("wait() returned; then:".into()),
            Line::Step(step("main", "lock", None, None, Some("labs/c.rs:3"))),
        ];
        let text: Vec<String> = lines.iter().map(Line::to_string).collect();
        let text = text.join("\n");
        assert_eq!(parse(&text), lines, "{text}");
    }

    #[test]
    fn the_step_line_reads_as_the_book_shows_it() {
        let load = step("booking thread 1", "load", Some(0), None, Some("labs/c.rs:24"));
        assert_eq!(load.to_string(), "booking thread 1: load reads 0 at labs/c.rs:24");
        assert_eq!(load.action(), "load reads 0");
        assert_eq!(mark("done"), "=> done");
    }

    #[test]
    fn lines_that_are_not_steps_are_skipped() {
        for line in [
            "(a note, not a step)",
            "thread: load reads",
            "thread: load reads x",
            "thread: load reads 1 reads 2",
            "thread: load sings 3",
            "thread: ",
            "thread: load at",
        ] {
            assert_eq!(parse(line), [], "{line}");
        }
    }
}
