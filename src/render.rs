//! What a student reads: reports rendered for the terminal.

use crate::runner::{LabRuns, Run};
use labkit::{Finding, Report, Variant};
use leaklab_checks::Lab;

const WIDTH: usize = 100;

/// The lab's heading: number, title, the one-line bug, and the Go pitfall it comes from.
pub fn heading(lab: &Lab) -> String {
    format!(
        "Lab {} · {}\n{}\nGo: {}\n",
        lab.number, lab.title, lab.summary, lab.go
    )
}

/// `cargo lab N`: the broken and the fixed copy side by side, then where the leaked
/// tasks are parked, then what the fix changes.
pub fn side_by_side(lab: &Lab, runs: &LabRuns) -> String {
    let mut out = heading(lab);
    out.push('\n');
    let columns: Vec<Vec<String>> = runs.runs.iter().map(|run| column(run, WIDTH / 2 - 3)).collect();
    if let [left, right] = columns.as_slice() {
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).map(String::as_str).unwrap_or("");
            let r = right.get(i).map(String::as_str).unwrap_or("");
            out.push_str(&format!("{l:<w$} │ {r}\n", w = WIDTH / 2 - 3).replace(" │ \n", "\n"));
        }
    } else {
        for line in columns.iter().flatten() {
            out.push_str(line);
            out.push('\n');
        }
    }
    for run in &runs.runs {
        out.push_str(&details(run));
    }
    out.push_str(&format!("\nThe fix: {}.\n", lab.fix));
    out.push_str(&format!(
        "Now edit {} and run `cargo lab check {}` (hints: `cargo lab hint {}`).\n",
        lab.student_path(),
        lab.number,
        lab.number
    ));
    out
}

fn label(run: &Run) -> String {
    match run.variant {
        Variant::Student => format!("your copy: {}", run.file),
        Variant::Solution => format!("fixed: {}", run.file),
        Variant::Original => format!("original: {}", run.file),
    }
}

/// One copy's verdict and findings, wrapped to `width`.
fn column(run: &Run, width: usize) -> Vec<String> {
    let mut lines = vec![label(run)];
    if run.passed {
        lines.push("✓ clean".to_owned());
        let measured = run.reports.iter().flat_map(|r| r.measured.iter());
        let numbers: Vec<String> = measured
            .map(|(name, value)| format!("{}: {value}", name.replace('_', " ")))
            .collect();
        lines.extend(wrap(&numbers.join(", "), width, "  "));
    }
    for finding in run.reports.iter().flat_map(|r| &r.findings) {
        lines.push(format!("✗ {}", finding.kind));
        lines.extend(wrap(&finding.message, width, "  "));
    }
    lines
}

/// Below the columns: each finding's sites with their await chains, and its detail.
fn details(run: &Run) -> String {
    let mut out = String::new();
    for report in &run.reports {
        for finding in &report.findings {
            let block = finding_detail(finding);
            if !block.is_empty() {
                out.push_str(&format!(
                    "\n{} ({}), {}:\n{block}",
                    label(run),
                    report.check,
                    finding.kind
                ));
            }
        }
    }
    out
}

fn finding_detail(finding: &Finding) -> String {
    let mut out = String::new();
    for site in &finding.sites {
        let Some(stack) = &site.stack else {
            if !finding.message.contains(&site.to_string()) {
                out.push_str(&format!("  at {site}\n"));
            }
            continue;
        };
        let tasks = if site.count == 1 { "task" } else { "tasks" };
        out.push_str(&format!(
            "  {} {tasks} spawned at {site}, each parked here:\n",
            site.count
        ));
        for line in trim_stack(stack) {
            out.push_str(&format!("    {line}\n"));
        }
    }
    if let Some(detail) = &finding.detail {
        for line in detail.lines().take(40) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// A task dump's await chain down to the first frame outside the workspace (the tokio
/// resource the task waits on); the frames inside tokio after it say nothing more.
fn trim_stack(stack: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in stack.lines() {
        lines.push(line);
        let path = line.rsplit(" at ").next().unwrap_or_default();
        if !(path.starts_with("labs/")
            || path.starts_with("solutions/")
            || path.starts_with("tests/")
            || path.starts_with("checks/"))
        {
            break;
        }
    }
    lines
}

/// `cargo lab check N`: PASS, or FAIL with each finding and the first hint.
pub fn verdict(lab: &Lab, run: &Run) -> String {
    let mut out = format!("Lab {} · {}: checking {}\n", lab.number, lab.title, run.file);
    if run.passed {
        out.push_str("PASS");
        let measured: Vec<String> = run
            .reports
            .iter()
            .flat_map(|r| {
                r.measured
                    .iter()
                    .map(move |(k, v)| format!("{} {}: {v}", r.check, k.replace('_', " ")))
            })
            .collect();
        if !measured.is_empty() {
            out.push_str(&format!(" ({})", measured.join(", ")));
        }
        out.push('\n');
        return out;
    }
    out.push_str("FAIL\n");
    for report in &run.reports {
        for finding in &report.findings {
            out.push_str(&format!("✗ {} ({} check)\n", finding.kind, report.check));
            for line in wrap(&finding.message, WIDTH - 2, "  ") {
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str(&finding_detail(finding));
        }
    }
    out.push_str(&notes(&run.reports));
    if let Some(hint) = lab.hints.first() {
        out.push_str(&format!(
            "Hint: {hint}\n(more: cargo lab hint {} 2)\n",
            lab.number
        ));
    }
    out
}

fn notes(reports: &[Report]) -> String {
    reports
        .iter()
        .flat_map(|r| &r.notes)
        .map(|n| format!("note: {n}\n"))
        .collect()
}

/// Greedy word wrap, each line prefixed with `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.chars().count() > width {
            lines.push(format!("{indent}{line}"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(format!("{indent}{line}"));
    }
    lines
}

/// `cargo lab`: one line per lab.
pub fn list(labs: &[Lab]) -> String {
    let mut out = String::from("leaklab: find and fix task leaks and data races in async Rust\n\n");
    for lab in labs {
        out.push_str(&format!(
            "  {:>2}  {:<28} {}\n",
            lab.number, lab.title, lab.summary
        ));
    }
    out.push_str(
        "\nRun a lab:        cargo lab 1        (the broken and the fixed copy, side by side)\n\
         Check your fix:   cargo lab check 1\n\
         Get a hint:       cargo lab hint 1\n",
    );
    out
}
