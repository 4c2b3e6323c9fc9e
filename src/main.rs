//! `cargo lab`: the student's entry point to leaklab.
//!
//! It never links a lab. For each command it builds the check binaries it needs (see
//! `build`), runs each as a watched child process (see `runner`), and prints what the
//! checks reported (see `render`), or the reports themselves with `--json`.

mod build;
mod render;
mod runner;

use clap::{Parser, Subcommand};
use labkit::Variant;
use leaklab_checks::{LABS, Lab};
use runner::{LabRuns, run_lab};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "leaklab",
    bin_name = "cargo lab",
    about = "Labs for finding and fixing task leaks and data races in async Rust",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  cargo lab            list the labs\n  cargo lab 1          run lab 1: your copy and the fixed one, side by side\n  cargo lab check 1    grade your copy of lab 1 (exit 0 on pass, 1 on fail)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The lab to run (see `cargo lab list`)
    #[arg(value_parser = parse_lab)]
    lab: Option<&'static Lab>,
    /// Run only your copy (labs/)
    #[arg(long, conflicts_with = "fixed", requires = "lab")]
    broken: bool,
    /// Run only the fixed copy (solutions/)
    #[arg(long, requires = "lab")]
    fixed: bool,
    /// Print the findings as JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// List the labs
    List,
    /// Grade your copy of a lab: PASS (exit 0) or FAIL with the finding (exit 1)
    Check {
        #[arg(value_parser = parse_lab)]
        lab: &'static Lab,
    },
    /// Show a hint for a lab, one at a time
    Hint {
        #[arg(value_parser = parse_lab)]
        lab: &'static Lab,
        /// Which hint (1 is the gentlest)
        #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        number: u32,
    },
    /// Prove a lab's check: it must report the original bug and pass the solution
    Exhibit {
        #[arg(value_parser = parse_lab)]
        lab: &'static Lab,
    },
    /// Put the original broken copy back in labs/ (your copy is backed up first)
    Reset {
        #[arg(value_parser = parse_lab)]
        lab: &'static Lab,
    },
}

fn parse_lab(text: &str) -> Result<&'static Lab, String> {
    let numbers: Vec<String> = LABS.iter().map(|lab| lab.number.to_string()).collect();
    let choices = format!(
        "choose one of {} (`cargo lab list` shows them)",
        numbers.join(", ")
    );
    let number: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a lab number; {choices}"))?;
    leaklab_checks::registry::lab(number).ok_or_else(|| format!("there is no lab {number}; {choices}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.lab) {
        (Some(Command::Check { lab }), _) => {
            let runs = run_lab(lab, &[Variant::Student]);
            let run = &runs.runs[0];
            print(cli.json, &runs, || render::verdict(lab, run));
            if run.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        (Some(Command::Exhibit { lab }), _) => {
            let runs = run_lab(lab, &[Variant::Original, Variant::Solution]);
            print(cli.json, &runs, || render::side_by_side(lab, &runs));
            let proven = !runs.runs[0].passed && runs.runs[1].passed;
            if proven {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        (Some(Command::Hint { lab, number }), _) => hint(lab, number),
        (Some(Command::Reset { lab }), _) => reset(lab),
        (Some(Command::List), _) | (None, None) => {
            if cli.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list_json()).expect("the registry serialises")
                );
            } else {
                print!("{}", render::list(LABS));
            }
            ExitCode::SUCCESS
        }
        (None, Some(lab)) => {
            let variants: &[Variant] = match (cli.broken, cli.fixed) {
                (true, _) => &[Variant::Student],
                (_, true) => &[Variant::Solution],
                _ => &[Variant::Student, Variant::Solution],
            };
            let runs = run_lab(lab, variants);
            print(cli.json, &runs, || render::side_by_side(lab, &runs));
            ExitCode::SUCCESS
        }
    }
}

fn print(json: bool, runs: &LabRuns, text: impl FnOnce() -> String) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(runs).expect("reports serialise")
        );
    } else {
        print!("{}", text());
    }
}

fn list_json() -> serde_json::Value {
    let labs: Vec<_> = LABS
        .iter()
        .map(|lab| {
            serde_json::json!({
                "number": lab.number,
                "slug": lab.slug,
                "title": lab.title,
                "summary": lab.summary,
                "file": lab.student_path(),
                "checks": lab.checks.iter().map(|c| c.name()).collect::<Vec<_>>(),
                "hints": lab.hints.len(),
            })
        })
        .collect();
    serde_json::json!({ "labs": labs })
}

fn hint(lab: &Lab, number: u32) -> ExitCode {
    let Some(text) = lab.hints.get(number as usize - 1) else {
        eprintln!(
            "lab {} has {} hints; ask for 1 to {}",
            lab.number,
            lab.hints.len(),
            lab.hints.len()
        );
        return ExitCode::from(2);
    };
    println!(
        "Lab {} · hint {number} of {}: {text}",
        lab.number,
        lab.hints.len()
    );
    if (number as usize) < lab.hints.len() {
        println!("(next: cargo lab hint {} {})", lab.number, number + 1);
    }
    ExitCode::SUCCESS
}

fn reset(lab: &Lab) -> ExitCode {
    let root = build::workspace_root();
    let (original, yours) = (root.join(lab.original_path()), root.join(lab.student_path()));
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let backup = root
        .join("target/leaklab-backups")
        .join(format!("{}.{stamp}", lab.file));
    let saved = std::fs::create_dir_all(backup.parent().expect("a backup has a folder")).and_then(|()| {
        if yours.exists() {
            std::fs::copy(&yours, &backup).map(|_| ())
        } else {
            Ok(())
        }
    });
    if let Err(e) = saved {
        eprintln!("could not back up {}: {e}; nothing was changed", yours.display());
        return ExitCode::from(2);
    }
    if let Err(e) = std::fs::copy(&original, &yours) {
        eprintln!("could not restore {}: {e}", yours.display());
        return ExitCode::from(2);
    }
    println!(
        "{} is back to the original; your copy is saved as {}",
        lab.student_path(),
        build::relative(&backup)
    );
    ExitCode::SUCCESS
}
