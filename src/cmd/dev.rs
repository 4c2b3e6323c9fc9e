//! `cargo lab dev`: for leaklab's developers.
//!
//! - `cargo lab dev` writes everything the registry generates (see `crate::dev`),
//!   the grading manifest and the Classroom 50 tests among it, then runs every lab's
//!   original and solution and writes what the book shows of them
//!   (`book/src/generated/`: each lab's picture and its `cargo lab N` output).
//! - `cargo lab dev --check` changes nothing and fails (exit 1) on any drift: a stale
//!   generated file or book output, a missing file, an original without its TODO
//!   banner, an original that passes its check or a solution that fails it (each lab's
//!   exhibit). One run of each copy serves both the exhibits and the book.
//! - `cargo lab dev fixtures [N]` runs every fixture (or lab N's) and fails when one is
//!   not classified as its header says.

use super::{Ctx, print_json, tool_failed};
use crate::compile::ToolError;
use crate::dev::Generated;
use crate::runner::LabRuns;
use crate::{dev, render, runner};
use clap::{Args, Subcommand};
use labkit::{Kind, Variant};
use leaklab_registry::{Expect, LABS, Lab};
use std::process::ExitCode;

#[derive(Args)]
pub struct Dev {
    #[command(subcommand)]
    what: Option<What>,
    /// Change nothing; fail when anything generated is stale or a lab is incomplete
    #[arg(long)]
    check: bool,
}

#[derive(Subcommand)]
enum What {
    /// Run the fixtures (fixtures/labNN/{wrong,right}/*.rs) and compare with their headers
    Fixtures {
        /// Only this lab's fixtures
        lab: Option<u32>,
    },
}

impl Dev {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        match self.what {
            Some(What::Fixtures { lab }) => fixtures(ctx, lab),
            None if self.check => check(ctx),
            None => write(ctx),
        }
    }
}

/// Runs the original and the solution of every lab, asking each check for its
/// timeline: what the exhibits judge and the book shows.
fn run_every_lab(ctx: &Ctx) -> Result<Vec<LabRuns>, ToolError> {
    let setup = runner::Setup::of(&ctx.root).with_timelines();
    let variants = [Variant::Original, Variant::Solution];
    LABS.iter()
        .map(|lab| runner::run_lab_in(&ctx.root, &setup, lab, &variants))
        .collect()
}

fn write(ctx: &Ctx) -> ExitCode {
    let generated = match dev::generate(&ctx.root) {
        Ok(generated) => generated,
        Err(problem) => return super::bad_input(&problem),
    };
    for path in dev::stale_bins(&ctx.root, &generated) {
        println!("removed {}", crate::workspace::relative(&ctx.root, &path));
        let _ = std::fs::remove_file(path);
    }
    // The registry's files first: the labs' check binaries are among them.
    if let Err(code) = write_files(ctx, &generated) {
        return code;
    }
    let mut problems = dev::file_problems(&ctx.root);
    if problems.is_empty() {
        let runs = match run_every_lab(ctx) {
            Ok(runs) => runs,
            Err(error) => return tool_failed(error),
        };
        let book: Vec<Generated> = LABS
            .iter()
            .zip(runs)
            .flat_map(|(lab, runs)| dev::book_outputs(&ctx.root, lab, runs))
            .collect();
        for path in dev::stale_book_outputs(&ctx.root, &book) {
            println!("removed {}", crate::workspace::relative(&ctx.root, &path));
            let _ = std::fs::remove_file(path);
        }
        if let Err(code) = write_files(ctx, &book) {
            return code;
        }
    } else {
        problems.push("the book's pictures and runs were not written: fix the above first".into());
    }
    report(&problems, "generated files are up to date")
}

/// Writes each of `generated` that differs from the file on disk.
fn write_files(ctx: &Ctx, generated: &[Generated]) -> Result<(), ExitCode> {
    for file in generated {
        if std::fs::read_to_string(&file.path).ok().as_deref() != Some(&file.content) {
            if let Some(folder) = file.path.parent() {
                let _ = std::fs::create_dir_all(folder);
            }
            if let Err(e) = std::fs::write(&file.path, &file.content) {
                eprintln!("error: could not write {}: {e}", file.path.display());
                return Err(ExitCode::from(3));
            }
            println!("wrote {}", crate::workspace::relative(&ctx.root, &file.path));
        }
    }
    Ok(())
}

/// A problem for each of `generated` that differs from the file on disk.
fn stale(ctx: &Ctx, generated: &[Generated]) -> Vec<String> {
    generated
        .iter()
        .filter(|file| std::fs::read_to_string(&file.path).ok().as_deref() != Some(&file.content))
        .map(|file| {
            let path = crate::workspace::relative(&ctx.root, &file.path);
            format!("{path} is stale: run `cargo lab dev`")
        })
        .collect()
}

fn check(ctx: &Ctx) -> ExitCode {
    let mut problems = Vec::new();
    match dev::generate(&ctx.root) {
        Ok(generated) => {
            problems.extend(stale(ctx, &generated));
            for path in dev::stale_bins(&ctx.root, &generated) {
                let path = crate::workspace::relative(&ctx.root, &path);
                problems.push(format!("{path} belongs to no lab: run `cargo lab dev`"));
            }
        }
        Err(problem) => problems.push(problem),
    }
    problems.extend(dev::file_problems(&ctx.root));
    if problems.is_empty() {
        let every = match run_every_lab(ctx) {
            Ok(runs) => runs,
            Err(error) => return tool_failed(error),
        };
        let mut book = Vec::new();
        for (lab, runs) in LABS.iter().zip(every) {
            problems.extend(exhibit_problems(ctx, lab, &runs));
            book.extend(dev::book_outputs(&ctx.root, lab, runs));
        }
        problems.extend(stale(ctx, &book));
        for path in dev::stale_book_outputs(&ctx.root, &book) {
            let path = crate::workspace::relative(&ctx.root, &path);
            problems.push(format!("{path} belongs to no lab: run `cargo lab dev`"));
        }
    }
    report(
        &problems,
        "the registry, the generated files, the book's runs and every lab's exhibit agree",
    )
}

/// What is wrong with `lab`'s exhibit in `runs` (its original, then its solution): the
/// original must report the exhibit's finding at the culprit's line, the solution pass.
fn exhibit_problems(ctx: &Ctx, lab: &Lab, runs: &LabRuns) -> Vec<String> {
    let mut problems = Vec::new();
    let (original, solution) = (&runs.runs[0], &runs.runs[1]);
    let exhibit = &lab.exhibit;
    let shown = original
        .findings()
        .find(|(report, finding)| report.check == exhibit.check && finding.kind == exhibit.kind);
    match shown {
        None => problems.push(format!(
            "lab {}: the {} check must report {} on {}",
            lab.number, exhibit.check, exhibit.kind, original.file
        )),
        Some((_, finding)) => {
            // The finding points at the culprit: the first line that holds it.
            let text = std::fs::read_to_string(ctx.root.join(&original.file)).unwrap_or_default();
            let line = text
                .lines()
                .position(|l| l.contains(exhibit.culprit))
                .map(|i| i as u32 + 1);
            let site = finding.sites.first().map(|s| (s.file.as_str(), s.line));
            if line.is_none() || site != line.map(|l| (original.file.as_str(), l)) {
                problems.push(format!(
                    "lab {}: the {} finding on {} must point at the line of `{}` ({}), not {}",
                    lab.number,
                    exhibit.kind,
                    original.file,
                    exhibit.culprit,
                    line.map_or("no such line".to_owned(), |l| format!("line {l}")),
                    site.map_or("nowhere".to_owned(), |(f, l)| format!("{f}:{l}")),
                ));
            }
        }
    }
    if !solution.passed {
        let kinds: Vec<String> = solution.findings().map(|(_, f)| f.kind.to_string()).collect();
        problems.push(format!(
            "lab {}: {} must pass, but got {}",
            lab.number,
            solution.file,
            kinds.join(", ")
        ));
    }
    problems
}

fn report(problems: &[String], ok: &str) -> ExitCode {
    if problems.is_empty() {
        println!("{ok}");
        return ExitCode::SUCCESS;
    }
    for problem in problems {
        println!("✗ {problem}");
    }
    ExitCode::from(1)
}

/// Runs the fixtures and says, for each, whether it was classified as its header says.
fn fixtures(ctx: &Ctx, only: Option<u32>) -> ExitCode {
    let fixtures = match leaklab_registry::fixtures(&ctx.root) {
        Ok(all) => all
            .into_iter()
            .filter(|f| only.is_none_or(|n| f.lab == n))
            .collect::<Vec<_>>(),
        Err(problem) => return super::bad_input(&problem),
    };
    let runs = match runner::run_fixtures(&ctx.root, &fixtures) {
        Ok(runs) => runs,
        Err(error) => return tool_failed(error),
    };
    let mut results = Vec::new();
    for (fixture, run) in fixtures.iter().zip(&runs) {
        let found: Vec<Kind> = run.findings().map(|(_, f)| f.kind).collect();
        let right = match &fixture.expect {
            Expect::Pass => run.passed,
            Expect::Findings(kinds) => kinds.iter().all(|k| found.contains(k)),
        };
        results.push((fixture, run, found, right));
    }
    if ctx.json {
        let json: Vec<_> = results
            .iter()
            .map(|(fixture, run, found, right)| {
                serde_json::json!({
                    "fixture": fixture.name,
                    "file": fixture.path,
                    "expect": match &fixture.expect {
                        Expect::Pass => vec!["pass".to_owned()],
                        Expect::Findings(kinds) => kinds.iter().map(|k| k.name()).collect(),
                    },
                    "found": found.iter().map(|k| k.name()).collect::<Vec<_>>(),
                    "classified_right": right,
                    "run": run,
                })
            })
            .collect();
        print_json(&json);
    } else {
        print!("{}", render::fixtures(&results));
    }
    super::verdict(results.iter().all(|(.., right)| *right))
}
