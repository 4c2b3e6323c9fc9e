//! `cargo lab watch [N]`: re-check on every save, one clear block per run.
//!
//! It starts at lab N (or the first lab that does not pass yet) and checks it at once.
//! Then every save of that lab's file in `labs/` checks it again; an editor's burst of
//! writes is one event (debounced), and a save that changes nothing is not re-checked.
//! When the lab passes it says so, shows the fix in one line, and moves on to the next
//! lab that does not pass, checking it to show where it stands, as rustlings does (the
//! list still calls an unedited lab untouched). Ctrl-C ends it.

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
        loop {
            let file = ctx.root.join(lab.path(Variant::Yours));
            checks += 1;
            let clock = time_of_day();
            println!("\n── lab {} · check {checks} · {clock} ──", lab.number);
            let runs = match runner::run_lab(&ctx.root, lab, &[Variant::Yours]) {
                Ok(runs) => runs,
                Err(error) => return tool_failed(error),
            };
            let run = &runs.runs[0];
            let hint = state::next_hint(&ctx.root, lab, render::fitting_hint(lab, run));
            print!("{}", render::verdict(lab, run, hint));
            let mut checked = state::digest(&file);
            if run.passed {
                println!("✓ Lab {} passes. The fix, in one line: {}.", lab.number, lab.fix);
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
                        let now = state::digest(&file);
                        if now != checked {
                            checked = now;
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
