//! Building check binaries, one per lab and copy, with cargo.
//!
//! Each lab file is compiled into binaries of its own (see `checks/src/lib.rs`), so one
//! cargo call builds the binaries a command needs with `--keep-going`: a lab that does
//! not compile costs only its own binaries, and its compiler errors become a finding.

use labkit::{Finding, Kind, Site};
use leaklab_checks::Check;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The workspace the runner was built from: where labs/ and the check crates live.
/// `LEAKLAB_ROOT` points it at another copy (the tests use this to check altered labs
/// without touching yours).
pub fn workspace_root() -> PathBuf {
    std::env::var_os("LEAKLAB_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// What one build produced: an executable, or the finding that says why not.
pub type Built = HashMap<String, Result<PathBuf, Finding>>;

/// Builds the named binaries of one kind of check. Never fails as a whole: each binary
/// gets its executable or a `compile error` finding.
pub fn build(check: Check, bins: &[String]) -> Built {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--keep-going", "--message-format=json"]);
    match check {
        Check::Scenario => {
            cmd.args(["--package", "leaklab-checks"]);
        }
        Check::Loom => {
            // loom replaces std::sync through the shim; it needs its own cfg, target dir
            // and, to explore schedules quickly, release mode.
            cmd.args(["--package", "leaklab-models", "--release", "--target-dir"])
                .arg(root.join("target/loom"));
            cmd.env("RUSTFLAGS", "--cfg loom --cfg tokio_unstable")
                .env_remove("CARGO_ENCODED_RUSTFLAGS");
        }
    }
    for bin in bins {
        cmd.args(["--bin", bin]);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());

    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => return fail_all(bins, format!("could not run cargo: {e}")),
    };
    let done = Arc::new(AtomicBool::new(false));
    announce_if_slow(check, done.clone());
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text);
            text
        })
    });
    let mut built: Built = HashMap::new();
    let mut errors: HashMap<String, (Vec<String>, Option<Site>)> = HashMap::new();
    for line in BufReader::new(child.stdout.take().expect("piped stdout"))
        .lines()
        .map_while(Result::ok)
    {
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let target = msg["target"]["name"].as_str().unwrap_or_default().to_owned();
        if !bins.contains(&target) {
            continue;
        }
        match msg["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(exe) = msg["executable"].as_str() {
                    built.insert(target, Ok(PathBuf::from(exe)));
                }
            }
            Some("compiler-message") if msg["message"]["level"] == "error" => {
                let entry = errors.entry(target).or_default();
                entry
                    .0
                    .push(msg["message"]["rendered"].as_str().unwrap_or_default().to_owned());
                entry.1 = entry.1.take().or_else(|| primary_site(&msg["message"]));
            }
            _ => {}
        }
    }
    let status = child.wait();
    done.store(true, Ordering::SeqCst);
    let cargo_err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    for bin in bins {
        if built.contains_key(bin) {
            continue;
        }
        let finding = match errors.remove(bin) {
            Some((rendered, site)) => {
                let place = site.as_ref().map(|s| format!(" at {s}")).unwrap_or_default();
                Finding::new(Kind::CompileError, format!("the lab does not compile{place}"))
                    .with_sites(site.into_iter().collect())
                    .with_detail(rendered.join("\n"))
            }
            None => Finding::new(
                Kind::CompileError,
                format!("cargo could not build {bin} ({status:?})"),
            )
            .with_detail(cargo_err.clone()),
        };
        built.insert(bin.clone(), Err(finding));
    }
    built
}

fn fail_all(bins: &[String], why: String) -> Built {
    bins.iter()
        .map(|b| (b.clone(), Err(Finding::new(Kind::CompileError, why.clone()))))
        .collect()
}

/// The first error's primary span, as a site in the workspace.
fn primary_site(message: &Value) -> Option<Site> {
    let span = message["spans"]
        .as_array()?
        .iter()
        .find(|s| s["is_primary"] == true)?;
    let file = labkit::detector::normalize(span["file_name"].as_str()?);
    Some(Site {
        file,
        line: span["line_start"].as_u64()? as u32,
        count: 1,
        stack: None,
    })
}

/// Cargo is quiet when nothing needs building. When a build does take a while (the
/// first one compiles tokio), say so once, so a cold start never looks like a hang.
fn announce_if_slow(check: Check, done: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        if !done.load(Ordering::SeqCst) {
            let what = match check {
                Check::Scenario => "the check binaries",
                Check::Loom => "the loom model (release mode, in target/loom)",
            };
            eprintln!("leaklab: compiling {what}; the first build takes a while, later runs are instant");
        }
    });
}

/// The binary that runs `check` for lab `number` against one copy.
pub fn bin_name(number: u32, variant: labkit::Variant) -> String {
    format!("lab{number:02}-{}", variant.as_str())
}

/// Shortens `path` to be relative to the workspace when it is inside it.
pub fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}
