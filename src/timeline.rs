//! `cargo lab N --timeline FILE.svg`: a picture of the leak, the broken run above the
//! fixed one.
//!
//! A scenario lab is drawn from the timelines its check recorded, a run per case: the
//! first case whose broken run shows a task outliving its scenario
//! ([`Timeline::showing_a_leak`]), the same case for both copies. A bar per task from its spawn to its end, on a
//! time axis in milliseconds of virtual time, with the instant the scenario returned
//! (the request's end, or `main`'s) marked. A task still alive at the end runs off the
//! right edge in the leak colour, labelled with its spawn site. A loom lab is drawn
//! from its model's finding instead: the losing interleaving, a column per thread and a
//! row per step, each step with the line that made it.
//!
//! Only virtual time and workspace-relative paths go in, so a lab always draws the same
//! picture and `cargo lab dev --check` can compare it byte for byte. The drawing is a
//! pure function of the runs ([`draw`]); the layout is split from it ([`rows`],
//! [`steps`]) so tests can check each.

use crate::runner::Run;
use labkit::finding::{Span, Timeline};
use labkit::steps::{self, Step};
use labkit::{Check, Variant};
use leaklab_registry::Lab;
use std::collections::BTreeSet;
use std::path::Path;
use svg::Document;
use svg::node::element::{Group, Line, Polygon, Rectangle, Text, Title};

/// The picture's width in SVG units: about a book page's column (mdBook's is 750 px),
/// so that a page shows it at its own size and its text stays legible.
const WIDTH: f64 = 760.0;
/// The left column, for the row labels.
const GUTTER: f64 = 168.0;
/// A panel's heading: the copy, and below it what became of its tasks.
const HEADING: f64 = 40.0;
/// Room on the right for the arrowheads of bars that run off the edge.
const RIGHT: f64 = 30.0;
const ROW: f64 = 24.0;
const BAR: f64 = 14.0;
/// Up to this many tasks, a row each; beyond it, a row per spawn site.
const ROW_PER_TASK: usize = 10;
/// The most rows a panel shows; the rest fold into one.
const MAX_ROWS: usize = 10;

/// The colours: a task that ended, one still alive (the leak), the scenario itself.
pub const ENDED: &str = "#3b6ea5";
pub const LEAKED: &str = "#c8283c";
const SCENARIO: &str = "#8c8c8c";
/// A task still running when the scenario returned (it ended later).
pub const OUTLIVED: &str = "#e8912d";
const INK: &str = "#222222";
const FAINT: &str = "#6b6b6b";
const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const MONO: &str = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace";

/// What the broken or the fixed copy is called in the picture.
fn side(run: &Run) -> &'static str {
    match run.variant {
        Variant::Solution => "fixed",
        Variant::Yours if run.passed => "your copy",
        _ => "broken",
    }
}

/// The picture of `runs` (each copy's reports, with timelines), for `lab`; `root` is
/// read for the source lines a loom step points at.
pub fn draw(lab: &Lab, runs: &[Run], root: &Path) -> String {
    let loom = lab.checks.contains(&Check::Loom);
    let timelines = |run: &Run| -> Vec<Timeline> {
        let scenario = run.reports.iter().find(|r| r.check == Check::Scenario);
        scenario.map(|r| r.timelines.clone()).unwrap_or_default()
    };
    let case = runs
        .iter()
        .find(|run| !run.passed)
        .and_then(|run| Timeline::showing_a_leak(&timelines(run)))
        .unwrap_or(0);
    let panels: Vec<Panel> = runs
        .iter()
        .map(|run| {
            if loom {
                interleaving_panel(run, root)
            } else {
                let all = timelines(run);
                let shown = all.get(case).or(all.first()).cloned();
                tasks_panel(run, shown)
            }
        })
        .collect();
    let scale_end = panels
        .iter()
        .filter_map(|panel| match panel {
            Panel::Tasks { timeline, .. } => Some(last_instant(timeline)),
            _ => None,
        })
        .max()
        .map(axis_end);
    let mut y = 8.0;
    let mut groups = Vec::new();
    // The colours the bars are drawn in: the legend explains only those.
    let mut used = BTreeSet::new();
    for panel in &panels {
        let (group, height) = match panel {
            Panel::Tasks {
                heading,
                file,
                timeline,
            } => draw_tasks(heading, file, timeline, scale_end.unwrap_or(1000), y, &mut used),
            Panel::Steps { heading, items } => draw_steps(heading, items, y),
            Panel::Note { heading, note } => draw_note(heading, note, y),
        };
        groups.push(group);
        y += height + 20.0;
    }
    if !used.is_empty() {
        groups.push(legend(y - 12.0, &used));
        y += 18.0;
    }
    let title = format!(
        "Lab {}: {}, broken and fixed",
        lab.number,
        lab.title.to_lowercase()
    );
    let mut document = Document::new()
        .set("viewBox", (0, 0, WIDTH, y.round()))
        .set("width", WIDTH)
        .set("height", y.round())
        .set("font-family", FONT)
        .set("role", "img")
        .add(Title::new(title))
        .add(
            Rectangle::new()
                .set("width", "100%")
                .set("height", "100%")
                .set("fill", "#ffffff"),
        );
    for group in groups {
        document = document.add(group);
    }
    format!("{document}\n")
}

/// One copy's half of the picture.
enum Panel {
    Tasks {
        heading: String,
        /// The copy's file: rows from it are labelled by line alone.
        file: String,
        timeline: Timeline,
    },
    Steps {
        heading: String,
        items: Vec<Item>,
    },
    Note {
        heading: String,
        note: String,
    },
}

fn tasks_panel(run: &Run, timeline: Option<Timeline>) -> Panel {
    let Some(timeline) = timeline else {
        return Panel::Note {
            heading: format!("{}: {}", side(run), run.file),
            note: "no timeline was recorded (the check ran no scenario on the paused clock)".into(),
        };
    };
    let total = timeline.tasks.len();
    let fates: Vec<Fate> = timeline
        .tasks
        .iter()
        .map(|t| Fate::of(t, timeline.returned_us))
        .collect();
    let count = |fate: Fate| fates.iter().filter(|&&f| f == fate).count();
    let (alive, outlived) = (count(Fate::Leaked), count(Fate::Outlived));
    let outcome = if timeline.returned_us.is_none() {
        "the scenario never returned: it is stuck".to_owned()
    } else if total == 0 {
        "no task spawned".to_owned()
    } else if alive > 0 {
        format!("{alive} of {total} {} still alive at the end", tasks(total))
    } else if outlived > 0 {
        format!(
            "{outlived} of {total} {} still running when the scenario returned",
            tasks(total)
        )
    } else {
        format!(
            "{total} {}, every one ended before the scenario returned",
            tasks(total)
        )
    };
    Panel::Tasks {
        heading: format!("{}: {} · {outcome}", side(run), run.file),
        file: run.file.clone(),
        timeline,
    }
}

fn tasks(n: usize) -> &'static str {
    if n == 1 { "task" } else { "tasks" }
}

/// What became of a task, as the picture colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fate {
    /// Still alive when the run was inspected: the leak.
    Leaked,
    /// Still running when the scenario returned, ended later.
    Outlived,
    /// Ended before the scenario returned.
    Ended,
}

impl Fate {
    fn of(span: &Span, returned: Option<u64>) -> Fate {
        match (span.ended_us, returned) {
            (None, _) => Fate::Leaked,
            (Some(end), Some(returned)) if end > returned => Fate::Outlived,
            _ => Fate::Ended,
        }
    }

    /// The bar's colour (after the return, for `Outlived`), and the label's.
    pub fn colours(self) -> (&'static str, &'static str) {
        match self {
            Fate::Leaked => (LEAKED, LEAKED),
            Fate::Outlived => (OUTLIVED, "#a65f00"),
            Fate::Ended => (ENDED, ENDED),
        }
    }
}

/// A row of the tasks panel: one task, or every task from one spawn site with one fate,
/// its bars merged where they overlap.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// `lab01_orphaned_task.rs:24`, or `12 tasks from 3 other places`.
    pub label: String,
    /// The full spawn site, for the leak label and the tooltip.
    pub site: String,
    pub count: usize,
    pub fate: Fate,
    /// Microseconds; an open end runs off the right edge.
    pub bars: Vec<(u64, Option<u64>)>,
}

/// The rows for `spans`: a row per task when there are few, else a row per spawn site
/// and [`Fate`], at most [`MAX_ROWS`], in order of first spawn. A row from `own` (the
/// copy's file) is labelled `line 24`, any other `lab_system.rs:42`. `returned`: when
/// the scenario returned.
pub fn rows(spans: &[Span], own: &str, returned: Option<u64>) -> Vec<Row> {
    let site = |s: &Span| match &s.file {
        Some(file) => format!("{file}:{}", s.line),
        None => "an unknown place (needs --cfg tokio_unstable)".to_owned(),
    };
    let short = |s: &Span| match &s.file {
        Some(file) if file == own => format!("line {}", s.line),
        Some(file) => format!("{}:{}", file.rsplit('/').next().unwrap_or(file), s.line),
        None => "unknown site".to_owned(),
    };
    let mut rows: Vec<Row> = Vec::new();
    for span in spans {
        let fate = Fate::of(span, returned);
        let bar = (span.spawned_us, span.ended_us);
        let full = site(span);
        let same = rows.iter_mut().find(|r| r.site == full && r.fate == fate);
        match same {
            Some(row) if spans.len() > ROW_PER_TASK => {
                row.count += 1;
                row.bars.push(bar);
            }
            _ => rows.push(Row {
                label: short(span),
                site: full,
                count: 1,
                fate,
                bars: vec![bar],
            }),
        }
    }
    if rows.len() > MAX_ROWS {
        // Keep the leaks, then the busiest sites; fold the rest into one row.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        order.sort_by_key(|&i| (rows[i].fate, std::cmp::Reverse(rows[i].count), i));
        let mut keep: Vec<usize> = order[..MAX_ROWS - 1].to_vec();
        keep.sort_unstable();
        let (mut kept, mut rest) = (Vec::new(), Vec::new());
        for (i, row) in rows.into_iter().enumerate() {
            if keep.contains(&i) {
                kept.push(row)
            } else {
                rest.push(row)
            }
        }
        let count = rest.iter().map(|r| r.count).sum();
        let fate = rest.iter().map(|r| r.fate).min().unwrap_or(Fate::Ended);
        kept.push(Row {
            label: format!("{count} {} from {} other places", tasks(count), rest.len()),
            site: String::new(),
            count,
            fate,
            bars: rest.into_iter().flat_map(|r| r.bars).collect(),
        });
        rows = kept;
    }
    for row in &mut rows {
        row.bars = merged(std::mem::take(&mut row.bars));
        if row.count > 1 && !row.site.is_empty() {
            row.label = format!("{} · {} tasks", row.label, row.count);
        }
    }
    rows
}

/// Bars that overlap or touch, merged into one; an open bar swallows all after it.
fn merged(mut bars: Vec<(u64, Option<u64>)>) -> Vec<(u64, Option<u64>)> {
    bars.sort_by_key(|&(start, end)| (start, end.is_none(), end));
    let mut out: Vec<(u64, Option<u64>)> = Vec::new();
    for (start, end) in bars {
        match out.last_mut() {
            Some((_, last)) if last.is_none_or(|last| start <= last) => {
                *last = match (*last, end) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => out.push((start, end)),
        }
    }
    out
}

/// The last thing that happened in a run, in microseconds.
fn last_instant(timeline: &Timeline) -> u64 {
    let ends = timeline
        .tasks
        .iter()
        .flat_map(|t| [Some(t.spawned_us), t.ended_us]);
    ends.chain([timeline.returned_us]).flatten().max().unwrap_or(0)
}

/// The axis's end for runs that last `last` µs: a little past it, on a round tick.
fn axis_end(last: u64) -> u64 {
    let last = last.max(1000) as f64 * 1.08;
    let tick = tick_ms(last / 1000.0) * 1000.0;
    ((last / tick).ceil() * tick) as u64
}

/// A round tick spacing (1, 2 or 5 times a power of ten) for an axis of `span_ms`, so
/// it has about six ticks.
pub fn tick_ms(span_ms: f64) -> f64 {
    let raw = (span_ms / 6.0).max(1e-3);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&tick| tick >= raw)
        .unwrap_or(10.0 * power)
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn text(content: impl Into<String>, x: f64, y: f64, size: f64, fill: &str) -> Text {
    Text::new(content)
        .set("x", round(x))
        .set("y", round(y))
        .set("font-size", size)
        .set("fill", fill)
}

fn line(x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str) -> Line {
    Line::new()
        .set("x1", round(x1))
        .set("y1", round(y1))
        .set("x2", round(x2))
        .set("y2", round(y2))
        .set("stroke", stroke)
}

/// `broken: labs/x.rs · 2 of 4 tasks still alive at the end`, on two lines: the copy in
/// bold, then the rest.
fn heading(content: &str, y: f64) -> Group {
    let (copy, outcome) = content.split_once(" · ").unwrap_or((content, ""));
    let mut group = Group::new()
        .set("class", "heading")
        .add(text(copy, 12.0, y + 16.0, 15.0, INK).set("font-weight", "600"));
    if !outcome.is_empty() {
        group = group.add(text(outcome, 12.0, y + 34.0, 13.0, INK));
    }
    group
}

/// Roughly how wide `text` is at `size` px in the sans-serif font (bold is wider).
fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    let em = if bold { 0.6 } else { 0.55 };
    text.chars().count() as f64 * size * em
}

/// Draws a tasks panel at `top`, on an axis from 0 to `end` µs; returns it and its height.
/// One copy's tasks panel at `top`, and its height; the colours its bars are filled
/// with go into `used`.
fn draw_tasks(
    title: &str,
    own: &str,
    timeline: &Timeline,
    end: u64,
    top: f64,
    used: &mut BTreeSet<&'static str>,
) -> (Group, f64) {
    let plot = (GUTTER, WIDTH - RIGHT);
    let x = |us: u64| plot.0 + (plot.1 - plot.0) * (us.min(end) as f64 / end as f64);
    let rows = rows(&timeline.tasks, own, timeline.returned_us);
    // The heading, a band for the return's label, then the rows.
    let first = top + HEADING + 30.0;
    let bar_y = |row_top: f64| round(row_top + (ROW - BAR) / 2.0);
    let label_y = |row_top: f64| row_top + ROW / 2.0 + 4.5;
    let mut group = Group::new().set("class", "panel").add(heading(title, top));
    // The leaks' labels, drawn last so that nothing crosses them.
    let mut labels = Vec::new();

    // The scenario itself: the request (or `main`) from its start to its return.
    group = group.add(text("scenario", 12.0, label_y(first), 13.0, FAINT));
    let returned = timeline.returned_us;
    let scenario_end = returned.map_or(plot.1, x);
    group = group.add(
        Rectangle::new()
            .set("x", round(plot.0))
            .set("y", bar_y(first))
            .set("width", round((scenario_end - plot.0).max(1.5)))
            .set("height", BAR)
            .set("fill", SCENARIO)
            .set("class", "scenario"),
    );
    used.insert(SCENARIO);
    if returned.is_none() {
        // Stuck: it runs off the edge like a leak, and says so.
        group = group.add(arrow(plot.1, first + ROW / 2.0, SCENARIO));
        group = group.add(
            text("never returned", plot.0 + 6.0, label_y(first), 12.0, "#ffffff")
                .set("font-weight", "600")
                .set("class", "stuck-label"),
        );
    }

    for (i, row) in rows.iter().enumerate() {
        let y = first + ROW * (i + 1) as f64;
        let (colour, ink) = row.fate.colours();
        let fits = ((GUTTER - 18.0) / 7.2) as usize;
        let mut label = text(clip(&row.label, fits), 12.0, label_y(y), 12.0, ink).set("font-family", MONO);
        if !row.site.is_empty() {
            label = label.add(Title::new(row.site.clone()));
        }
        group = group.add(label);
        let class = match row.fate {
            Fate::Leaked => "task leaked",
            Fate::Outlived => "task outlived",
            Fate::Ended => "task",
        };
        for &(start, stop) in &row.bars {
            let x0 = x(start);
            let x1 = stop.map_or(plot.1, x);
            // A task that outlived the scenario is blue up to the return, orange after.
            let turn = match (row.fate, returned) {
                (Fate::Outlived, Some(at)) => x(at).clamp(x0, x1),
                _ => x0,
            };
            let piece = |from: f64, to: f64, fill: &str| {
                Rectangle::new()
                    .set("x", round(from))
                    .set("y", bar_y(y))
                    .set("width", round((to - from).max(1.5)))
                    .set("height", BAR)
                    .set("rx", 2)
                    .set("fill", fill)
                    .set("class", class)
            };
            if turn > x0 {
                group = group.add(piece(x0, turn, ENDED));
                used.insert(ENDED);
            }
            group = group.add(piece(turn, x1, colour));
            used.insert(colour);
            if stop.is_none() {
                group = group.add(arrow(plot.1, y + ROW / 2.0, colour));
            }
        }
        labels.extend(leak_label(row, &x, plot, label_y(y)));
    }

    // The axis, in milliseconds.
    let axis_y = first + ROW * (rows.len() + 1) as f64 + 4.0;
    group = group.add(line(plot.0, axis_y, plot.1, axis_y, FAINT));
    let span_ms = end as f64 / 1000.0;
    let tick = tick_ms(span_ms);
    let mut t = 0.0;
    while t <= span_ms + 1e-9 {
        let tx = plot.0 + (plot.1 - plot.0) * t / span_ms;
        group = group.add(line(tx, axis_y, tx, axis_y + 5.0, FAINT));
        group = group.add(line(tx, first - 2.0, tx, axis_y, "#ececec").set("class", "grid"));
        group = group.add(
            text(format_ms(t), tx, axis_y + 19.0, 12.0, FAINT)
                .set("text-anchor", "middle")
                .set("class", "tick"),
        );
        t += tick;
    }
    group = group.add(
        text("virtual time (ms)", plot.1, axis_y + 36.0, 12.0, FAINT)
            .set("text-anchor", "end")
            .set("class", "axis-unit"),
    );

    // The scenario's return, across every row, labelled in the band above them.
    if let Some(us) = returned {
        let rx = x(us);
        group = group.add(
            line(rx, first - 14.0, rx, axis_y, INK)
                .set("stroke-dasharray", "4 3")
                .set("stroke-width", 1.5)
                .set("class", "returned"),
        );
        let words = format!("the scenario returned at {} ms", format_ms(us as f64 / 1000.0));
        let end_anchored = rx + text_width(&words, 12.0, false) > WIDTH - 4.0;
        let (anchor, dx) = if end_anchored {
            ("end", -6.0)
        } else {
            ("start", 6.0)
        };
        group = group.add(
            text(words, rx + dx, first - 5.0, 12.0, INK)
                .set("text-anchor", anchor)
                .set("class", "returned-label"),
        );
    }
    for label in labels {
        group = group.add(label);
    }
    let height = axis_y + 44.0 - top;
    (group, height)
}

/// An arrowhead past the right edge `edge`, for a bar that runs off it at height `mid`.
fn arrow(edge: f64, mid: f64, colour: &str) -> Polygon {
    let points = format!(
        "{},{} {},{} {},{}",
        round(edge),
        round(mid - BAR / 2.0 - 3.0),
        round(edge + 14.0),
        round(mid),
        round(edge),
        round(mid + BAR / 2.0 + 3.0)
    );
    Polygon::new().set("points", points).set("fill", colour)
}

/// What the colours in `used` mean, in a line at `y`.
fn legend(y: f64, used: &BTreeSet<&str>) -> Group {
    let mut group = Group::new().set("class", "legend");
    let mut x = 12.0;
    let meanings = [
        (SCENARIO, "the scenario"),
        (ENDED, "a task"),
        (OUTLIVED, "running after the return"),
        (LEAKED, "leaked: alive at the end"),
    ];
    for (colour, words) in meanings.into_iter().filter(|(colour, _)| used.contains(colour)) {
        group = group.add(
            Rectangle::new()
                .set("x", round(x))
                .set("y", round(y - 10.0))
                .set("width", 12)
                .set("height", 12)
                .set("rx", 2)
                .set("fill", colour),
        );
        group = group.add(text(words, x + 17.0, y, 12.0, FAINT));
        x += 17.0 + text_width(words, 12.0, false) + 22.0;
    }
    group
}

/// A leaked row's label: on its bar in white where it fits, else before the bar where
/// that fits, in the longest words that fit ("still alive · spawned at labs/x.rs:24",
/// then "still alive · line 24", then "still alive").
fn leak_label(row: &Row, x: &impl Fn(u64) -> f64, plot: (f64, f64), y: f64) -> Option<Text> {
    if row.fate != Fate::Leaked {
        return None;
    }
    let start = row.bars.first().map_or(plot.0, |&(s, _)| x(s));
    let mut choices = Vec::new();
    if !row.site.is_empty() {
        choices.push(format!("still alive · spawned at {}", row.site));
        choices.push(format!("still alive · {}", row.label));
    }
    choices.push("still alive".to_owned());
    choices.into_iter().find_map(|words| {
        if plot.1 - start >= text_width(&words, 12.0, true) + 14.0 {
            let label = text(words, start + 6.0, y, 12.0, "#ffffff").set("font-weight", "600");
            Some(label.set("class", "leak-label"))
        } else if start - plot.0 >= text_width(&words, 12.0, false) + 10.0 {
            let label = text(words, start - 6.0, y, 12.0, LEAKED).set("text-anchor", "end");
            Some(label.set("class", "leak-label"))
        } else {
            None
        }
    })
}

/// `12`, `2.5`, `0.25`: milliseconds without trailing zeros.
fn format_ms(ms: f64) -> String {
    let text = format!("{:.3}", ms);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// One line of a loom finding's detail as the picture shows it: a step with the source
/// line that made it, or a remark between steps (`=> wait() returned with 1 of 2
/// uploads finished; then:`).
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Step {
        step: Step,
        /// The line `step.at` points at, trimmed.
        source: Option<String>,
    },
    Mark(String),
}

/// The steps and remarks of a loom finding's detail, read in labkit's step format
/// (which the models write), each step with its line of source from the workspace at
/// `root`. Other lines are skipped.
pub fn steps(detail: &str, root: &Path) -> Vec<Item> {
    let lines = steps::parse(detail).into_iter();
    lines
        .map(|line| match line {
            steps::Line::Step(step) => {
                let source = step.at.as_deref().and_then(|at| source_line(root, at));
                Item::Step { step, source }
            }
            steps::Line::Mark(mark) => Item::Mark(mark.trim_end_matches("; then:").to_owned()),
        })
        .collect()
}

/// The trimmed text of `file:line` in the workspace at `root`.
fn source_line(root: &Path, at: &str) -> Option<String> {
    let (file, line) = at.rsplit_once(':')?;
    let line: usize = line.parse().ok()?;
    let text = std::fs::read_to_string(root.join(file)).ok()?;
    Some(text.lines().nth(line.checked_sub(1)?)?.trim().to_owned())
}

fn interleaving_panel(run: &Run, root: &Path) -> Panel {
    let heading = format!("{}: {}", side(run), run.file);
    let loom = run.reports.iter().find(|r| r.check == Check::Loom);
    let Some(report) = loom else {
        return Panel::Note {
            heading,
            note: "the model checker did not run".into(),
        };
    };
    let found = report.findings.iter().find_map(|f| {
        let items = steps(f.detail.as_deref()?, root);
        let any = items.iter().any(|item| matches!(item, Item::Step { .. }));
        any.then_some((f.kind, items))
    });
    match found {
        Some((kind, items)) => Panel::Steps {
            heading: format!("{heading} · the interleaving that goes wrong ({kind})"),
            items,
        },
        None if report.findings.is_empty() => {
            let measured = |name: &str| report.measured.get(name).copied();
            let tried = match (measured("executions"), measured("preemption_bound")) {
                (Some(n), Some(bound)) => format!("all {n} interleavings with up to {bound} preemptions"),
                (Some(n), None) => format!("all {n} interleavings"),
                _ => "every interleaving".to_owned(),
            };
            Panel::Note {
                heading: format!("{heading} · no interleaving goes wrong"),
                note: format!("The model checker tried {tried}: each one ends as it should."),
            }
        }
        None => Panel::Note {
            heading,
            note: report
                .findings
                .first()
                .map_or_else(String::new, |f| format!("{}: {}", f.kind, f.message)),
        },
    }
}

/// Draws the losing interleaving: a column per thread, a row per step, time downward,
/// and each remark as a line across the columns.
fn draw_steps(title: &str, items: &[Item], top: f64) -> (Group, f64) {
    let mut threads: Vec<&str> = Vec::new();
    for item in items {
        if let Item::Step { step, .. } = item
            && !threads.contains(&step.thread.as_str())
        {
            threads.push(&step.thread);
        }
    }
    let left = 40.0;
    let column = (WIDTH - left - 12.0) / threads.len().max(1) as f64;
    let first = top + HEADING + 40.0;
    let (step_h, mark_h) = (44.0, 30.0);
    let mut group = Group::new().set("class", "panel").add(heading(title, top));
    for (i, thread) in threads.iter().enumerate() {
        let cx = left + column * i as f64;
        group = group.add(
            text(*thread, cx + 8.0, first - 10.0, 14.0, INK)
                .set("font-weight", "600")
                .set("class", "thread"),
        );
    }
    let mut y = first;
    let mut number = 0;
    for item in items {
        match item {
            Item::Step { step, source } => {
                number += 1;
                let col = threads.iter().position(|t| *t == step.thread).unwrap_or(0);
                let x = left + column * col as f64;
                group = group.add(
                    text(number.to_string(), left - 10.0, y + 17.0, 12.0, FAINT).set("text-anchor", "end"),
                );
                group = group.add(
                    Rectangle::new()
                        .set("x", round(x))
                        .set("y", round(y))
                        .set("width", round(column - 12.0))
                        .set("height", step_h - 6.0)
                        .set("rx", 3)
                        .set("fill", "#eef3f9")
                        .set("stroke", ENDED)
                        .set("class", "step"),
                );
                group =
                    group.add(text(step.action(), x + 8.0, y + 16.0, 13.0, INK).set("font-weight", "600"));
                // Which line made the step, at the box's right; the line's text below.
                if let Some((_, number)) = step.at.as_deref().and_then(|at| at.rsplit_once(':')) {
                    let right = x + column - 20.0;
                    let where_ = text(format!("line {number}"), right, y + 16.0, 12.0, FAINT)
                        .set("text-anchor", "end")
                        .set("class", "step-line");
                    group = group.add(where_);
                }
                let chars = ((column - 24.0) / 6.6).max(10.0) as usize;
                let source = clip(source.as_deref().unwrap_or(""), chars);
                let mut source = text(source, x + 8.0, y + 32.0, 11.0, FAINT).set("font-family", MONO);
                if let Some(at) = &step.at {
                    source = source.add(Title::new(at.clone()));
                }
                group = group.add(source);
                y += step_h;
            }
            Item::Mark(mark) => {
                group =
                    group.add(line(left, y + 4.0, WIDTH - 12.0, y + 4.0, LEAKED).set("stroke-width", 1.5));
                group = group.add(
                    text(format!("⇒ {mark}"), left, y + 21.0, 14.0, LEAKED)
                        .set("font-weight", "600")
                        .set("class", "mark"),
                );
                y += mark_h;
            }
        }
    }
    (group, y - top + 4.0)
}

fn draw_note(title: &str, note: &str, top: f64) -> (Group, f64) {
    let group = Group::new()
        .set("class", "panel")
        .add(heading(title, top))
        .add(text(note, 12.0, top + HEADING + 22.0, 13.0, FAINT).set("class", "note"));
    (group, HEADING + 36.0)
}

/// `text` cut to `chars` characters, with an ellipsis when cut.
fn clip(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use labkit::Report;
    use svg::node::element::tag::Type;
    use svg::parser::Event;

    const LAB_FILE: &str = "labs/lab01_orphaned_task.rs";

    fn span(line: u32, spawned_ms: u64, ended_ms: Option<u64>) -> Span {
        Span {
            file: Some(LAB_FILE.to_owned()),
            line,
            spawned_us: spawned_ms * 1000,
            ended_us: ended_ms.map(|ms| ms * 1000),
        }
    }

    fn run(variant: Variant, file: &str, tasks: Vec<Span>, returned_ms: u64) -> Run {
        let mut report = Report::new(1, variant, Check::Scenario);
        let leaked = tasks.iter().any(|t| t.ended_us.is_none());
        if leaked {
            report
                .findings
                .push(labkit::Finding::new(labkit::Kind::LeakedTask, "leaked"));
        }
        report.timelines = vec![Timeline {
            tasks,
            returned_us: Some(returned_ms * 1000),
            inspected_us: (returned_ms + 1000) * 1000,
        }];
        Run {
            variant,
            file: file.to_owned(),
            passed: !leaked,
            reports: vec![report],
        }
    }

    /// An element of the picture: its tag, attributes, its text, and which panel it is in.
    #[derive(Debug)]
    struct Element {
        tag: String,
        attributes: std::collections::HashMap<String, String>,
        text: String,
        panel: usize,
    }

    impl Element {
        fn get(&self, name: &str) -> &str {
            self.attributes.get(name).map_or("", String::as_str)
        }
        fn number(&self, name: &str) -> f64 {
            self.get(name).parse().unwrap_or(f64::NAN)
        }
    }

    /// The picture read back with the svg crate's parser.
    fn parse(picture: &str) -> Vec<Element> {
        let mut elements: Vec<Element> = Vec::new();
        let (mut panel, mut open) = (0, Vec::<usize>::new());
        for event in svg::read(picture).expect("the picture parses") {
            match event {
                Event::Tag(tag, kind, attributes) => {
                    if tag == "g"
                        && kind == Type::Start
                        && attributes.get("class").is_some_and(|c| &**c == "panel")
                    {
                        panel += 1;
                    }
                    let element = Element {
                        tag: tag.to_owned(),
                        attributes: attributes
                            .iter()
                            .map(|(k, v)| (k.clone(), v.to_string()))
                            .collect(),
                        text: String::new(),
                        panel,
                    };
                    match kind {
                        Type::Start => {
                            open.push(elements.len());
                            elements.push(element);
                        }
                        Type::Empty => elements.push(element),
                        Type::End => {
                            open.pop();
                        }
                    }
                }
                Event::Text(text) => {
                    if let Some(&i) = open.last() {
                        elements[i].text.push_str(text.trim());
                    }
                }
                Event::Error(e) => panic!("the picture does not parse: {e}"),
                _ => {}
            }
        }
        elements
    }

    fn picture() -> Vec<Element> {
        let lab = leaklab_registry::lab(1).expect("lab 1");
        let broken = run(
            Variant::Yours,
            LAB_FILE,
            vec![span(18, 0, Some(10)), span(18, 10, None), span(18, 20, Some(80))],
            50,
        );
        let fixed = run(
            Variant::Solution,
            "solutions/lab01_orphaned_task.rs",
            vec![span(20, 0, Some(10))],
            50,
        );
        parse(&draw(lab, &[broken, fixed], Path::new(".")))
    }

    #[test]
    fn a_leaked_task_runs_off_the_right_edge_in_the_leak_colour_with_its_site() {
        let picture = picture();
        let leaked: Vec<&Element> = picture
            .iter()
            .filter(|e| e.get("class") == "task leaked")
            .collect();
        assert_eq!(leaked.len(), 1, "one leaked task, one bar");
        let bar = leaked[0];
        assert_eq!(bar.panel, 1, "the leak is in the broken run");
        assert_eq!(bar.get("fill"), LEAKED);
        assert_eq!(
            bar.number("x") + bar.number("width"),
            WIDTH - RIGHT,
            "it reaches the right edge"
        );
        let arrow = picture.iter().find(|e| e.tag == "polygon").expect("an arrowhead");
        assert!(
            arrow
                .get("points")
                .contains(&format!("{},", WIDTH - RIGHT + 14.0))
        );
        let label = picture
            .iter()
            .find(|e| e.get("class") == "leak-label")
            .expect("a leak label");
        assert!(
            label.text.contains("spawned at labs/lab01_orphaned_task.rs:18"),
            "{}",
            label.text
        );
    }

    #[test]
    fn the_fixed_run_has_no_leak_and_a_task_that_outlived_the_return_turns_orange() {
        let picture = picture();
        assert!(
            picture
                .iter()
                .filter(|e| e.panel == 2)
                .all(|e| !e.get("class").contains("leaked"))
        );
        let fixed_bars = picture
            .iter()
            .filter(|e| e.panel == 2 && e.get("class") == "task")
            .count();
        assert_eq!(fixed_bars, 1);
        // The task from 20 to 80 ms: blue up to the return at 50 ms, orange after.
        let outlived: Vec<&Element> = picture
            .iter()
            .filter(|e| e.get("class") == "task outlived")
            .collect();
        assert_eq!(outlived.len(), 2, "{outlived:?}");
        assert_eq!(outlived[0].get("fill"), ENDED);
        assert_eq!(outlived[1].get("fill"), OUTLIVED);
        assert_eq!(
            outlived[0].number("x") + outlived[0].number("width"),
            outlived[1].number("x")
        );
    }

    #[test]
    fn the_legend_names_only_the_colours_the_picture_uses() {
        let legend_words = |picture: Vec<Element>| -> Vec<String> {
            let start = picture.iter().position(|e| e.get("class") == "legend");
            let start = start.expect("a legend");
            let words = picture[start..].iter().filter(|e| e.tag == "text");
            words.map(|e| e.text.clone()).collect()
        };
        let every = [
            "the scenario",
            "a task",
            "running after the return",
            "leaked: alive at the end",
        ];
        assert_eq!(legend_words(picture()), every);
        // A clean run alone: its one task ended before the return.
        let lab = leaklab_registry::lab(1).expect("lab 1");
        let fixed = run(
            Variant::Solution,
            "solutions/lab01_orphaned_task.rs",
            vec![span(20, 0, Some(10))],
            50,
        );
        let clean = parse(&draw(lab, &[fixed], Path::new(".")));
        assert_eq!(legend_words(clean), ["the scenario", "a task"]);
    }

    #[test]
    fn the_axis_is_in_milliseconds_and_marks_the_return() {
        let picture = picture();
        assert!(picture.iter().any(|e| e.text == "virtual time (ms)"));
        let ticks: Vec<&str> = picture
            .iter()
            .filter(|e| e.panel == 1 && e.get("class") == "tick")
            .map(|e| e.text.as_str())
            .collect();
        // The last event is at 80 ms: the axis runs a little past it, on round ticks.
        assert_eq!(ticks, ["0", "20", "40", "60", "80", "100"]);
        let returned = picture
            .iter()
            .find(|e| e.panel == 1 && e.get("class") == "returned")
            .expect("a return line");
        let x_of_50_ms = GUTTER + (WIDTH - RIGHT - GUTTER) * 0.5;
        assert_eq!(returned.number("x1"), x_of_50_ms);
        let words = picture
            .iter()
            .find(|e| e.get("class") == "returned-label")
            .expect("its label");
        assert_eq!(words.text, "the scenario returned at 50 ms");
    }

    #[test]
    fn many_tasks_fold_into_a_row_per_site_and_fate() {
        let mut spans: Vec<Span> = (0..300).map(|i| span(27, i, Some(i + 5))).collect();
        spans.extend((0..200).map(|i| span(27, i, None)));
        spans.extend((0..15).map(|i| span(100 + i as u32, 0, Some(1))));
        let rows = rows(&spans, LAB_FILE, Some(1_000_000));
        assert_eq!(rows.len(), MAX_ROWS);
        let leaked = rows
            .iter()
            .find(|r| r.fate == Fate::Leaked)
            .expect("the leaks keep their row");
        assert_eq!(
            (leaked.count, leaked.label.as_str()),
            (200, "line 27 · 200 tasks")
        );
        assert_eq!(leaked.bars, vec![(0, None)], "open bars merge into one");
        let ended = rows
            .iter()
            .find(|r| r.count == 300)
            .expect("the busiest site keeps its row");
        assert_eq!(ended.bars, vec![(0, Some(304_000))]);
        let rest = rows.last().expect("a last row");
        assert_eq!(rest.label, "8 tasks from 8 other places");
        assert_eq!(rows.iter().map(|r| r.count).sum::<usize>(), spans.len());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_ms(200.0), 50.0);
        assert_eq!(tick_ms(60.0), 10.0);
        assert_eq!(tick_ms(12_000.0), 2000.0);
        assert_eq!(format_ms(0.25), "0.25");
        assert_eq!(format_ms(100.0), "100");
    }

    #[test]
    fn a_loom_finding_reads_as_steps_with_their_source_lines() {
        let root = std::env::temp_dir().join(format!("leaklab-timeline-{}", std::process::id()));
        std::fs::create_dir_all(root.join("labs")).expect("a folder");
        std::fs::write(
            root.join("labs/c.rs"),
            "fn a() {\n    let n = c.load(Relaxed);\n}\n",
        )
        .expect("a file");
        let detail = "booking thread 1: load reads 0 at labs/c.rs:2\nbooking thread 2: store writes 1\n\
                      => total() returned 1; then:\n(a note, not a step)\nmain: unlock";
        let items = steps(detail, &root);
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(items.len(), 4, "{items:?}");
        let Item::Step { step, source } = &items[0] else {
            panic!("a step first")
        };
        assert_eq!(step.thread, "booking thread 1");
        assert_eq!(step.action(), "load reads 0");
        assert_eq!(source.as_deref(), Some("let n = c.load(Relaxed);"));
        assert_eq!(items[2], Item::Mark("total() returned 1".to_owned()));
    }

    #[test]
    fn the_picture_reads_the_steps_as_the_models_write_them() {
        let written = Step {
            thread: "upload 2".into(),
            op: "fetch_sub".into(),
            read: Some(2),
            wrote: Some(1),
            at: Some("labs/c.rs:9".into()),
        };
        let detail = format!(
            "{}\n{}",
            steps::render(std::slice::from_ref(&written)),
            steps::mark("wait() returned; then:")
        );
        let items = steps(&detail, Path::new("/no/such/folder"));
        let step = Item::Step {
            step: written,
            source: None,
        };
        assert_eq!(items, [step, Item::Mark("wait() returned".into())]);
    }
}
