//! What a build of the checks shows while it runs.
//!
//! Most builds find everything up to date and take a fraction of a second: those show
//! nothing. A build that is really compiling (cargo reports a crate it built rather than
//! found fresh) and has taken more than a moment shows how far it has got, from the
//! `compiler-artifact` messages of cargo's JSON stream: on a terminal a line updated in
//! place, otherwise (a CI log, a pipe) a line every [`LINE_EVERY`]. A build that has said
//! nothing for [`SILENT_FOR`] (cargo waiting for a lock, fetching crates, or compiling
//! one crate for a long time) says so too, so a wait never looks like a hang.
//!
//! Cargo's JSON stream does not give the number of crates still to build, so the count
//! is of crates done, with the name of the last one.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A build shorter than this shows nothing.
const SHOW_AFTER: Duration = Duration::from_millis(1500);
/// A build that has compiled nothing yet shows itself after this (it may be waiting).
const SILENT_FOR: Duration = Duration::from_secs(5);
/// Off a terminal, how often a line says how far the build has got.
const LINE_EVERY: Duration = Duration::from_secs(10);

/// Shows the progress of one cargo build on stderr (see the module doc); it ends when
/// dropped.
pub struct Progress {
    events: Option<Sender<Event>>,
    thread: Option<JoinHandle<()>>,
}

enum Event {
    /// A crate built (or, `fresh`, found up to date).
    Artifact { name: String, fresh: bool },
    /// Cargo is waiting for another cargo's lock on the same files.
    Blocked,
}

/// What the build has reported so far.
#[derive(Debug, Default)]
struct Seen {
    compiled: usize,
    fresh: usize,
    last: Option<String>,
    blocked: bool,
}

impl Progress {
    /// The progress of building `what` ("the check binaries"); with `show` false it
    /// shows nothing (a caller with a progress display of its own).
    pub fn start(what: String, show: bool) -> Progress {
        if !show {
            return Progress {
                events: None,
                thread: None,
            };
        }
        let (events, received) = mpsc::channel();
        let thread = std::thread::spawn(move || show_until_done(&what, &received));
        Progress {
            events: Some(events),
            thread: Some(thread),
        }
    }

    /// A message of cargo's JSON stream (only `compiler-artifact` counts).
    pub fn message(&self, message: &Value) {
        if message["reason"] != "compiler-artifact" {
            return;
        }
        // A build script's compilation is a step of its crate, not a crate.
        let kinds = message["target"]["kind"].as_array();
        if kinds.is_some_and(|kinds| kinds.iter().any(|kind| kind == "custom-build")) {
            return;
        }
        let name = message["target"]["name"].as_str().unwrap_or_default().to_owned();
        let fresh = message["fresh"].as_bool().unwrap_or(false);
        self.send(Event::Artifact { name, fresh });
    }

    /// What to call with each line cargo writes on stderr (from the thread that reads
    /// them).
    pub fn stderr_listener(&self) -> impl Fn(&str) + Send + 'static {
        let events = self.events.clone();
        move |line: &str| {
            if let Some(events) = &events
                && line.trim_start().starts_with("Blocking waiting for file lock")
            {
                let _ = events.send(Event::Blocked);
            }
        }
    }

    fn send(&self, event: Event) {
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // Closing the channel ends the display.
        self.events = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs the display until the build's side of the channel closes.
fn show_until_done(what: &str, events: &mpsc::Receiver<Event>) {
    let started = Instant::now();
    let mut seen = Seen::default();
    let mut display: Option<Display> = None;
    loop {
        match events.recv_timeout(Duration::from_millis(250)) {
            Ok(Event::Artifact { name, fresh }) => {
                if fresh {
                    seen.fresh += 1;
                } else {
                    seen.compiled += 1;
                }
                seen.last = Some(name);
            }
            Ok(Event::Blocked) => seen.blocked = true,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let elapsed = started.elapsed();
        if display.is_none() && visible(&seen, elapsed) {
            display = Some(Display::new(elapsed));
        }
        if let Some(display) = &mut display {
            display.update(&status(what, &seen), first_build(&seen), elapsed);
        }
    }
    if let Some(display) = display {
        display.finish();
        let secs = started.elapsed().as_secs();
        eprintln!("leaklab: built {what} in {secs} s ({})", crates(seen.compiled));
    }
}

/// Whether a build that has run for `elapsed` and reported `seen` shows itself.
fn visible(seen: &Seen, elapsed: Duration) -> bool {
    elapsed >= SHOW_AFTER && (seen.compiled > 0 || seen.blocked || elapsed >= SILENT_FOR)
}

/// One line on how far the build has got.
fn status(what: &str, seen: &Seen) -> String {
    if seen.blocked && seen.compiled == 0 {
        return format!("building {what}: waiting for another cargo command to release its lock");
    }
    match seen.last.as_deref().filter(|_| seen.compiled > 0) {
        Some(last) => format!("building {what}: {} (last: {last})", crates(seen.compiled)),
        None => format!("building {what}"),
    }
}

/// A note for a build that is compiling and found nothing up to date: a first build,
/// which compiles tokio and the rest.
fn first_build(seen: &Seen) -> Option<&'static str> {
    let first = seen.compiled > 0 && seen.fresh == 0;
    first.then_some("the first build takes minutes, later ones seconds")
}

fn crates(n: usize) -> String {
    match n {
        1 => "1 crate compiled".to_owned(),
        n => format!("{n} crates compiled"),
    }
}

/// A spinner on a terminal, otherwise a line now and then.
enum Display {
    Bar(ProgressBar),
    Lines { last: Option<Duration> },
}

impl Display {
    /// A display for a build that started `elapsed` ago.
    fn new(elapsed: Duration) -> Display {
        let bar = ProgressBar::new_spinner().with_elapsed(elapsed);
        if bar.is_hidden() {
            return Display::Lines { last: None };
        }
        let style = ProgressStyle::with_template("{spinner} leaklab: {wide_msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(120));
        Display::Bar(bar)
    }

    /// Shows `status`, with `note` on a terminal and in the first line off one.
    fn update(&mut self, status: &str, note: Option<&str>, elapsed: Duration) {
        match self {
            Display::Bar(bar) => match note {
                Some(note) => bar.set_message(format!("{status}; {note}")),
                None => bar.set_message(status.to_owned()),
            },
            Display::Lines { last } => {
                if line_due(*last, elapsed) {
                    let note = note.filter(|_| last.is_none()).map(|n| format!("; {n}"));
                    let secs = elapsed.as_secs();
                    eprintln!("leaklab: {status}{} ({secs} s so far)", note.unwrap_or_default());
                    *last = Some(elapsed);
                }
            }
        }
    }

    fn finish(self) {
        if let Display::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// Off a terminal: whether a line is due at `now`, the last one written at `last`.
fn line_due(last: Option<Duration>, now: Duration) -> bool {
    last.is_none_or(|last| now.saturating_sub(last) >= LINE_EVERY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn an_up_to_date_build_shows_nothing_however_slow_cargo_is_to_say_so() {
        let fresh = Seen {
            fresh: 212,
            last: Some("lab01_yours".into()),
            ..Seen::default()
        };
        assert!(!visible(&fresh, secs(0.2)));
        assert!(!visible(&fresh, secs(4.9)));
    }

    #[test]
    fn a_compiling_build_shows_itself_after_a_moment() {
        let compiling = Seen {
            compiled: 3,
            last: Some("tokio".into()),
            ..Seen::default()
        };
        assert!(!visible(&compiling, secs(1.0)));
        assert!(visible(&compiling, secs(1.5)));
    }

    #[test]
    fn a_silent_or_blocked_build_shows_itself_too() {
        assert!(!visible(&Seen::default(), secs(4.0)));
        assert!(visible(&Seen::default(), secs(5.0)));
        let blocked = Seen {
            blocked: true,
            ..Seen::default()
        };
        assert!(visible(&blocked, secs(1.5)));
        assert!(status("the checks", &blocked).contains("waiting for another cargo command"));
        assert_eq!(status("the checks", &Seen::default()), "building the checks");
        assert_eq!(first_build(&blocked), None, "a wait is not a first build");
    }

    #[test]
    fn the_status_counts_compiled_crates_and_names_the_last() {
        let cold = Seen {
            compiled: 57,
            last: Some("tokio_util".into()),
            ..Seen::default()
        };
        assert_eq!(
            status("the check binaries", &cold),
            "building the check binaries: 57 crates compiled (last: tokio_util)"
        );
        assert!(first_build(&cold).is_some());
        let warm = Seen {
            compiled: 1,
            fresh: 211,
            last: Some("lab01_yours".into()),
            blocked: false,
        };
        assert_eq!(
            status("the check binaries", &warm),
            "building the check binaries: 1 crate compiled (last: lab01_yours)"
        );
        assert_eq!(first_build(&warm), None);
    }

    #[test]
    fn off_a_terminal_a_line_comes_every_ten_seconds() {
        assert!(line_due(None, secs(1.5)));
        assert!(!line_due(Some(secs(1.5)), secs(11.4)));
        assert!(line_due(Some(secs(1.5)), secs(11.5)));
    }

    #[test]
    fn only_crates_count_not_build_scripts_or_other_messages() {
        let (events, received) = mpsc::channel();
        let progress = Progress {
            events: Some(events),
            thread: None,
        };
        let artifact = |name: &str, kind: &str, fresh: bool| {
            serde_json::json!({
                "reason": "compiler-artifact",
                "target": {"name": name, "kind": [kind]},
                "fresh": fresh,
            })
        };
        progress.message(&artifact("build-script-build", "custom-build", false));
        progress.message(&artifact("tokio", "lib", false));
        progress.message(&artifact("serde", "lib", true));
        progress.message(&serde_json::json!({"reason": "build-script-executed"}));
        let cargo_said = progress.stderr_listener();
        cargo_said("    Blocking waiting for file lock on build directory");
        cargo_said("   Compiling tokio v1.54.1");
        drop(cargo_said);
        drop(progress);
        let got: Vec<String> = received
            .iter()
            .map(|event| match event {
                Event::Artifact { name, fresh } => format!("{name} {fresh}"),
                Event::Blocked => "blocked".to_owned(),
            })
            .collect();
        assert_eq!(got, ["tokio false", "serde true", "blocked"]);
    }
}
