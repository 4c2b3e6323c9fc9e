//! What a student reads: reports rendered for the terminal.

use crate::runner::{LabRuns, Run};
use crate::state::Standing;
use labkit::{Finding, Kind, Report, Site, Variant};
use leaklab_registry::{Fixture, LAB_FOLDERS, Lab};

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
    side_by_side_at(lab, runs, width())
}

/// [`side_by_side`] for a terminal `width` columns wide (the book's copy is 100).
pub fn side_by_side_at(lab: &Lab, runs: &LabRuns, width: usize) -> String {
    let mut out = heading(lab);
    out.push('\n');
    let half = width / 2 - 3;
    let columns: Vec<Vec<String>> = runs.runs.iter().map(|run| column(run, half)).collect();
    if let [left, right] = columns.as_slice() {
        for i in 0..left.len().max(right.len()) {
            let l = left.get(i).map(String::as_str).unwrap_or("");
            let r = right.get(i).map(String::as_str).unwrap_or("");
            // The rule stays down the whole height, so a long left column still reads
            // as a column once the right one has ended.
            out.push_str(format!("{l:<half$} │ {r}").trim_end());
            out.push('\n');
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
    // The fix is shown once your copy passes, never before: no spoilers.
    let yours = runs.runs.iter().find(|run| run.variant == Variant::Yours);
    match yours {
        Some(run) if run.passed => out.push_str(&format!(
            "\nYour copy passes. The fix, in one line: {}.\n",
            lab.fix
        )),
        Some(_) => out.push_str(&format!(
            "\nNow edit {} and run `cargo lab check {n}` (hints: `cargo lab hint {n}`).\n",
            lab.path(Variant::Yours),
            n = lab.number
        )),
        None => {}
    }
    out
}

fn label(run: &Run) -> String {
    match run.variant {
        Variant::Yours => format!("your copy: {}", run.file),
        Variant::Solution => format!("solution: {}", run.file),
        Variant::Original => format!("original: {}", run.file),
        Variant::Fixture => format!("fixture: {}", run.file),
    }
}

/// A measured figure as a person reads it: `outlived_ms_total`, 1500 is
/// ("outlived total", "1,500 ms").
fn figure(name: &str, value: u64) -> (String, String) {
    let words: Vec<&str> = name.split('_').collect();
    let unit = if words.contains(&"ms") { " ms" } else { "" };
    let name: Vec<&str> = words.into_iter().filter(|w| *w != "ms").collect();
    (name.join(" "), format!("{}{unit}", labkit::finding::count(value)))
}

/// One copy's verdict and findings, wrapped to `width`.
fn column(run: &Run, width: usize) -> Vec<String> {
    let mut lines = vec![label(run)];
    if run.passed {
        lines.push("✓ clean".to_owned());
        let measured = run.reports.iter().flat_map(|r| r.measured.iter());
        let numbers: Vec<String> = measured
            .map(|(name, value)| {
                let (name, value) = figure(name, *value);
                format!("{name}: {value}")
            })
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
    let stuck = matches!(finding.kind, Kind::Spin | Kind::Deadlock);
    for (i, site) in finding.sites.iter().enumerate() {
        let Some(stack) = &site.stack else {
            if stuck && i > 0 {
                out.push_str(&format!("  the task was spawned at {site}\n"));
            } else if !finding.message.contains(&site.to_string()) {
                out.push_str(&format!("  at {site}\n"));
            }
            continue;
        };
        if stuck && i == 0 {
            // The watchdog's stack sample of the stuck thread, innermost frame first.
            out.push_str(&format!("  stuck at {site}; the thread's stack there:\n"));
        } else {
            let (tasks, parked) = match site.count {
                1 => ("task", "parked here"),
                _ => ("tasks", "each parked here"),
            };
            // A site is where the tasks were spawned, or (lab 9) the `.await` they are
            // parked on, which their await chain then passes through.
            let told = if chain_passes(stack, site) {
                format!("parked at {site}")
            } else {
                format!("spawned at {site}, {parked}")
            };
            out.push_str(&format!("  {} {tasks} {told}:\n", site.count));
        }
        let lines = if stuck && i == 0 {
            to_lab_frame(stack)
        } else {
            trim_stack(stack)
        };
        for line in lines {
            out.push_str(&format!("    {line}\n"));
        }
    }
    if let Some(detail) = &finding.detail {
        for line in from_lab_code(detail).into_iter().take(40) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

/// Whether an await chain has a frame at `site`'s line (`file:line:column`).
fn chain_passes(stack: &str, site: &Site) -> bool {
    let at = format!("{site}:");
    stack.lines().any(|frame| {
        frame
            .rsplit_once(" at ")
            .is_some_and(|(_, place)| place.starts_with(&at))
    })
}

/// An await chain printed in a detail starts in the harness (`Detector::run`, the
/// scenario); the student's part starts at the first frame in a lab file. Lines that
/// are not frames are kept.
fn from_lab_code(detail: &str) -> Vec<&str> {
    fn frame_path(line: &str) -> Option<&str> {
        line.contains('╼')
            .then(|| line.rsplit(" at ").next().unwrap_or_default())
    }
    let first_lab = detail
        .lines()
        .position(|line| frame_path(line).is_some_and(|p| LAB_FOLDERS.iter().any(|f| p.starts_with(f))));
    detail
        .lines()
        .enumerate()
        .filter(|(i, line)| frame_path(line).is_none() || first_lab.is_none_or(|first| *i >= first))
        .map(|(_, line)| line)
        .collect()
}

/// A thread's stack sample, innermost frame first, up to the first frame in lab code:
/// how the stuck line got to where it waits (the frames above it are the harness).
fn to_lab_frame(stack: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in stack.lines() {
        lines.push(line);
        let path = line.rsplit(" at ").next().unwrap_or_default();
        if LAB_FOLDERS.iter().any(|f| path.starts_with(f)) {
            break;
        }
    }
    lines
}

/// A task dump's await chain down to the first frame outside the workspace (the tokio
/// resource the task waits on); the frames inside tokio after it say nothing more.
fn trim_stack(stack: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in stack.lines() {
        lines.push(line);
        let path = line.rsplit(" at ").next().unwrap_or_default();
        let ours = LAB_FOLDERS
            .iter()
            .chain(&["clinic/", "checks/"])
            .any(|f| path.starts_with(f));
        if !ours {
            break;
        }
    }
    lines
}

/// The number of the hint that fits a failed run's first finding (see `state::next_hint`
/// for which one is shown).
pub fn fitting_hint(lab: &Lab, run: &Run) -> Option<usize> {
    let first: Option<Kind> = run.findings().next().map(|(_, finding)| finding.kind);
    if run.passed || first.and_then(|kind| advice(lab, kind)).is_some() {
        return None;
    }
    lab.hint_for(first).map(|(number, _)| number)
}

/// `cargo lab check N`: PASS, or FAIL with each finding and hint number `hint`.
pub fn verdict(lab: &Lab, run: &Run, hint: Option<usize>) -> String {
    let mut out = format!("Lab {} · {}: checking {}\n", lab.number, lab.title, run.file);
    if run.passed {
        out.push_str("PASS");
        // Each check named once, before its figures: "(loom check: executions 20, ...;
        // scenario check: ...)".
        let measured: Vec<String> = run
            .reports
            .iter()
            .filter(|r| !r.measured.is_empty())
            .map(|r| {
                let figures: Vec<String> = r
                    .measured
                    .iter()
                    .map(|(k, v)| {
                        let (name, value) = figure(k, *v);
                        format!("{name} {value}")
                    })
                    .collect();
                format!("{} check: {}", r.check, figures.join(", "))
            })
            .collect();
        if !measured.is_empty() {
            out.push_str(&format!(" ({})", measured.join("; ")));
        }
        out.push('\n');
        return out;
    }
    out.push_str("FAIL\n");
    for report in &run.reports {
        for finding in &report.findings {
            out.push_str(&format!("✗ {} ({} check)\n", finding.kind, report.check));
            for line in wrap(&finding.message, width() - 2, "  ") {
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str(&finding_detail(finding));
        }
    }
    out.push_str(&notes(&run.reports));
    let first: Option<Kind> = run.findings().next().map(|(_, finding)| finding.kind);
    if let Some(advice) = first.and_then(|kind| advice(lab, kind)) {
        out.push_str(&format!("{advice}\n"));
    } else if let Some(hint) = hint.and_then(|n| lab.hints.get(n - 1).map(|h| (n, h))) {
        let (number, hint) = hint;
        let (n, last) = (lab.number, lab.hints.len());
        // The last hint gives the fix away, so a failed check never shows it by itself.
        let after = if number + 1 < last {
            "a new try that still fails shows the next".to_owned()
        } else {
            format!("the last one, `cargo lab hint {n} {last}`, gives the fix away")
        };
        out.push_str(&format!(
            "Hint {number} of {last}: {}\n(all hints: cargo lab hint {n} 1, 2, ...; {after})\n",
            hint.text
        ));
    }
    out
}

/// What to say after a finding that none of the lab's hints speaks to, when it is
/// about the copy as a program rather than the lab's bug (it spins, does not compile,
/// crashes): the lab's first hint would only mislead.
fn advice(lab: &Lab, kind: Kind) -> Option<&'static str> {
    if lab.hints.iter().any(|hint| hint.fits.contains(&kind)) {
        return None;
    }
    Some(match kind {
        Kind::Spin => {
            "Note: a loop that never reaches an .await holds its thread for good: nothing else on \
                       it runs, not even timers, and abort() cannot land. Look at the line it is stuck on."
        }
        Kind::Deadlock => {
            "Note: the thread is blocked for good (a lock that is never released?). Look at \
                           the line it is stuck on."
        }
        Kind::Hang => "Note: everything is waiting and nothing can wake it: look at where each task waits.",
        Kind::Crashed => "Note: the check could not finish: the lab exited, aborted or panicked.",
        Kind::CompileError => "Note: fix the compiler's first error; the check runs once your copy builds.",
        _ => return None,
    })
}

/// `cargo lab dev fixtures`: a line per fixture, and what went wrong for each misread one.
pub fn fixtures(results: &[(&Fixture, &Run, Vec<Kind>, bool)]) -> String {
    let mut out = String::new();
    for (fixture, run, found, right) in results {
        let mut names: Vec<String> = Vec::new();
        for kind in found.iter().map(|k| k.name()) {
            if !names.contains(&kind) {
                names.push(kind);
            }
        }
        let found = names;
        let found = if found.is_empty() {
            "pass".to_owned()
        } else {
            found.join(", ")
        };
        let mark = if *right { "✓" } else { "✗" };
        out.push_str(&format!("{mark} {:<44} found: {found}\n", fixture.name));
        if !right {
            for (report, finding) in run.findings() {
                out.push_str(&format!(
                    "    {} ({}): {}\n",
                    finding.kind, report.check, finding.message
                ));
            }
        }
    }
    let wrong = results.iter().filter(|(.., right)| !right).count();
    out.push_str(&format!("{} fixtures, {wrong} misclassified\n", results.len()));
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

/// `cargo lab`: one line per lab with where your copy stands, and the progress.
pub fn list(labs: &[Lab], standings: &[Standing]) -> String {
    let mut out = String::from("leaklab: find and fix task leaks and data races in async Rust\n\n");
    let width = width();
    let titles = labs
        .iter()
        .map(|lab| lab.title.chars().count())
        .max()
        .unwrap_or(0);
    for (lab, standing) in labs.iter().zip(standings) {
        let state = match standing {
            Standing::Untouched => "· untouched".to_owned(),
            Standing::Passing => "✓ passes".to_owned(),
            Standing::Failing(kinds) => {
                let kinds: Vec<String> = kinds.iter().map(Kind::to_string).collect();
                format!("✗ {}", kinds.first().cloned().unwrap_or_else(|| "fails".into()))
            }
            Standing::Unchecked => "~ edited, not checked".to_owned(),
            Standing::Missing => "! no file in labs/".to_owned(),
        };
        let line = format!(
            "  {:>2}  {:<titles$}  {:<22} {}",
            lab.number, lab.title, state, lab.summary
        );
        out.push_str(&clip(&line, width));
        out.push('\n');
    }
    let passing = standings.iter().filter(|s| **s == Standing::Passing).count();
    out.push_str(&format!("\n{passing} of {} pass.", labs.len()));
    match labs.iter().zip(standings).find(|(_, s)| **s != Standing::Passing) {
        Some((lab, _)) => out.push_str(&format!(
            " Next: lab {n}, `cargo lab {n}` to see it, `cargo lab watch {n}` to work on it.\n",
            n = lab.number
        )),
        None => out.push_str(" Every lab passes.\n"),
    }
    out.push_str(
        "\nRun a lab:        cargo lab N          (your copy and the solution, side by side)\n\
         Check your fix:   cargo lab check N    (or cargo lab watch N: re-checks on every save)\n\
         Get a hint:       cargo lab hint N\n",
    );
    out
}

/// The terminal's width (`COLUMNS`, then the terminal itself), 100 when neither says.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| w.0 as usize))
        .unwrap_or(100)
        .clamp(60, 240)
}

/// `line` cut to `width` characters, with an ellipsis when cut.
fn clip(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_a_person_writes_them() {
        let said = |name, value| {
            let (name, value) = figure(name, value);
            format!("{name} {value}")
        };
        assert_eq!(said("outlived_ms_total", 1500), "outlived total 1,500 ms");
        assert_eq!(said("requests", 1026), "requests 1,026");
        assert_eq!(said("alive_tasks", 0), "alive tasks 0");
    }

    fn finding(line: u32) -> Finding {
        let stack = "╼ lab::serve::{{closure}} at labs/lab09.rs:28:54\n  └╼ clinic::fetch at clinic/src/results_service.rs:79:52";
        let site = Site {
            file: "labs/lab09.rs".into(),
            line,
            count: 3,
            stack: Some(stack.into()),
        };
        Finding::new(Kind::LeakedTask, "3 tasks still alive").with_sites(vec![site])
    }

    #[test]
    fn tasks_are_told_parked_at_a_site_their_chain_passes_through_else_spawned_there() {
        // The site is the `.await` they wait on (lab 9): their chain goes through it.
        let at_await = finding_detail(&finding(28));
        assert!(
            at_await.contains("3 tasks parked at labs/lab09.rs:28:"),
            "{at_await}"
        );
        // The site is where they were spawned: their chain starts below it.
        let at_spawn = finding_detail(&finding(27));
        assert!(
            at_spawn.contains("3 tasks spawned at labs/lab09.rs:27, each parked here:"),
            "{at_spawn}"
        );
    }

    #[test]
    fn a_pass_names_each_check_once_before_its_figures() {
        let lab = leaklab_registry::lab(3).expect("lab 3");
        let report = |check, figures: &[(&str, u64)]| {
            let mut report = Report::new(3, Variant::Yours, check);
            report.measured = figures.iter().map(|&(k, v)| (k.to_owned(), v)).collect();
            report
        };
        let run = Run {
            variant: Variant::Yours,
            file: "labs/lab03.rs".into(),
            passed: true,
            reports: vec![
                report(labkit::Check::Loom, &[("executions", 20)]),
                report(labkit::Check::Scenario, &[("rounds", 5), ("lost_updates", 0)]),
            ],
        };
        let pass = verdict(lab, &run, None);
        assert!(
            pass.ends_with("PASS (loom check: executions 20; scenario check: lost updates 0, rounds 5)\n"),
            "{pass}"
        );
    }
}
