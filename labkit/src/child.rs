//! Every check runs in a child process, and this module is both ends of that.
//!
//! Why a child: some bugs stop a thread for good (a loop with no `.await`, a
//! `std::sync::Mutex` deadlock, a `select!` loop whose cancel branch is always ready).
//! Nothing on that runtime can observe or stop them, so the check runs in a process
//! the runner can watch with a wall clock and kill.
//!
//! Why a nonce: the verdict must come from the check, not from the lab. The parent
//! sends a random nonce on the child's stdin; the child reads it before any lab code
//! runs and signs its report file with it. A lab that calls `std::process::exit(0)`,
//! prints "PASS" or panics leaves no signed report, and the parent says so. The exit
//! code and the child's output are never read as a verdict.

use crate::finding::{Check, Finding, Kind, Report, Variant, Verdict};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that tells a check binary where to write its report.
pub const REPORT_ENV: &str = "LEAKLAB_REPORT";

/// The environment variable that tells a check binary which copy of the workspace it
/// checks (the runner sets it; the current directory is the fallback).
pub const ROOT_ENV: &str = "LEAKLAB_ROOT";

/// The environment variable that asks a check binary to run its lab live, on the real
/// clock, instead of checking it (`cargo lab N --console`; see `check_bin!`).
pub const LIVE_ENV: &str = "LEAKLAB_LIVE";

/// Set (to anything) when the runner wants a picture of the run: the report then
/// carries the timeline of the run that best shows the bug.
pub const TIMELINE_ENV: &str = "LEAKLAB_TIMELINE";

/// The workspace a check binary checks: where it reads a lab's source to point a
/// finding at a line.
pub fn workspace_root() -> PathBuf {
    std::env::var_os(ROOT_ENV)
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

/// How long the check may stand still before the watchdog calls it stuck: a poll that
/// has not returned, a paused runtime with nothing to wake it, or a check with no
/// runtime that stopped calling [`progress`](crate::watchdog::progress). A healthy poll
/// takes microseconds. See [`crate::watchdog`].
pub const STALL_LIMIT: Duration = Duration::from_secs(1);

#[derive(Serialize, Deserialize)]
struct Signed {
    nonce: String,
    report: Report,
}

/// What a check is about: written into every report, checked again by the parent.
#[derive(Clone, Copy, Debug)]
pub struct Meta {
    pub lab: u32,
    pub variant: Variant,
    pub check: Check,
}

impl Meta {
    /// The report of this check, carrying `verdict`.
    pub fn report(self, verdict: Verdict) -> Report {
        Report::of(self.lab, self.variant, self.check, verdict)
    }

    /// A report with one finding: what the parent says when the child could not.
    pub fn failed(self, finding: Finding) -> Report {
        self.report(Verdict {
            findings: vec![finding],
            ..Verdict::default()
        })
    }
}

/// The copy of a lab that a check binary runs.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    pub lab: u32,
    pub variant: Variant,
    /// The copy's file, relative to the workspace: `labs/lab01_orphaned_task.rs`.
    pub file: &'static str,
}

impl Subject {
    /// The workspace-relative path of a file that a check binary includes from
    /// `<crate>/src/bin/`.
    pub fn from_bin(path: &'static str) -> &'static str {
        path.trim_start_matches("../../../")
    }

    /// The first line of this copy that contains `needle`, read when the check runs:
    /// where a finding about code, not a task, points.
    pub fn line_of(&self, needle: &str) -> Option<u32> {
        let text = std::fs::read_to_string(workspace_root().join(self.file)).ok()?;
        let index = text.lines().position(|line| line.contains(needle))?;
        Some(index as u32 + 1)
    }
}

/// A check binary in one line:
///
/// ```text
/// labkit::check_bin!(leaklab_checks, lab01, Yours, "../../../labs/lab01_orphaned_task.rs");
/// ```
///
/// compiles that copy of lab 1 into the binary as the module `lab`, and serves
/// `leaklab_checks::serve` with what the crate's `lab01!` macro makes of it. The crate
/// names its kind of check; `cargo lab dev` writes these files. The crate's `live!`
/// comes first: it runs the lab live instead (`cargo lab N --console`) when asked, and
/// does nothing otherwise.
#[macro_export]
macro_rules! check_bin {
    ($krate:ident, $lab:ident, $variant:ident, $path:literal) => {
        #[allow(dead_code)]
        #[path = $path]
        mod lab;

        fn main() {
            let subject = $crate::child::Subject {
                lab: $krate::$lab::LAB,
                variant: $crate::Variant::$variant,
                file: $crate::child::Subject::from_bin($path),
            };
            $krate::live!($lab, lab, subject);
            $krate::serve(subject, |subject| $krate::$lab!(lab, subject))
        }
    };
}

/// The child's side: run `check`, write its report, and end the process.
///
/// Run by hand (no report path in the environment), it prints the report as JSON, so
/// a check binary is easy to debug on its own.
pub fn serve(meta: Meta, check: impl FnOnce() -> Verdict) -> ! {
    let Some(path) = std::env::var_os(REPORT_ENV).map(PathBuf::from) else {
        let report = run_caught(meta, check);
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report serialises")
        );
        std::process::exit(0);
    };
    // Read the nonce before any lab code runs; the parent closes stdin after it.
    let mut nonce = String::new();
    let _ = std::io::stdin().lock().read_line(&mut nonce);
    let _ = std::io::stdin().lock().read_to_end(&mut Vec::new());
    let nonce = nonce.trim().to_owned();

    let with_timeline = timelines();
    {
        let (path, nonce) = (path.clone(), nonce.clone());
        crate::watchdog::spawn(meta, move |report| {
            report_and_exit(&path, &nonce, with_timeline(report))
        });
    }

    let report = run_caught(meta, check);
    // Exit without dropping the runtime: shutdown would hide leaks, and a stuck
    // task would make it wait forever.
    report_and_exit(&path, &nonce, with_timeline(report))
}

/// With [`TIMELINE_ENV`] set, the detector keeps each run's timeline from now on, and
/// the function returned puts them into a report.
fn timelines() -> impl Fn(Report) -> Report + Copy + Send + 'static {
    let wanted = std::env::var_os(TIMELINE_ENV).is_some();
    #[cfg(feature = "runtime")]
    if wanted {
        crate::detector::timelines::start();
    }
    move |report| {
        #[cfg(feature = "runtime")]
        if wanted {
            let timelines = crate::detector::timelines::taken();
            return Report { timelines, ..report };
        }
        let _ = wanted;
        report
    }
}

fn run_caught(meta: Meta, check: impl FnOnce() -> Verdict) -> Report {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
        Ok(verdict) => meta.report(verdict),
        Err(panic) => {
            let text = panic_message(panic.as_ref());
            meta.failed(Finding::new(
                Kind::Crashed,
                format!("the lab panicked before the check could finish: {text}"),
            ))
        }
    }
}

/// The text a panic was raised with (`panic!("...")`), whatever its payload type.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// The exit code of a check that could not write its report (the reason is on stderr).
pub const REPORT_UNWRITTEN: i32 = 70;

/// Writes the signed report and ends the process: the one way a check child ends.
///
/// The check's thread and the watchdog's may both get here (a stall found just as the
/// check finished): the first one writes and exits, and the other waits on the lock
/// until the process is gone, so two reports never mix in one file. A report that
/// cannot be written (a full disk) is said on stderr, with its own exit code.
fn report_and_exit(path: &Path, nonce: &str, report: Report) -> ! {
    static REPORTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _only_one = REPORTING.lock().unwrap_or_else(|e| e.into_inner());
    let signed = Signed {
        nonce: nonce.to_owned(),
        report,
    };
    let tmp = path.with_extension("partial");
    let written = serde_json::to_vec(&signed)
        .map_err(std::io::Error::other)
        .and_then(|json| std::fs::write(&tmp, json))
        .and_then(|()| std::fs::rename(&tmp, path));
    match written {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!(
                "leaklab: could not write the check's report to {}: {e}",
                path.display()
            );
            std::process::exit(REPORT_UNWRITTEN)
        }
    }
}

/// The parent's side: run one check binary and return its report.
///
/// Whatever happens in the child, the answer is a report: a missing, unsigned or
/// mismatched report becomes a `crashed` finding, and a child that outlives
/// `wall_limit` is killed and reported as a `hang`.
pub fn run_check(exe: &Path, meta: Meta, wall_limit: Duration) -> Report {
    run_check_command(Command::new(exe), meta, wall_limit)
}

/// [`run_check`] for a command with its own arguments or environment.
pub fn run_check_command(mut command: Command, meta: Meta, wall_limit: Duration) -> Report {
    let nonce = fresh_nonce();
    let path = std::env::temp_dir().join(format!("leaklab-{}-{nonce}.json", std::process::id()));
    let exe = PathBuf::from(command.get_program());
    let mut child = match command
        .env(REPORT_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            return meta.failed(Finding::new(
                Kind::Crashed,
                format!("could not start {}: {e}", exe.display()),
            ));
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = writeln!(stdin, "{nonce}");
    }
    // Drain the child's output on threads so a chatty lab cannot block on a full pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());

    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < wall_limit => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let (_out, err) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let found = std::fs::read(&path);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(path.with_extension("partial"));
    // `Err(None)`: no report at all; `Err(Some(what))`: a file that is no report of this check.
    let signed = match found {
        Err(_) => Err(None),
        Ok(bytes) => match serde_json::from_slice::<Signed>(&bytes) {
            Err(e) => Err(Some(format!(
                "a report that does not parse ({} bytes: {e})",
                bytes.len()
            ))),
            Ok(signed)
                if signed.nonce == nonce
                    && signed.report.lab == meta.lab
                    && signed.report.variant == meta.variant
                    && signed.report.check == meta.check =>
            {
                Ok(signed.report)
            }
            Ok(_) => Err(Some("a report this check did not sign".to_owned())),
        },
    };

    match (status, signed) {
        (_, Ok(report)) => report,
        (None, _) => meta.failed(
            Finding::new(
                Kind::Hang,
                format!(
                    "the check did not finish within {} s of wall time and was stopped",
                    wall_limit.as_secs()
                ),
            )
            .measure("wall_limit_ms", wall_limit.as_millis() as u64),
        ),
        (Some(status), Err(found)) => {
            let tail: String = tail_lines(&err, 12);
            let message = match found {
                None => format!(
                    "the process ended ({status}) before the check could report: the lab must not \
                     exit, abort or crash the program"
                ),
                Some(found) => format!(
                    "the process ended ({status}) leaving {found}: the lab must not exit, abort or \
                     crash the program, nor write the check's report"
                ),
            };
            let mut finding = Finding::new(Kind::Crashed, message);
            if !tail.trim().is_empty() {
                finding = finding.with_detail(tail);
            }
            meta.failed(finding)
        }
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// 128 random bits, from the standard library's per-process hash keys.
fn fresh_nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id()));
        h.finish()
    };
    format!("{:016x}{:016x}", word(), word())
}
