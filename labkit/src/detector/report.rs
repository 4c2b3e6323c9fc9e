//! What a leak reads like to someone who did not write the detector.
//!
//! A test fails with a [`LeakReport`], and its reader is in their own project: every
//! file is named from their crate (`src/db.rs:135`), the first task listed is the
//! first one spawned (no task it came from is still alive, so it is where to start:
//! the tasks after it are often its own), each await chain shows their frames and
//! folds tokio's, and whatever could not be measured says why.

use super::{Outcome, TaskRecord};
use crate::paths;
use std::fmt;
use std::path::Path;

/// The tasks still alive after a run, ready to read (its `Display` is what a failing
/// test prints). `None` from [`Outcome::report`] when nothing leaked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(serde::Serialize))]
pub struct LeakReport {
    /// `after the test returned`.
    pub when: String,
    /// Tasks still alive, not counting ignored ones.
    pub count: usize,
    /// By spawn site, in the order each site's first task was spawned.
    pub sites: Vec<LeakedSite>,
    /// What could not be measured, and why.
    pub notes: Vec<String>,
}

/// One place that spawned tasks still alive.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "json", derive(serde::Serialize))]
pub struct LeakedSite {
    /// Named from the crate under test: `src/db.rs`.
    pub file: String,
    pub line: u32,
    /// How many of the leaked tasks were spawned here.
    pub count: usize,
    /// The first one's await chain, its own frames kept and the rest folded; or why
    /// there is none.
    pub stack: Result<String, String>,
}

impl<T> Outcome<T> {
    /// The leak report, or `None` when nothing leaked. `when` ends the headline:
    /// "3 tasks still alive `after the test returned`".
    pub fn report(&self, when: &str) -> Option<LeakReport> {
        // With the hooks, the records name each task; without them (no
        // `--cfg tokio_unstable`) only the runtime's count is known.
        let count = if self.locations {
            self.leaks.len()
        } else {
            self.alive
        };
        if count == 0 {
            return None;
        }
        let root = self.root.clone().unwrap_or_else(|| paths::root().to_owned());
        let mut sites: Vec<(LeakedSite, &TaskRecord)> = Vec::new();
        for task in &self.leaks {
            let Some(file) = &task.file else { continue };
            match sites
                .iter_mut()
                .find(|(s, _)| s.file == *file && s.line == task.line)
            {
                Some((site, _)) => site.count += 1,
                None => sites.push((
                    LeakedSite {
                        file: file.clone(),
                        line: task.line,
                        count: 1,
                        stack: Err(String::new()),
                    },
                    task,
                )),
            }
        }
        // Records are in spawn order, so sites are too.
        let sites = sites
            .into_iter()
            .map(|(mut site, first)| {
                site.stack = match (&first.stack, self.stack_note) {
                    (Some(stack), _) => Ok(fold(stack, &root)),
                    // Said once, in the notes.
                    (None, Some(_)) => Err(String::new()),
                    (None, None) => Err("no await chain: the task waits on something task dumps \
                                         do not trace (TcpListener::accept, a future that is \
                                         not tokio's), or was running during the dump"
                        .to_owned()),
                };
                site
            })
            .collect();
        let mut notes = Vec::new();
        if let (Some(note), true) = (self.stack_note, self.locations) {
            notes.push(note.to_owned());
        }
        if !self.locations {
            notes.push(needs_unstable());
        } else if self.alive != self.leaks.len() {
            notes.push(format!(
                "the runtime counts {} alive tasks: the others were ignored, or are blocking \
                 tasks, which tokio counts apart",
                self.alive
            ));
        }
        Some(LeakReport {
            when: when.to_owned(),
            count,
            sites,
            notes,
        })
    }
}

/// Why there are no spawn locations, and what to do about it in the reader's crate.
fn needs_unstable() -> String {
    let mut note = "spawn locations and await chains need `--cfg tokio_unstable`: add \
                    `[build] rustflags = [\"--cfg\", \"tokio_unstable\"]` to \
                    `.cargo/config.toml` in your crate or workspace"
        .to_owned();
    if let Some(flags) = std::env::var_os("RUSTFLAGS") {
        note.push_str(&format!(
            "; RUSTFLAGS is set in your environment ({:?}), and it replaces that setting: \
             add `--cfg tokio_unstable` to it, or unset it",
            flags.to_string_lossy()
        ));
    }
    note
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tasks = |n: usize| if n == 1 { "task" } else { "tasks" };
        write!(
            f,
            "{} {} still alive {}",
            self.count,
            tasks(self.count),
            self.when
        )?;
        match self.sites.as_slice() {
            [] => {}
            [one] if one.count == self.count => write!(f, ", spawned at {}:{}", one.file, one.line)?,
            [first, ..] => write!(f, ", the first spawned at {}:{}", first.file, first.line)?,
        }
        for (i, site) in self.sites.iter().enumerate() {
            write!(
                f,
                "\n  {} {} spawned at {}:{}",
                site.count,
                tasks(site.count),
                site.file,
                site.line
            )?;
            if i == 0 && self.sites.len() > 1 {
                f.write_str(" (spawned first: the tasks below may be its own)")?;
            }
            match &site.stack {
                Ok(stack) => {
                    f.write_str(", waiting in:")?;
                    for line in stack.lines() {
                        write!(f, "\n      {line}")?;
                    }
                }
                Err(why) if !why.is_empty() => write!(f, "\n      ({why})")?,
                Err(_) => {}
            }
        }
        for note in &self.notes {
            write!(f, "\n  note: {note}")?;
        }
        Ok(())
    }
}

/// An await chain (a tree, when the task awaits several things at once, as in a
/// `select!`) with the reader's own frames kept, and each leaf, which says what a
/// branch is parked on; each run of other frames (tokio's, std's, other crates') is
/// folded into one line.
pub(crate) fn fold(stack: &str, root: &str) -> String {
    let lines: Vec<&str> = stack.lines().filter(|l| !l.trim().is_empty()).collect();
    let depth = |line: &str| line.chars().take_while(|c| *c != '╼').count();
    let mut kept: Vec<Shown> = Vec::new();
    let mut folded: Vec<Shown> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let (frame, place) = split_frame(line);
        let place = place.map(|(file, at)| (paths::rebase(root, file), at));
        let frame = frame
            .rsplit('╼')
            .next()
            .unwrap_or(frame)
            .trim_start_matches('\u{a0}');
        let shown = Shown {
            depth: depth(line),
            branch: line.contains("├╼"),
            text: match &place {
                Some((file, at)) => format!("{frame} at {file}{at}"),
                None => frame.to_owned(),
            },
            crate_name: crate_of(line),
        };
        let mine = place.as_ref().is_some_and(|(file, _)| is_mine(root, file));
        let leaf = lines.get(i + 1).is_none_or(|next| depth(next) <= depth(line));
        // The first frame of a branch (a `select!` or `join!` arm): the tree's shape.
        let branch = shown.branch || i > 0 && depth(line) <= depth(lines[i - 1]);
        if mine || leaf || branch {
            flush(&mut kept, &mut folded);
            kept.push(shown);
        } else {
            folded.push(shown);
        }
    }
    flush(&mut kept, &mut folded);
    // Indent each line one step under the line it hangs from, whatever was folded.
    let mut parents: Vec<(usize, usize)> = Vec::new();
    let mut out = Vec::new();
    for line in kept {
        while parents.last().is_some_and(|(depth, _)| *depth >= line.depth) {
            parents.pop();
        }
        let (indent, glyph) = match parents.last() {
            None => (0, "╼"),
            Some((_, indent)) => (indent + 2, if line.branch { "├╼" } else { "└╼" }),
        };
        out.push(format!("{}{glyph} {}", " ".repeat(indent), line.text));
        parents.push((line.depth, indent));
    }
    out.join("\n")
}

/// A frame as the report shows it.
struct Shown {
    /// Where its `╼` was in the dump: the tree's shape.
    depth: usize,
    /// It has a sibling below it (`├╼`).
    branch: bool,
    text: String,
    crate_name: String,
}

/// Writes the frames folded so far as one line, where the first of them was.
fn flush(kept: &mut Vec<Shown>, folded: &mut Vec<Shown>) {
    if folded.len() > 1 {
        let mut crates: Vec<&str> = Vec::new();
        for frame in folded.iter() {
            if !crates.contains(&frame.crate_name.as_str()) {
                crates.push(&frame.crate_name);
            }
        }
        let text = format!("… {} frames ({})", folded.len(), crates.join(", "));
        let first = &folded[0];
        kept.push(Shown {
            depth: first.depth,
            branch: first.branch,
            text,
            crate_name: String::new(),
        });
        folded.clear();
    } else {
        kept.append(folded);
    }
}

/// `(frame, Some((file, ":line:col")))` from `╼ frame at file:line:col`.
fn split_frame(line: &str) -> (&str, Option<(&str, &str)>) {
    let Some((frame, place)) = line.rsplit_once(" at ") else {
        return (line, None);
    };
    let name_end = place.rfind('/').map_or(0, |i| i + 1);
    match place[name_end..].find(':') {
        Some(colon) => (
            frame,
            Some((&place[..name_end + colon], &place[name_end + colon..])),
        ),
        None => (frame, Some((place, ""))),
    }
}

/// Whether a file (already named from `root`) is the reader's: a file of their crate
/// or of a path dependency beside it, not std's or a registry crate's.
fn is_mine(root: &str, file: &str) -> bool {
    !file.starts_with('/') && !file.starts_with("library/") && Path::new(root).join(file).exists()
}

/// Where a frame's code lives, for a folded line: the crate of its file (`tokio`
/// for `tokio-1.54.1/src/...`, `core` for `library/core/...`), or of its function.
fn crate_of(line: &str) -> String {
    let (frame, place) = split_frame(line);
    if let Some((file, _)) = place {
        if let Some(rest) = file.strip_prefix("library/") {
            return rest.split('/').next().unwrap_or("std").to_owned();
        }
        if let Some(first) = file.split('/').next()
            && let Some((name, version)) = first.rsplit_once('-')
            && version.starts_with(|c: char| c.is_ascii_digit())
        {
            return name.to_owned();
        }
    }
    let name = frame.split('╼').next_back().unwrap_or(frame);
    let name = name.trim_start_matches(|c: char| !c.is_alphanumeric() && c != '_');
    name.split("::").next().unwrap_or("?").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_keeps_the_readers_frames_and_folds_the_rest() {
        let root = env!("CARGO_MANIFEST_DIR");
        let stack = format!(
            "╼ my_server::run::{{{{closure}}}} at {root}/src/lib.rs:10:5\n\
             \u{a0}\u{a0}└╼ tokio::net::tcp::listener::TcpListener::accept::{{{{closure}}}} at \
             /home/u/.cargo/registry/src/x/tokio-1.54.1/src/net/tcp/listener.rs:1:1\n\
             \u{a0}\u{a0}\u{a0}\u{a0}└╼ tokio::runtime::io::registration::Registration::readiness at \
             /home/u/.cargo/registry/src/x/tokio-1.54.1/src/runtime/io/registration.rs:2:2\n\
             \u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}└╼ tokio::runtime::io::scheduled_io::Readiness::poll at \
             /home/u/.cargo/registry/src/x/tokio-1.54.1/src/runtime/io/scheduled_io.rs:3:3"
        );
        let folded = fold(&stack, root);
        let lines: Vec<&str> = folded.lines().collect();
        assert_eq!(lines.len(), 3, "{folded}");
        assert!(lines[0].ends_with("at src/lib.rs:10:5"), "{folded}");
        assert!(lines[1].contains("… 2 frames (tokio)"), "{folded}");
        assert!(
            lines[2].ends_with("tokio-1.54.1/src/runtime/io/scheduled_io.rs:3:3"),
            "{folded}"
        );
    }
}
