//! `cargo lab grade-class DIR`: grades a folder of student clones (one sub-folder each)
//! into one summary: `class.csv` and `class.json`, a row per student and a column per
//! lab, and each student's own results under `students/<name>/`.
//!
//! Every student is graded as `cargo lab grade --student` would grade them: only their
//! `labs/lab*.rs`, in a clean copy of this checkout. Exit 0 when the class was graded
//! (whatever the grades), 2 on bad input, 3 when the tool itself failed.

use super::grade::Limited;
use super::{Ctx, bad_input};
use crate::grade::class::{self, ClassOptions};
use crate::grade::results::Status;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use leaklab_registry::{LABS, Lab};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct GradeClass {
    /// The folder of student clones, one sub-folder (with a labs/ folder) per student
    dir: PathBuf,
    /// Where to write class.csv, class.json and students/<name>/ [default: .leaklab/class/]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Students graded at once [default: 2]
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Grade every file again, ignoring verdicts cached by earlier runs
    #[arg(long)]
    fresh: bool,
    #[command(flatten)]
    limited: Limited,
}

impl GradeClass {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let labs: Vec<&'static Lab> = LABS.iter().collect();
        let mut options = match self.limited.options(labs.clone()) {
            Ok(options) => options,
            Err(message) => return bad_input(&message),
        };
        options.announce = false;
        let students = match class::students(&self.dir) {
            Ok(students) => students,
            Err(message) => return bad_input(&message),
        };
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} lab files  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(format!("{} students", students.len()));
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        let progress = {
            let bar = bar.clone();
            move |done: usize, of: usize, who: &str| {
                bar.set_length(of as u64);
                bar.set_position(done as u64);
                bar.set_message(who.to_owned());
            }
        };
        let class_options = ClassOptions {
            jobs: self.jobs.unwrap_or(2).max(1),
            fresh: self.fresh,
            progress: Box::new(progress),
        };
        let target = crate::workspace::target_dir(&ctx.root);
        let graded = class::grade(&ctx.root, &target, &students, &options, &class_options);
        bar.finish_and_clear();

        let out = self
            .out
            .clone()
            .unwrap_or_else(|| ctx.root.join(".leaklab/class"));
        let summary = class::json(&graded, &ctx.root, &labs);
        let written = (|| -> std::io::Result<()> {
            for (name, results) in &graded.students {
                results.write(&out.join("students").join(name))?;
            }
            std::fs::write(out.join("class.csv"), class::csv(&graded, &labs))?;
            std::fs::write(
                out.join("class.json"),
                serde_json::to_string_pretty(&summary)? + "\n",
            )?;
            Ok(())
        })();
        if ctx.json {
            super::print_json(&summary);
        } else {
            print!("{}", table(&graded, &labs));
            let files = graded.students.len() * labs.len();
            println!(
                "{} students, {files} lab files: {} graded, {} the same as one graded before (in this run or \
                 an earlier one), in {:.0} s",
                graded.students.len(),
                graded.graded,
                files - graded.graded,
                graded.time.as_secs_f64()
            );
            if written.is_ok() {
                println!(
                    "summary: {}",
                    crate::workspace::relative(&ctx.root, &out.join("class.csv"))
                );
            }
        }
        if let Err(e) = written {
            eprintln!("error: could not write the summary to {}: {e}", out.display());
            return ExitCode::from(3);
        }
        if graded.tool_failed {
            return ExitCode::from(3);
        }
        ExitCode::SUCCESS
    }
}

/// A line per student: the score and a letter per lab (P pass, F fail, E error).
fn table(graded: &class::Class, labs: &[&Lab]) -> String {
    let width = graded
        .students
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!("{:<width$}  score  ", "student");
    out.push_str(
        &labs
            .iter()
            .map(|lab| format!("{:>2}", lab.number))
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push('\n');
    for (name, results) in &graded.students {
        let letters: Vec<String> = results
            .labs
            .iter()
            .map(|lab| {
                let letter = match lab.status {
                    Status::Pass => "P",
                    Status::Fail => "F",
                    Status::Error => "E",
                };
                format!("{letter:>2}")
            })
            .collect();
        let score = format!("{}/{}", results.score, results.max_score);
        out.push_str(&format!("{name:<width$}  {score:>5}  {}\n", letters.join(" ")));
    }
    out
}
