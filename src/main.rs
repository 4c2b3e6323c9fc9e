//! `cargo lab`: the student's entry point to leaklab.
//!
//! It never links a lab. For each command it builds the check binaries it needs
//! (`compile`), runs each as a watched child process (`runner`), and prints what the
//! checks reported (`render`), or the reports themselves with `--json`. Each command
//! is a file in `cmd/`.

mod cmd;
mod compile;
mod dev;
mod grade;
mod render;
mod runner;
mod state;
mod timeline;
mod workspace;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Err(message) = cmd::preflight(&args) {
        return cmd::bad_input(&message);
    }
    cmd::Cli::parse_from(args).run()
}
