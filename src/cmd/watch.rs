//! `cargo lab watch [N]`: re-check on every save, one clear block per run.
//!
//! It starts at lab N (or the first lab that does not pass yet) and checks it at once.
//! Then every save of that lab's file in `labs/` checks it again; an editor's burst of
//! writes is one event (debounced), and a save that changes nothing is not re-checked.
//! When the lab passes it says so, shows the fix in one line, and moves on to the next
//! lab that does not pass, checking it to show where it stands, as rustlings does (the
//! list still calls an unedited lab untouched). A lab asked for by number is watched
//! even when it passes already: the student's next passing save moves on. Ctrl-C ends it.
//!
//! A result belongs to one version of the file: a check builds the file more than once
//! (loom, then real threads), so a save during a check may give it two. Such a result is
//! not shown nor recorded; the new version is checked at once (see [`Version`]).

use super::{Ctx, bad_input, parse_lab, tool_failed};
use crate::state::{self, Standing};
use crate::{render, runner};
use clap::Args;
use labkit::Variant;
use leaklab_registry::{LABS, Lab};
use notify_debouncer_mini::{new_debouncer, notify::RecursiveMode};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

#[derive(Args)]
pub struct Watch {
    /// The lab to start with (default: the first that does not pass yet)
    #[arg(value_parser = parse_lab)]
    lab: Option<&'static Lab>,
}

/// How long the file must be quiet before a check: one save is often several writes.
const DEBOUNCE: Duration = Duration::from_millis(200);

impl Watch {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let standings = state::standings(&ctx.root, LABS);
        let unfinished = |after: u32| {
            LABS.iter()
                .zip(&standings)
                .find(|(lab, standing)| lab.number >= after && **standing != Standing::Passing)
                .map(|(lab, _)| lab)
        };
        let Some(mut lab) = self.lab.or_else(|| unfinished(1)) else {
            println!("Every lab passes. `cargo lab` lists them.");
            return ExitCode::SUCCESS;
        };
        let (tx, events) = mpsc::channel();
        let mut debouncer = match new_debouncer(DEBOUNCE, tx) {
            Ok(debouncer) => debouncer,
            Err(e) => return bad_input(&format!("cannot watch files here: {e}")),
        };
        let folder = ctx.root.join(Variant::Yours.folder());
        if let Err(e) = debouncer.watcher().watch(&folder, RecursiveMode::NonRecursive) {
            return bad_input(&format!("cannot watch {}: {e}", folder.display()));
        }
        let mut checks = 0;
        // Until its first verdict, the lab the student asked for by number.
        let mut asked = self.lab.is_some();
        loop {
            let file = ctx.root.join(lab.path(Variant::Yours));
            checks += 1;
            let clock = time_of_day();
            println!("\n── lab {} · check {checks} · {clock} ──", lab.number);
            let version = Version::start(state::digest(&file));
            let record = state::recorded(&ctx.root, lab);
            let runs = match runner::run_lab(&ctx.root, lab, &[Variant::Yours]) {
                Ok(runs) => runs,
                Err(error) => return tool_failed(error),
            };
            if version.end(&state::digest(&file)) == Outcome::Stale {
                // The runner recorded this result for the new version: take it back.
                state::put_back(&ctx.root, lab, record);
                println!("You saved again while it was checking: checking the new version.");
                continue;
            }
            let run = &runs.runs[0];
            // Only the first verdict on the lab asked for keeps it when it passes.
            let stay = std::mem::take(&mut asked);
            let hint = state::next_hint(&ctx.root, lab, render::fitting_hint(lab, run));
            print!("{}", render::verdict(lab, run, hint));
            if run.passed {
                println!("✓ Lab {} passes. The fix, in one line: {}.", lab.number, lab.fix);
            }
            if run.passed && stay {
                println!(
                    "You asked for lab {}: watching it; your next passing save moves on.",
                    lab.number
                );
            } else if run.passed {
                let next = LABS.iter().filter(|next| next.number > lab.number).find(|next| {
                    state::standings(&ctx.root, std::slice::from_ref(*next))[0] != Standing::Passing
                });
                match next {
                    Some(next) => {
                        println!(
                            "Next: lab {} · {} ({})",
                            next.number,
                            next.title,
                            next.path(Variant::Yours)
                        );
                        lab = next;
                        continue;
                    }
                    None => {
                        println!("Every lab passes. Well done.");
                        return ExitCode::SUCCESS;
                    }
                }
            }
            println!("Watching {} (Ctrl-C to stop)…", lab.path(Variant::Yours));
            // Wait for a save that changed the file.
            loop {
                match events.recv() {
                    Ok(Ok(batch)) if batch.iter().any(|event| event.path == file) => {
                        if version.saved(&state::digest(&file)) {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return ExitCode::from(3),
                }
            }
        }
    }
}

/// What a check's result is, once it ends.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The file was the same at the end as at the start: the result is its verdict.
    Verdict,
    /// The file changed during the check: its builds may have read two versions.
    Stale,
}

/// The version of the lab file (its SHA-256; `None`: unreadable) a check started from.
/// A check's result and every later save are judged against it, never against the file
/// as it was when the check ended: a save that landed during the check, whose debounced
/// event is read only after it, still differs from it and is checked.
#[derive(Debug)]
struct Version {
    checked: Option<String>,
}

impl Version {
    /// A check starts, reading the file as it is now.
    fn start(now: Option<String>) -> Self {
        Version { checked: now }
    }

    /// The check ended with the file as `now`.
    fn end(&self, now: &Option<String>) -> Outcome {
        if *now == self.checked {
            Outcome::Verdict
        } else {
            Outcome::Stale
        }
    }

    /// A save (events on the file, during the check or after it) left the file as `now`:
    /// it calls for a check only if the content differs from the version checked, so a
    /// `touch` does not.
    fn saved(&self, now: &Option<String>) -> bool {
        *now != self.checked
    }
}

/// The wall-clock time of day (UTC), `HH:MM:SS`, for the block headers.
fn time_of_day() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::{Outcome, Version};

    fn sha(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn a_save_during_a_check_makes_its_result_stale() {
        let version = Version::start(sha("first"));
        assert_eq!(version.end(&sha("second")), Outcome::Stale);
        // The recheck starts from the new version; its result is a verdict.
        let again = Version::start(sha("second"));
        assert_eq!(again.end(&sha("second")), Outcome::Verdict);
        // The debounced event of that save, read after the recheck, asks for nothing.
        assert!(!again.saved(&sha("second")));
    }

    #[test]
    fn a_save_whose_event_is_read_after_the_check_is_not_lost() {
        // Judged against the version the check started from, whatever the file was at its
        // end: the event of a save that landed during the check is read only after it.
        let version = Version::start(sha("first"));
        let _ = version.end(&sha("second"));
        assert!(version.saved(&sha("second")));
        let version = Version::start(sha("first"));
        assert_eq!(version.end(&sha("first")), Outcome::Verdict);
        assert!(version.saved(&sha("second")));
    }

    #[test]
    fn a_save_that_changes_nothing_is_not_checked() {
        let version = Version::start(sha("first"));
        assert_eq!(version.end(&sha("first")), Outcome::Verdict);
        assert!(!version.saved(&sha("first")));
    }
}
