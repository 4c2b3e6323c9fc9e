//! `cargo lab watch` re-checks on a save, says when the lab passes, and moves on to the
//! next lab that does not pass, showing its state; the list still calls that lab
//! untouched.

mod common;

use common::Scratch;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A backstop only: the first run may build the scratch copy's check binaries.
const PATIENCE: Duration = Duration::from_secs(300);

#[test]
fn a_save_that_fixes_the_lab_passes_it_and_moves_on() {
    let scratch = Scratch::lock();
    let _ = std::fs::remove_dir_all(scratch.root.join(".leaklab"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .args(["watch", "1"])
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
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| {
        while let Ok(line) = lines.recv_timeout(PATIENCE) {
            seen.push(line.clone());
            if line.contains(needle) {
                return;
            }
        }
        panic!("no line with `{needle}` in:\n{}", seen.join("\n"));
    };
    wait_for("Watching labs/lab01_orphaned_task.rs");
    scratch.write(
        "labs/lab01_orphaned_task.rs",
        &scratch.original("solutions/lab01_orphaned_task.rs"),
    );
    wait_for("✓ Lab 1 passes");
    wait_for("Next: lab 2");
    wait_for("── lab 2 · check 3");
    // Lab 2 is checked (and fails: it is the original) before watch waits for a save.
    wait_for("Watching labs/lab02");
    let _ = child.kill();
    let _ = child.wait();
    let text = seen.join("\n");
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
