//! `cargo lab N --console`: lab N live, on the real clock, for tokio-console to watch.
//!
//! The check binaries run their lab live when `LIVE_ENV` is set (leaklab-checks'
//! `live`): a request a second until Ctrl-C, with console-subscriber's server up. This
//! builds the one binary needed with the `console` feature, as the checks are built
//! (`compile::build_with`), into a target dir of its own (`<target>/console`: the
//! feature changes tokio's, so sharing the default dir would rebuild everything twice),
//! and runs it in the foreground. Ctrl-C reaches both processes; this one waits for the
//! child to print its last count, and exits with it.

use super::Ctx;
use labkit::Variant;
use labkit::child::{LIVE_ENV, ROOT_ENV};
use leaklab_registry::{Check, Lab};
use std::process::{Command, ExitCode, Stdio};

/// The folder under the target dir that the console builds go to.
pub const TARGET: &str = "console";

pub fn run(ctx: &Ctx, lab: &Lab, variant: Variant) -> ExitCode {
    let bin = lab.bin(Check::Scenario, variant);
    let target = crate::workspace::target_dir(&ctx.root).join(TARGET);
    let built = crate::compile::build_with(
        &ctx.root,
        &target,
        Check::Scenario,
        &["console"],
        std::slice::from_ref(&bin),
        None,
        true,
    );
    let exe = match built.map(|mut built| built.remove(&bin)) {
        Ok(Some(Ok(exe))) => exe,
        Ok(Some(Err(finding))) => {
            if let Some(errors) = &finding.detail {
                eprintln!("{}", errors.trim_end());
            }
            eprintln!(
                "\nlab {}: {}; `cargo lab check {}` says the same, with a hint",
                lab.number, finding.message, lab.number
            );
            return ExitCode::from(1);
        }
        Ok(None) => return console_failed(&format!("cargo built no {bin}")),
        Err(error) => return console_failed(&error.0),
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

/// The live mode could not be built, and not because of the lab.
fn console_failed(message: &str) -> ExitCode {
    eprintln!("leaklab: could not build the console mode; this is not your lab's fault.\n{message}");
    ExitCode::from(3)
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
