//! Building check binaries with cargo: one per lab and copy, and one for the fixtures.
//!
//! One cargo call builds every binary a command needs, with `--keep-going`: a copy that
//! does not compile costs only its own binary, and its compiler errors become that
//! copy's `compile error` finding. Anything else that stops the build (cargo missing, a
//! broken check crate) is the tool's failure, never the student's: it comes back as a
//! [`ToolError`].
//!
//! Copies of leaklab may share one target dir (a grader of many copies does this).
//! Cargo names a workspace's artifacts by their place in the workspace, so two copies
//! write the same `target/debug/lab01-yours`; the check binaries rebuild whenever the
//! copy they are built for changes (`LEAKLAB_ROOT`, below), so a binary built for one
//! copy is never fresh for another. What remains is a race: another copy's build could
//! replace that file between this copy's build and its run. So the build holds a lock
//! in the target dir, and before releasing it copies each executable to a folder of
//! this copy's own (`<target>/leaklab-run/<hash of the copy's path>/`); the checks run
//! from there.

mod progress;

use labkit::{Check, Finding, Kind, Site};
use progress::Progress;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The tool itself could not build its checks: nothing to do with any lab copy.
#[derive(Debug)]
pub struct ToolError(pub String);

/// Each binary asked for: its executable, or the compile error of the copy it holds.
pub type Built = HashMap<String, Result<PathBuf, Finding>>;

/// The package whose binaries run `check`.
fn package(check: Check) -> &'static str {
    match check {
        Check::Scenario => "leaklab-bins",
        Check::Loom => "leaklab-models",
    }
}

/// The finding of a binary whose build was stopped at `timeout`.
pub const BUILD_TIMEOUT: &str = "build_timeout_ms";

/// Builds the named binaries of one kind of check in the copy at `root`, into the
/// target dir `target` (`workspace::target_dir` unless a grader shares one), stopped
/// after `timeout` if one is given: a binary the stopped build had not finished gets a
/// `compile error` finding that measures [`BUILD_TIMEOUT`]. With `announce`, a build
/// that is really compiling shows its progress on stderr (see `progress`).
pub fn build_in(
    root: &Path,
    target: &Path,
    check: Check,
    bins: &[String],
    timeout: Option<Duration>,
    announce: bool,
) -> Result<Built, ToolError> {
    build_with(root, target, check, &[], bins, timeout, announce)
}

/// [`build_in`] with cargo `features` of the check package (`console`, for the live
/// mode; `target` is then a target dir of its own, as the features change tokio's build).
pub fn build_with(
    root: &Path,
    target: &Path,
    check: Check,
    features: &[&str],
    bins: &[String],
    timeout: Option<Duration>,
    announce: bool,
) -> Result<Built, ToolError> {
    let cargo_target = match check {
        Check::Scenario => target.to_path_buf(),
        // loom gets its own target dir next to the usual one (so a shared target dir is
        // shared here too).
        Check::Loom => target.join("loom"),
    };
    std::fs::create_dir_all(&cargo_target)
        .map_err(|e| ToolError(format!("could not create {}: {e}", cargo_target.display())))?;
    let lock = lock_target(&cargo_target, announce).map_err(|e| {
        ToolError(format!(
            "could not lock the target dir {}: {e}",
            cargo_target.display()
        ))
    })?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--keep-going",
            "--message-format=json",
            "--package",
            package(check),
        ])
        .arg("--target-dir")
        .arg(&cargo_target)
        // The build scripts of the check binaries rebuild them when this changes: two
        // clones sharing one target dir never run each other's binaries.
        .env(labkit::child::ROOT_ENV, root);
    if check == Check::Loom {
        // loom replaces std::sync through the shim; it needs its own cfg and, to explore
        // schedules quickly, release mode.
        cmd.arg("--release")
            .env("RUSTFLAGS", "--cfg loom --cfg tokio_unstable")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
    }
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    for bin in bins {
        cmd.args(["--bin", bin]);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    #[cfg(unix)]
    if timeout.is_some() {
        // Its own process group, so that a stopped build stops its compilers too.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    }

    let mut child = cmd
        .spawn()
        .map_err(|e| ToolError(format!("could not run cargo: {e}")))?;
    let what = match (check, features) {
        (Check::Loom, _) => "the loom model (release mode, in its own target dir)".to_owned(),
        (Check::Scenario, []) => "the check binaries".to_owned(),
        (Check::Scenario, _) => format!("the check binaries with feature {}", features.join(", ")),
    };
    let progress = Progress::start(what, announce);
    let done = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    if let Some(limit) = timeout {
        stop_after(child.id(), limit, done.clone(), timed_out.clone());
    }
    let stderr = child.stderr.take().map(|err| {
        let cargo_said = progress.stderr_listener();
        std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                cargo_said(&line);
                text.push_str(&line);
                text.push('\n');
            }
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
        progress.message(&msg);
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
                let rendered = msg["message"]["rendered"].as_str().unwrap_or_default();
                // The check binaries include the lab file by a path relative to
                // themselves: show it as the student knows it.
                entry.0.push(rendered.replace("bins/src/bin/../../../", ""));
                entry.1 = entry.1.take().or_else(|| primary_site(&msg["message"]));
            }
            _ => {}
        }
    }
    let status = child.wait();
    done.store(true, Ordering::SeqCst);
    let cargo_err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    drop(progress);
    for bin in bins {
        if built.contains_key(bin) {
            continue;
        }
        if timed_out.load(Ordering::SeqCst) {
            let limit = timeout.unwrap_or_default();
            let finding = Finding::new(
                Kind::CompileError,
                format!("the lab did not finish compiling within {} s", limit.as_secs()),
            )
            .measure(BUILD_TIMEOUT, limit.as_millis() as u64);
            built.insert(bin.clone(), Err(finding));
            continue;
        }
        // Only errors in the binary's own crate are the copy's: anything else (cargo
        // itself, the check crates) is the tool's.
        let Some((rendered, site)) = errors.remove(bin) else {
            let tail: Vec<&str> = cargo_err.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(ToolError(format!(
                "cargo could not build {bin} ({}):\n{}",
                status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                tail.join("\n")
            )));
        };
        let message = match &site {
            Some(site)
                if leaklab_registry::LAB_FOLDERS
                    .iter()
                    .any(|f| site.file.starts_with(f)) =>
            {
                format!("the lab does not compile at {site}")
            }
            _ => "the lab no longer fits its check: keep the public names and signatures its banner \
                  asks you to keep"
                .to_owned(),
        };
        let finding = Finding::new(Kind::CompileError, message)
            .with_sites(site.into_iter().collect())
            .with_detail(rendered.join("\n"));
        built.insert(bin.clone(), Err(finding));
    }
    let private = cargo_target.join("leaklab-run").join(path_hash(root));
    for exe in built.values_mut().flatten() {
        *exe = private_copy(exe, &private).map_err(|e| {
            ToolError(format!(
                "could not copy {} to {}: {e}",
                exe.display(),
                private.display()
            ))
        })?;
    }
    drop(lock);
    Ok(built)
}

/// Sixteen hex digits of the SHA-256 of a path: a folder name per copy.
fn path_hash(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies `exe` into `folder` unless the copy there is already this build (same size
/// and modification time, which the copy takes from its source).
fn private_copy(exe: &Path, folder: &Path) -> std::io::Result<PathBuf> {
    let name = exe.file_name().ok_or(std::io::ErrorKind::InvalidInput)?;
    let to = folder.join(name);
    let source = std::fs::metadata(exe)?;
    if let Ok(copy) = std::fs::metadata(&to)
        && copy.len() == source.len()
        && copy.modified().ok() == source.modified().ok()
    {
        return Ok(to);
    }
    std::fs::create_dir_all(folder)?;
    let partial = to.with_extension("partial");
    std::fs::copy(exe, &partial)?;
    std::fs::File::options()
        .write(true)
        .open(&partial)?
        .set_modified(source.modified()?)?;
    // A rename replaces the copy whole: a run still reading the old one keeps it.
    std::fs::rename(&partial, &to)?;
    Ok(to)
}

/// Stops the build (cargo and its compilers, in their process group) once `limit` has
/// passed, unless it is `done` by then.
fn stop_after(pid: u32, limit: Duration, done: Arc<AtomicBool>, timed_out: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if done.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        timed_out.store(true, Ordering::SeqCst);
        #[cfg(unix)]
        // SAFETY: a plain kill(2) of the build's process group.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
        #[cfg(not(unix))]
        let _ = pid;
    });
}

/// The first error's primary span, as a site in the workspace.
fn primary_site(message: &Value) -> Option<Site> {
    let span = message["spans"]
        .as_array()?
        .iter()
        .find(|s| s["is_primary"] == true)?;
    Some(Site {
        file: labkit::paths::normalize(span["file_name"].as_str()?),
        line: span["line_start"].as_u64()? as u32,
        count: 1,
        stack: None,
    })
}

/// Takes the lock on the target dir `dir` (see the module doc). If another build holds
/// it for more than a moment and `announce` is set, says so: a wait never looks like a
/// hang.
fn lock_target(dir: &Path, announce: bool) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::create(dir.join("leaklab-build.lock"))?;
    for _ in 0..15 {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(100)),
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
    }
    if announce {
        eprintln!(
            "leaklab: waiting for another leaklab build in {} to finish…",
            dir.display()
        );
    }
    file.lock()?;
    Ok(file)
}
