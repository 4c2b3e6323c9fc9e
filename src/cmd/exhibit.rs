//! `cargo lab exhibit N`: the proof that lab N's check works. It must report the bug in
//! the shipped original (`tests/originals/`) and pass the solution.

use super::{Ctx, parse_lab, print_json, tool_failed, verdict};
use crate::{render, runner};
use clap::Args;
use labkit::Variant;
use leaklab_registry::Lab;
use std::process::ExitCode;

#[derive(Args)]
pub struct Exhibit {
    #[arg(value_parser = parse_lab)]
    lab: &'static Lab,
}

impl Exhibit {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let variants = [Variant::Original, Variant::Solution];
        let runs = match runner::run_lab(&ctx.root, self.lab, &variants) {
            Ok(runs) => runs,
            Err(error) => return tool_failed(error),
        };
        if ctx.json {
            print_json(&runs);
        } else {
            print!("{}", render::side_by_side(self.lab, &runs));
        }
        verdict(!runs.runs[0].passed && runs.runs[1].passed)
    }
}
