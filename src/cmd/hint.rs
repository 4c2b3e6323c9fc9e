//! `cargo lab hint N [K]`: hint K of lab N, gentlest first.

use super::{Ctx, bad_input, parse_lab, print_json};
use clap::Args;
use leaklab_registry::Lab;
use std::process::ExitCode;

#[derive(Args)]
pub struct Hint {
    #[arg(value_parser = parse_lab)]
    lab: &'static Lab,
    /// Which hint (1 is the gentlest)
    #[arg(default_value_t = 1)]
    number: u32,
}

impl Hint {
    pub fn run(self, ctx: &Ctx) -> ExitCode {
        let (lab, number, of) = (self.lab, self.number, self.lab.hints.len());
        // Hints count from 1: hint 0, like one past the last, is bad input.
        let index = (number as usize).checked_sub(1);
        let Some(hint) = index.and_then(|i| lab.hints.get(i)) else {
            return bad_input(&format!(
                "lab {} has {of} hints, numbered from 1: ask for 1 to {of}",
                lab.number
            ));
        };
        if ctx.json {
            print_json(&serde_json::json!({
                "lab": lab.number, "hint": number, "of": of, "text": hint.text,
            }));
            return ExitCode::SUCCESS;
        }
        println!("Lab {} · hint {number} of {of}: {}", lab.number, hint.text);
        if (number as usize) < of {
            println!("(next: cargo lab hint {} {})", lab.number, number + 1);
        } else {
            println!("(the fix, once you have tried: {})", lab.fix);
        }
        ExitCode::SUCCESS
    }
}
