//! The commands, one file each, and what they share: the copy they work on, `--json`,
//! the exit codes and how a lab number is read.
//!
//! Exit codes: 0 done (or the check passed), 1 a check failed, 2 bad input, 3 the tool
//! itself failed (not the lab's fault).

mod check;
mod console;
mod dev;
mod exhibit;
mod grade;
mod grade_class;
mod hint;
mod list;
mod reset;
mod run;
mod watch;

use crate::compile::ToolError;
use clap::{Parser, Subcommand};
use leaklab_registry::{LABS, Lab};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "leaklab",
    bin_name = "cargo lab",
    about = "Labs for finding and fixing task leaks and data races in async Rust",
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  cargo lab            list the labs\n  cargo lab 1          run lab 1: your copy and the solution, side by side\n  cargo lab check 1    check your copy of lab 1 (exit 0 on pass, 1 on fail)\n  cargo lab hint 1     the first hint for lab 1"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: run::Run,
    /// Print the result as JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// List the labs
    List,
    /// Check your copy of a lab: PASS (exit 0) or FAIL with the finding (exit 1)
    Check(check::Check),
    /// Show a hint for a lab, one at a time
    Hint(hint::Hint),
    /// Prove a lab's check: it must report the original bug and pass the solution
    Exhibit(exhibit::Exhibit),
    /// Put the original broken copy back in labs/ (your copy is backed up first)
    Reset(reset::Reset),
    /// Re-check a lab on every save, and move on to the next when it passes
    Watch(watch::Watch),
    /// Grade every lab of a copy: a table, results.json, junit.xml (exit 0 when all pass)
    Grade(grade::Grade),
    /// Grade a folder of student clones into one summary (class.csv, class.json)
    GradeClass(grade_class::GradeClass),
    /// For leaklab's developers: write what the registry generates, or check it
    Dev(dev::Dev),
}

/// What every command gets: the copy of leaklab to work on, and how to answer.
pub struct Ctx {
    pub root: PathBuf,
    pub json: bool,
}

impl Cli {
    pub fn run(self) -> ExitCode {
        let root = match crate::workspace::root() {
            Ok(root) => root,
            Err(message) => return bad_input(&message),
        };
        let ctx = Ctx {
            root,
            json: self.json,
        };
        match self.command {
            Some(Command::List) => list::run(&ctx),
            Some(Command::Check(cmd)) => cmd.run(&ctx),
            Some(Command::Hint(cmd)) => cmd.run(&ctx),
            Some(Command::Exhibit(cmd)) => cmd.run(&ctx),
            Some(Command::Reset(cmd)) => cmd.run(&ctx),
            Some(Command::Watch(cmd)) => cmd.run(&ctx),
            Some(Command::Grade(cmd)) => cmd.run(&ctx),
            Some(Command::GradeClass(cmd)) => cmd.run(&ctx),
            Some(Command::Dev(cmd)) => cmd.run(&ctx),
            None if self.run.lab.is_none() => list::run(&ctx),
            None => self.run.run(&ctx),
        }
    }
}

/// The words `cargo lab` takes first, besides a lab number.
const COMMANDS: [&str; 10] = [
    "list",
    "check",
    "hint",
    "exhibit",
    "reset",
    "watch",
    "dev",
    "help",
    "grade",
    "grade-class",
];

/// Catches the slips clap would answer confusingly, before it parses: a misspelt
/// command (`cargo lab checkk 1`) and a second word after a lab number (`cargo lab 1 2`).
pub fn preflight(args: &[String]) -> Result<(), String> {
    // The words that are not flags, nor the value after a flag that takes one.
    let takes_value = |flag: &str| flag == "--timeline";
    let words: Vec<&str> = args
        .iter()
        .skip(1)
        .enumerate()
        // `args[i]` is the word before `a` (the program's name before the first).
        .filter(|(i, a)| !a.starts_with('-') && !takes_value(&args[*i]))
        .map(|(_, a)| a.as_str())
        .collect();
    let Some(&first) = words.first() else {
        return Ok(());
    };
    if first.parse::<u32>().is_ok() {
        if let Some(extra) = words.get(1) {
            return Err(format!(
                "`cargo lab {first}` takes one lab number, not `{extra}` after it; \
                 did you mean `cargo lab check {first}` or `cargo lab hint {first} {extra}`?"
            ));
        }
        return Ok(());
    }
    if COMMANDS.contains(&first) {
        return Ok(());
    }
    if first == "lab" {
        let rest = words[1..].join(" ");
        // Suggest only what would work: `cargo lab lab 14` is told there is no lab 14.
        let mut without: Vec<String> = args.to_vec();
        if let Some(at) = without.iter().skip(1).position(|a| a == "lab") {
            without.remove(at + 1);
        }
        preflight(&without)?;
        if let Some(number) = words.get(1).filter(|w| w.parse::<u32>().is_ok()) {
            parse_lab(number)?;
        }
        return Err(format!(
            "`cargo lab` is the command already; did you mean `cargo lab {rest}`?"
        ));
    }
    let closest = COMMANDS
        .iter()
        .min_by_key(|command| distance(first, command))
        .expect("commands");
    let rest: Vec<&str> = words[1..].to_vec();
    let suggestion = [*closest].into_iter().chain(rest).collect::<Vec<_>>().join(" ");
    if distance(first, closest) <= 2 {
        Err(format!(
            "'{first}' is not a command; did you mean `cargo lab {suggestion}`?"
        ))
    } else {
        Err(format!(
            "'{first}' is neither a command nor a lab number; `cargo lab help` lists the commands and \
             `cargo lab list` the labs"
        ))
    }
}

/// Edit distance between two short words.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// Reads a lab number, naming the choices when it is not one.
pub fn parse_lab(text: &str) -> Result<&'static Lab, String> {
    let numbers: Vec<String> = LABS.iter().map(|lab| lab.number.to_string()).collect();
    let choices = format!(
        "choose one of {} (`cargo lab list` shows them)",
        numbers.join(", ")
    );
    let number: u32 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a lab number; {choices}"))?;
    leaklab_registry::lab(number).ok_or_else(|| format!("there is no lab {number}; {choices}"))
}

/// Prints `value` as JSON.
pub fn print_json(value: &impl Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("results serialise")
    );
}

/// Bad input: say what is wrong, exit 2.
pub fn bad_input(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The tool failed, not the lab: say so, exit 3.
pub fn tool_failed(error: ToolError) -> ExitCode {
    eprintln!(
        "leaklab: could not build its checks; this is not your lab's fault.\n{}",
        error.0
    );
    ExitCode::from(3)
}

/// Exit 0 when `passed`, 1 otherwise.
pub fn verdict(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::preflight;

    fn said(words: &str) -> Result<(), String> {
        let args: Vec<String> = std::iter::once("leaklab")
            .chain(words.split_whitespace())
            .map(String::from)
            .collect();
        preflight(&args)
    }

    #[test]
    fn a_doubled_lab_word_is_told_the_command_that_works() {
        let told = said("lab 1").expect_err("`cargo lab lab 1` is a slip");
        assert!(told.contains("did you mean `cargo lab 1`?"), "{told}");
        let told = said("lab chek 1").expect_err("a slip and a misspelling");
        assert!(told.contains("`cargo lab check 1`"), "{told}");
    }

    #[test]
    fn a_doubled_lab_word_is_never_told_a_command_that_fails() {
        let told = said("lab 14").expect_err("there is no lab 14");
        assert!(told.contains("there is no lab 14"), "{told}");
        assert!(!told.contains("did you mean"), "{told}");
    }
}
