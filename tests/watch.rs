//! `cargo lab watch` re-checks on a save, says when the lab passes, and moves on to the
//! next lab that does not pass, showing its state; the list still calls that lab
//! untouched. A lab asked for by number that passes already is watched, not skipped.
//! (Whether a result belongs to one version of the file is tested in src/cmd/watch.rs.)

mod common;

use common::Scratch;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A backstop only: the first run may build the scratch copy's check binaries.
const PATIENCE: Duration = Duration::from_secs(300);

/// `cargo lab watch ARGS` in the scratch copy, its output read line by line.
struct Watching {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watching {
    fn start(scratch: &Scratch, args: &[&str]) -> Watching {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leaklab"))
            .arg("watch")
            .args(args)
            .env("LEAKLAB_ROOT", &scratch.root)
            .env("CARGO_TARGET_DIR", scratch.root.join("target"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo lab watch");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Watching {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next line that contains `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        while let Ok(line) = self.lines.recv_timeout(PATIENCE) {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no line with `{needle}` in:\n{}", self.seen.join("\n"));
    }

    /// Ends it; everything it printed.
    fn stop(self) -> String {
        self.seen.join("\n")
    }
}

impl Drop for Watching {
    /// Ends the process, also when a test fails while it runs.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_save_that_fixes_the_lab_passes_it_and_moves_on() {
    let scratch = Scratch::lock();
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
    let mut watch = Watching::start(&scratch, &["1"]);
    watch.wait_for("Watching labs/lab01_orphaned_task.rs");
    scratch.write(
        "labs/lab01_orphaned_task.rs",
        &scratch.original("solutions/lab01_orphaned_task.rs"),
    );
    watch.wait_for("✓ Lab 1 passes");
    watch.wait_for("Next: lab 2");
    // Lab 2 is checked (and fails: it is the original) before watch waits for a save.
    // (Not by number: a save that lands as a check starts makes a recheck.)
    watch.wait_for("── lab 2 · check");
    watch.wait_for("Watching labs/lab02");
    let text = watch.stop();
    let lab1 = text.split("Next: lab 2").next().unwrap_or_default();
    assert_eq!(
        lab1.matches("FAIL").count(),
        1,
        "one failing check of lab 1 before the fix:\n{text}"
    );
    // The list: lab 1 passes, and lab 2, checked but never edited, is untouched.
    let (code, list) = scratch.lab(&[]);
    assert_eq!(code, 0, "{list}");
    let line = |n: &str| {
        let found = list.lines().find(|l| l.trim_start().starts_with(n));
        found
            .unwrap_or_else(|| panic!("no lab {n} in:\n{list}"))
            .to_owned()
    };
    assert!(line("1 ").contains("✓ passes"), "{list}");
    assert!(line("2 ").contains("untouched"), "{list}");
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
    scratch.restore();
}

#[test]
fn a_lab_asked_for_that_passes_already_is_watched_until_a_passing_save() {
    let scratch = Scratch::lock();
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
    let solution = scratch.original("solutions/lab01_orphaned_task.rs");
    scratch.write("labs/lab01_orphaned_task.rs", &solution);
    let mut watch = Watching::start(&scratch, &["1"]);
    watch.wait_for("✓ Lab 1 passes");
    // It stays on lab 1, the one asked for, rather than moving on to lab 2.
    let watching = watch.wait_for("Watching labs/");
    assert!(
        watching.contains("labs/lab01_orphaned_task.rs"),
        "{watching}\nin:\n{}",
        watch.seen.join("\n")
    );
    // A save that still passes (a new comment) moves on, as for any lab.
    scratch.write("labs/lab01_orphaned_task.rs", &format!("{solution}\n// Done.\n"));
    watch.wait_for("── lab 1 · check 2");
    watch.wait_for("✓ Lab 1 passes");
    watch.wait_for("Next: lab 2");
    let text = watch.stop();
    assert_eq!(
        text.matches("Next: lab").count(),
        1,
        "it moved on once, after the save:\n{text}"
    );
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
    scratch.restore();
}
