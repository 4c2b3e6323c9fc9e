//! `cargo lab N --console`: lab N live, on the real clock, for tokio-console to watch.
//!
//! The check binaries run their lab live when `LIVE_ENV` is set (leaklab-checks'
//! `live`): a request a second until Ctrl-C, with console-subscriber's server up. This
//! builds the one binary needed with the `console` feature, into a target dir of its own
//! (`<target>/console`: the feature changes tokio's, so sharing the default dir would
//! rebuild everything twice), and runs it in the foreground. Ctrl-C reaches both
//! processes; this one waits for the child to print its last count, and exits with it.

use super::Ctx;
use labkit::Variant;
use labkit::child::{LIVE_ENV, ROOT_ENV};
use leaklab_registry::{Check, LAB_FOLDERS, Lab};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The folder under the target dir that the console builds go to.
pub const TARGET: &str = "console";

pub fn run(ctx: &Ctx, lab: &Lab, variant: Variant) -> ExitCode {
    let bin = lab.bin(Check::Scenario, variant);
    let target = crate::workspace::target_dir(&ctx.root).join(TARGET);
    let exe = match build(&ctx.root, &target, &bin) {
        Ok(exe) => exe,
        Err(Failed::Lab) => {
            eprintln!(
                "\nlab {} does not compile (above); `cargo lab check {}` says the same, with a hint",
                lab.number, lab.number
            );
            return ExitCode::from(1);
        }
        Err(Failed::Tool(message)) => {
            eprintln!("leaklab: could not build the console mode; this is not your lab's fault.\n{message}");
            return ExitCode::from(3);
        }
    };
    let mut child = match Command::new(&exe)
        .current_dir(&ctx.root)
        .env(LIVE_ENV, "1")
        .env(ROOT_ENV, &ctx.root)
        .stdin(Stdio::null())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            eprintln!("leaklab: could not start {}: {error}", exe.display());
            return ExitCode::from(3);
        }
    };
    // Ctrl-C goes to the whole foreground group: the child handles it (prints its last
    // count and exits 0); this process only waits for that.
    ignore_ctrl_c();
    match child.wait() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => {
                eprintln!("\nlab {} live: stopped ({status})", lab.number);
                ExitCode::SUCCESS
            }
        },
        Err(error) => {
            eprintln!("leaklab: lost the live run: {error}");
            ExitCode::from(3)
        }
    }
}

enum Failed {
    /// The copy of the lab does not compile: the student's to fix.
    Lab,
    /// Anything else: cargo, the network for the first download, leaklab's own crates.
    Tool(String),
}

/// Builds one check binary with the `console` feature; cargo's progress and the
/// compile errors go to the terminal as they come.
fn build(root: &Path, target: &Path, bin: &str) -> Result<PathBuf, Failed> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--message-format=json",
            "--package",
            "leaklab-bins",
            "--features",
            "console",
            "--bin",
            bin,
        ])
        .arg("--target-dir")
        .arg(target)
        .env(ROOT_ENV, root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Failed::Tool(format!("could not run cargo: {e}")))?;
    let done = Arc::new(AtomicBool::new(false));
    announce_if_slow(done.clone());
    let mut exe = None;
    let mut lab_error = false;
    for line in BufReader::new(child.stdout.take().expect("piped stdout"))
        .lines()
        .map_while(Result::ok)
    {
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") if message["target"]["name"] == bin => {
                exe = message["executable"].as_str().map(PathBuf::from);
            }
            Some("compiler-message") if message["message"]["level"] == "error" => {
                eprint!("{}", message["message"]["rendered"].as_str().unwrap_or_default());
                lab_error |= in_a_lab(&message["message"]);
            }
            _ => {}
        }
    }
    let status = child.wait();
    done.store(true, Ordering::SeqCst);
    match (exe, status) {
        (Some(exe), Ok(status)) if status.success() => Ok(exe),
        _ if lab_error => Err(Failed::Lab),
        (_, status) => Err(Failed::Tool(format!(
            "cargo build --features console of {bin} failed ({})",
            status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())
        ))),
    }
}

/// Whether a compiler error points into a copy of a lab.
fn in_a_lab(message: &Value) -> bool {
    message["spans"].as_array().is_some_and(|spans| {
        spans.iter().any(|span| {
            let file = span["file_name"].as_str().unwrap_or_default();
            LAB_FOLDERS.iter().any(|folder| file.starts_with(folder))
        })
    })
}

/// The first console build compiles the gRPC stack; say so once, so it never looks
/// like a hang.
fn announce_if_slow(done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        if !done.load(Ordering::SeqCst) {
            eprintln!(
                "leaklab: building the live mode with the console feature, in target/{TARGET} (the first \
                 build compiles console-subscriber's gRPC stack and takes minutes; later ones, seconds)…"
            );
        }
    });
}

/// This process ignores Ctrl-C from now on (its child does not: the handler is set
/// after the spawn, and a child's own handler replaces an inherited one anyway).
fn ignore_ctrl_c() {
    #[cfg(unix)]
    // SAFETY: sets the disposition of one signal to "ignore"; no handler code runs.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}
