//! `cargo lab` and `cargo lab list`: every lab, one line each.

use super::{Ctx, print_json};
use crate::{render, state};
use leaklab_registry::LABS;
use std::process::ExitCode;

pub fn run(ctx: &Ctx) -> ExitCode {
    if ctx.json {
        let labs: Vec<_> = LABS
            .iter()
            .map(|lab| {
                serde_json::json!({
                    "number": lab.number,
                    "slug": lab.slug,
                    "title": lab.title,
                    "summary": lab.summary,
                    "file": lab.path(labkit::Variant::Yours),
                    "checks": lab.checks,
                    "hints": lab.hints.len(),
                })
            })
            .collect();
        print_json(&serde_json::json!({ "labs": labs }));
    } else {
        print!("{}", render::list(LABS, &state::standings(&ctx.root, LABS)));
    }
    ExitCode::SUCCESS
}
