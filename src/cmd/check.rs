//! `cargo lab check N`: your copy of lab N, PASS or FAIL.

use super::{Ctx, parse_lab, print_json, tool_failed, verdict};
use crate::{render, runner};
use clap::Args;
use labkit::Variant;
use leaklab_registry::Lab;
use std::process::ExitCode;

#[derive(Args)]
pub struct Check {
    #[arg(value_parser = parse_lab)]
    lab: &'static Lab,
}

impl Check {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let runs = match runner::run_lab(&ctx.root, self.lab, &[Variant::Yours]) {
            Ok(runs) => runs,
            Err(error) => return tool_failed(error),
        };
        let run = &runs.runs[0];
        if ctx.json {
            print_json(&runs);
        } else {
            let hint = crate::state::next_hint(&ctx.root, self.lab, render::fitting_hint(self.lab, run));
            print!("{}", render::verdict(self.lab, run, hint));
        }
        verdict(run.passed)
    }
}
