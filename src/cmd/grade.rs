//! `cargo lab grade`: grades every lab of a copy (or one, `cargo lab grade N`) into a
//! table, `results.json`, `junit.xml` and `summary.md`.
//!
//! In place, the copy is checked against its manifest first; with `--student DIR`, only
//! `DIR/labs/lab*.rs` are graded, in a clean copy of this one. Exit 0 when every lab
//! passes, 1 otherwise, 2 on bad input, 3 when the tool itself failed. GRADING.md is
//! the instructor's guide.

use super::{Ctx, bad_input, parse_lab, print_json};
use crate::grade::hidden::{self, Hidden};
use crate::grade::limits::Limits;
use crate::grade::scratch::Scratch;
use crate::grade::{self, Options, Outcome, results::Status};
use clap::Args;
use leaklab_registry::{LABS, Lab};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The environment variable that pins the manifest when `--manifest-sha256` is not
/// given (a CI variable the student cannot edit); empty means not pinned.
pub const PIN_ENV: &str = "LEAKLAB_MANIFEST_SHA256";

/// How each check may run and what it is given: shared with `grade-class`.
#[derive(Args)]
pub struct Limited {
    /// Hidden cases to add, a JSON file (format in GRADING.md) [env: LEAKLAB_HIDDEN]
    #[arg(long, value_name = "FILE")]
    hidden: Option<PathBuf>,
    /// Wall-time limit of each check, in seconds [default: 30 for a scenario, 120 for a loom model]
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Memory limit of each check (RLIMIT_DATA), in MiB [default: 512]
    #[arg(long, value_name = "MIB")]
    memory: Option<u64>,
    /// A build of the checks that takes longer is stopped, in seconds [default: 900]
    #[arg(long, value_name = "SECS")]
    build_timeout: Option<u64>,
}

impl Limited {
    /// The grading options for `labs`, or what is wrong with the flags.
    pub fn options(&self, labs: Vec<&'static Lab>) -> Result<Options, String> {
        let mut limits = Limits::default();
        if let Some(secs) = self.timeout {
            if secs == 0 {
                return Err("--timeout must be at least 1 second".into());
            }
            limits = limits.with_wall(Duration::from_secs(secs));
        }
        if let Some(mib) = self.memory {
            if mib < 16 {
                return Err("--memory must be at least 16 MiB".into());
            }
            limits.memory = mib << 20;
        }
        let hidden_path = self.hidden.clone().or_else(|| {
            std::env::var_os(hidden::ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let hidden = hidden_path.as_deref().map(Hidden::load).transpose()?;
        Ok(Options {
            labs,
            limits,
            hidden,
            pin: None,
            build_timeout: Duration::from_secs(self.build_timeout.unwrap_or(900).max(1)),
            build_only: false,
            announce: true,
        })
    }
}

#[derive(Args)]
pub struct Grade {
    /// Grade only this lab (what a platform's per-lab test runs)
    lab: Option<String>,
    /// Grade the labs of the student's clone DIR in a clean copy of this one: only DIR/labs/lab*.rs are read
    #[arg(long, value_name = "DIR")]
    student: Option<PathBuf>,
    /// Where to write results.json, junit.xml and summary.md [default: .leaklab/results/]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The SHA-256 that classroom/manifest.sha256 must have (in place) [env: LEAKLAB_MANIFEST_SHA256]
    #[arg(long, value_name = "HEX")]
    manifest_sha256: Option<String>,
    /// Build every lab's checks and run none (a platform's setup step)
    #[arg(long)]
    build_only: bool,
    #[command(flatten)]
    limited: Limited,
}

impl Grade {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let labs: Vec<&'static Lab> = match &self.lab {
            Some(text) => match parse_lab(text) {
                Ok(lab) => vec![lab],
                Err(message) => return bad_input(&message),
            },
            None => LABS.iter().collect(),
        };
        let mut options = match self.limited.options(labs) {
            Ok(options) => options,
            Err(message) => return bad_input(&message),
        };
        options.build_only = self.build_only;
        let pin = self
            .manifest_sha256
            .clone()
            .or_else(|| std::env::var(PIN_ENV).ok())
            .filter(|pin| !pin.trim().is_empty());
        if let Some(pin) = &pin {
            if pin.len() != 64 || !pin.bytes().all(|b| b.is_ascii_hexdigit()) {
                return bad_input(&format!("--manifest-sha256 must be 64 hex digits, not '{pin}'"));
            }
            if self.student.is_some() && self.manifest_sha256.is_some() {
                return bad_input(
                    "--manifest-sha256 pins the manifest of a copy graded in place; --student grades with this \
                     copy's own checks",
                );
            }
        }
        options.pin = pin;
        let target = crate::workspace::target_dir(&ctx.root);
        let outcome = match &self.student {
            None => grade::in_place(&ctx.root, &target, &options),
            Some(dir) => {
                if !dir.join("labs").is_dir() {
                    return bad_input(&format!(
                        "{} is not a clone of leaklab (it has no labs/ folder)",
                        dir.display()
                    ));
                }
                let scratch = match Scratch::take(&target) {
                    Ok(scratch) => scratch,
                    Err(problem) => return super::tool_failed(crate::compile::ToolError(problem)),
                };
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                grade::student(&ctx.root, &target, &dir, &scratch, &options)
            }
        };
        if self.build_only {
            return built(&outcome);
        }
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| ctx.root.join(".leaklab/results"));
        report(ctx, &outcome, &out)
    }
}

/// Prints the results (the table, or JSON) and writes the files; the exit code.
fn report(ctx: &Ctx, outcome: &Outcome, out: &Path) -> ExitCode {
    let results = &outcome.results;
    let written = results.write(out);
    if ctx.json {
        print_json(results);
    } else {
        print!("{}", results.table());
        match &written {
            Ok(files) => {
                let names: Vec<String> = files
                    .iter()
                    .map(|f| crate::workspace::relative(&ctx.root, f))
                    .collect();
                println!("results: {}", names.join(", "));
            }
            Err(e) => eprintln!("error: could not write the results to {}: {e}", out.display()),
        }
    }
    if outcome.tool_failed {
        ExitCode::from(3)
    } else {
        super::verdict(results.status == Status::Pass)
    }
}

/// What `--build-only` says: the labs that do not compile (their tests will say so
/// too), or why nothing could be built.
fn built(outcome: &Outcome) -> ExitCode {
    let results = &outcome.results;
    if let Some(message) = &results.message {
        println!("ERROR {message}");
        return ExitCode::from(if outcome.tool_failed { 3 } else { 1 });
    }
    for lab in results.labs.iter().filter(|lab| lab.status != Status::Pass) {
        println!("lab {}: {}", lab.number, lab.message);
    }
    println!("built the checks of {} labs", results.labs.len());
    ExitCode::SUCCESS
}
