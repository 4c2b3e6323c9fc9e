//! `cargo lab N`: your copy and the solution side by side, with the symptom measured.

use super::{Ctx, parse_lab, print_json, tool_failed};
use crate::{render, runner};
use clap::Args;
use labkit::Variant;
use leaklab_registry::Lab;
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
}

impl Run {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let lab = self.lab.expect("the caller lists the labs when none is given");
        let variants: &[Variant] = match (self.yours, self.solution) {
            (true, _) => &[Variant::Yours],
            (_, true) => &[Variant::Solution],
            _ => &[Variant::Yours, Variant::Solution],
        };
        let runs = match runner::run_lab(&ctx.root, lab, variants) {
            Ok(runs) => runs,
            Err(error) => return tool_failed(error),
        };
        if ctx.json {
            print_json(&runs);
        } else {
            print!("{}", render::side_by_side(lab, &runs));
        }
        ExitCode::SUCCESS
    }
}
