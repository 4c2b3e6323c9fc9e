//! `cargo lab N`: your copy and the solution side by side, with the symptom measured.

use super::{Ctx, parse_lab, print_json, tool_failed};
use crate::{render, runner, timeline};
use clap::Args;
use labkit::Variant;
use leaklab_registry::Lab;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct Run {
    /// The lab to run (see `cargo lab list`)
    #[arg(value_parser = parse_lab)]
    pub lab: Option<&'static Lab>,
    /// Run only your copy (labs/)
    #[arg(long, alias = "broken", conflicts_with = "solution", requires = "lab")]
    yours: bool,
    /// Run only the solution (solutions/)
    #[arg(long, alias = "fixed", requires = "lab")]
    solution: bool,
    /// Run the lab live on the real clock, for tokio-console to watch (your copy, or the
    /// solution with --fixed), until Ctrl-C
    #[arg(long, requires = "lab", conflicts_with = "json")]
    console: bool,
    /// Also draw the runs as a picture into FILE.svg: a bar per task, the leaks in red
    #[arg(long, value_name = "FILE.svg", requires = "lab", conflicts_with = "console")]
    timeline: Option<PathBuf>,
}

impl Run {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let lab = self.lab.expect("the caller lists the labs when none is given");
        if self.console {
            let variant = if self.solution {
                Variant::Solution
            } else {
                Variant::Yours
            };
            return super::console::run(ctx, lab, variant);
        }
        let variants: &[Variant] = match (self.yours, self.solution) {
            (true, _) => &[Variant::Yours],
            (_, true) => &[Variant::Solution],
            _ => &[Variant::Yours, Variant::Solution],
        };
        if let Some(path) = &self.timeline
            && path.extension().is_none_or(|ext| ext != "svg")
        {
            return super::bad_input(&format!(
                "--timeline writes an SVG picture: give it a file name ending in .svg, not {}",
                path.display()
            ));
        }
        let mut setup = runner::Setup::of(&ctx.root);
        if self.timeline.is_some() {
            setup = setup.with_timelines();
        }
        let runs = match runner::run_lab_in(&ctx.root, &setup, lab, variants) {
            Ok(runs) => runs,
            Err(error) => return tool_failed(error),
        };
        if ctx.json {
            print_json(&runs);
        } else {
            print!("{}", render::side_by_side(lab, &runs));
        }
        if let Some(path) = &self.timeline {
            let picture = timeline::draw(lab, &runs.runs, &ctx.root);
            if let Err(e) = std::fs::write(path, picture) {
                return super::bad_input(&format!("could not write {}: {e}", path.display()));
            }
            if !ctx.json {
                println!("\nThe picture of these runs is in {}.", path.display());
            }
        }
        ExitCode::SUCCESS
    }
}
