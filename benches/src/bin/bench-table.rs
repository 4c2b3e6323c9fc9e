//! Writes the book's benchmark tables (book/src/generated/benchmarks.md) from what the
//! benchmarks left in the target folder, so that no number in the book is typed:
//! - criterion's estimates, `target/criterion/**/new/{benchmark,estimates}.json`;
//! - `target/leaklab-bench/overhead.json` and `scale.json`, from `overhead` and `scale`;
//! - and the machine they ran on.
//!
//! Each criterion group becomes one table: a row per benchmark, a column per parameter
//! (threads, tasks, runtime), and in each cell the time per element of the group's
//! throughput (per increment, per task, per poll), so that sizes compare at a glance.
//!
//! `cargo run --release -p leaklab-benches --bin bench-table` (run by `just bench`).

use leaklab_benches::measure::{self, human};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The groups, in the chapter's order: (criterion group, heading, "per" what).
const GROUPS: [(&str, &str, &str); 7] = [
    ("counter", "Lab 3: the counter, by threads", "increment"),
    ("join", "Lab 2: waiting for every task, by tasks", "task"),
    ("cancel", "Lab 4: checking the token", "note"),
    ("timeout", "Lab 9: a timeout around a ready future", "call"),
    (
        "locks",
        "Lab 12: a read-heavy cache, 4 tasks on 2 workers",
        "chart opened",
    ),
    (
        "detector_spawn_join",
        "The detector: spawn and join 10,000 tasks (CPU time)",
        "task",
    ),
    (
        "detector_poll_heavy",
        "The detector: 1,000 tasks polled 100 times each (CPU time)",
        "poll",
    ),
];

/// One criterion benchmark's result.
struct Bench {
    function: String,
    parameter: String,
    /// Nanoseconds per iteration: criterion's slope estimate, or its mean.
    nanos: f64,
    /// Elements per iteration.
    elements: f64,
}

impl Bench {
    fn per_element(&self) -> f64 {
        self.nanos / self.elements.max(1.0)
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Every `new/benchmark.json` under `dir`, with its `estimates.json`.
fn collect(dir: &Path, found: &mut BTreeMap<String, Vec<Bench>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(bench) = read_bench(&path) {
                found.entry(bench.0).or_default().push(bench.1);
            }
        } else if path.file_name().is_none_or(|n| n != "report") {
            collect(&path, found);
        }
    }
}

fn read_bench(new: &Path) -> Option<(String, Bench)> {
    let meta = read_json(&new.join("benchmark.json"))?;
    let estimates = read_json(&new.join("estimates.json"))?;
    let nanos = estimates["slope"]["point_estimate"]
        .as_f64()
        .or_else(|| estimates["mean"]["point_estimate"].as_f64())?;
    let elements = meta["throughput"]["Elements"]
        .as_f64()
        .or_else(|| meta["throughput"]["ElementsAndBytes"]["elements"].as_f64())
        .unwrap_or(1.0);
    let text = |key: &str| meta[key].as_str().unwrap_or_default().to_owned();
    Some((
        text("group_id"),
        Bench {
            function: text("function_id"),
            parameter: text("value_str"),
            nanos,
            elements,
        },
    ))
}

/// A parameter column's sort key: numbers by value, the rest as they came.
fn column_key(parameter: &str) -> (u64, String) {
    (parameter.parse().unwrap_or(u64::MAX), parameter.to_owned())
}

fn group_table(out: &mut String, heading: &str, per: &str, benches: &[Bench]) {
    let _ = writeln!(out, "### {heading}\n");
    let mut columns: Vec<&str> = benches.iter().map(|b| b.parameter.as_str()).collect();
    columns.sort_by_key(|c| column_key(c));
    columns.dedup();
    let mut rows: Vec<&str> = Vec::new();
    for bench in benches {
        if !rows.contains(&bench.function.as_str()) {
            rows.push(&bench.function);
        }
    }
    let detector = benches.iter().any(|b| b.function == "hooked");
    let cell = |row: &str, column: &str| {
        benches
            .iter()
            .find(|b| b.function == row && b.parameter == column)
            .map(Bench::per_element)
    };
    // Plain before hooked; otherwise fastest first, by the first column.
    if detector {
        rows.sort_by_key(|r| *r != "plain");
    } else if let Some(first) = columns.first() {
        rows.sort_by(|a, b| {
            let time = |row: &str| cell(row, first).unwrap_or(f64::MAX);
            time(a).total_cmp(&time(b))
        });
    }
    let titles: Vec<String> = columns
        .iter()
        .map(|c| {
            if c.is_empty() {
                format!("per {per}")
            } else {
                (*c).to_owned()
            }
        })
        .collect();
    let _ = writeln!(out, "| time per {per} | {} |", titles.join(" | "));
    let _ = writeln!(out, "|---|{}", "---:|".repeat(columns.len()));
    for row in &rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| cell(row, c).map_or("–".to_owned(), human))
            .collect();
        let _ = writeln!(out, "| `{row}` | {} |", cells.join(" | "));
    }
    if detector {
        let ratios: Vec<String> = columns
            .iter()
            .map(|c| match (cell("plain", c), cell("hooked", c)) {
                (Some(plain), Some(hooked)) => format!("{:.3}x", hooked / plain),
                _ => "–".to_owned(),
            })
            .collect();
        let _ = writeln!(out, "| hooked / plain | {} |", ratios.join(" | "));
    }
    out.push('\n');
}

fn overhead_table(out: &mut String, overhead: &Value) {
    let _ = writeln!(
        out,
        "### The detector's hooks, alternating rounds (`overhead`)\n\n\
         {} rounds, each timing a plain runtime and the detector one after the other \
         (in turn first): the median time of each side, the median of the rounds' ratios, \
         and the ratio of each side's best round.\n",
        overhead["rows"][0]["rounds"]
    );
    let _ = writeln!(
        out,
        "| workload | runtime | plain (wall) | detector (wall) | ratio | best | plain (CPU) | detector (CPU) | ratio | best |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in overhead["rows"].as_array().into_iter().flatten() {
        let ns = |key: &str| human(row[key].as_f64().unwrap_or(0.0));
        let ratio = |key: &str| format!("{:.3}x", row[key].as_f64().unwrap_or(0.0));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row["workload"].as_str().unwrap_or_default(),
            row["flavour"].as_str().unwrap_or_default(),
            ns("plain_wall_ns"),
            ns("hooked_wall_ns"),
            ratio("ratio_wall"),
            ratio("best_ratio_wall"),
            ns("plain_cpu_ns"),
            ns("hooked_cpu_ns"),
            ratio("ratio_cpu"),
            ratio("best_ratio_cpu"),
        );
    }
    out.push('\n');
    if let Some(rows) = overhead["instructions"].as_array() {
        let _ = writeln!(
            out,
            "Instructions executed inside the workload (callgrind), per task spawned and \
             joined and per poll. Valgrind runs one thread at a time, so on two workers the \
             count also holds the wake-ups that order causes; it repeats to within a per cent.\n"
        );
        let _ = writeln!(out, "| instructions | runtime | plain | detector | ratio |");
        let _ = writeln!(out, "|---|---|---:|---:|---:|");
        for row in rows {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | {:.3}x |",
                row["workload"].as_str().unwrap_or_default(),
                // Results from before the multi-thread rows were all current-thread.
                row["flavour"].as_str().unwrap_or("current-thread"),
                row["plain"].as_f64().unwrap_or(0.0),
                row["hooked"].as_f64().unwrap_or(0.0),
                row["ratio"].as_f64().unwrap_or(0.0),
            );
        }
        out.push('\n');
    }
}

fn scale_table(out: &mut String, scale: &Value) {
    let _ = writeln!(
        out,
        "### The detector on 10,000 to a million tasks (`scale`)\n\n\
         One scenario spawns every task, lets all but one in a hundred finish, and \
         returns; each size runs in a child process of its own, for its peak memory. \
         `settle + inspect` is the detector's work after the scenario returns; `report` \
         builds the leak finding.\n"
    );
    let _ = writeln!(
        out,
        "| tasks | plain runtime | scenario under the detector | settle + inspect | report | peak memory, plain | peak memory, detector | leaks named |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mib = |v: &Value| format!("{:.1} MiB", v.as_f64().unwrap_or(0.0) / (1024.0 * 1024.0));
    for row in scale["rows"].as_array().into_iter().flatten() {
        let (plain, hooked) = (&row["plain"], &row["detector"]);
        let ns = |v: &Value| human(v.as_f64().unwrap_or(0.0));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row["tasks"],
            ns(&plain["scenario_ns"]),
            ns(&hooked["scenario_ns"]),
            ns(&hooked["settle_inspect_ns"]),
            ns(&hooked["report_ns"]),
            mib(&plain["peak_bytes"]),
            mib(&hooked["peak_bytes"]),
            hooked["leaks"],
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "| stall among a million alive tasks | the watchdog's finding | reported after |"
    );
    let _ = writeln!(out, "|---|---|---:|");
    for stall in scale["stalls"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "| {} | `{}` | {:.1} s |",
            match stall["stall"].as_str() {
                Some("spin") => "a task that never reaches an `.await`",
                _ => "a runtime idle with nothing to wake it",
            },
            stall["kind"].as_str().unwrap_or_default().to_lowercase(),
            stall["seconds"].as_f64().unwrap_or(0.0),
        );
    }
    out.push('\n');
}

fn command(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn machine(out: &mut String, loads: &[Option<f64>]) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let kib: f64 = m.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some(format!("{:.0} GiB", kib / (1024.0 * 1024.0)))
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = command("rustc", &["--version"]).unwrap_or_else(|| "rustc (unknown)".into());
    let date = command("date", &["-u", "+%Y-%m-%d"]).unwrap_or_default();
    let loads: Vec<String> = loads.iter().flatten().map(|l| format!("{l:.1}")).collect();
    let _ = writeln!(
        out,
        "Measured on {date}: {cpu}, {cores} cores, {memory} of memory, Linux {}, {rustc}, \
         release build. The machine's load average (one minute) during the runs: {}.\n",
        kernel.trim(),
        if loads.is_empty() {
            "not recorded".to_owned()
        } else {
            loads.join(", ")
        },
    );
}

fn main() {
    if std::env::args().len() > 1 {
        eprintln!("bench-table: takes no arguments\nusage: bench-table");
        std::process::exit(2);
    }
    let target = measure::target_dir();
    let mut groups = BTreeMap::new();
    collect(&target.join("criterion"), &mut groups);
    let overhead = read_json(&measure::results_dir().join("overhead.json"));
    let scale = read_json(&measure::results_dir().join("scale.json"));
    if groups.is_empty() {
        eprintln!(
            "bench-table: no criterion results under {}: run `just bench` (or `cargo bench -p leaklab-benches`) first",
            target.join("criterion").display()
        );
        std::process::exit(2);
    }

    let mut out = String::from(
        "<!-- Written by `cargo run -p leaklab-benches --bin bench-table` from criterion's \
         estimates and target/leaklab-bench/: do not edit. -->\n\n",
    );
    let loads: Vec<Option<f64>> = [&overhead, &scale]
        .into_iter()
        .flatten()
        .flat_map(|v| [v["load_before"].as_f64(), v["load_after"].as_f64()])
        .collect();
    machine(&mut out, &loads);
    for (group, heading, per) in GROUPS {
        if let Some(benches) = groups.get(group) {
            group_table(&mut out, heading, per, benches);
        }
    }
    if let Some(overhead) = &overhead {
        overhead_table(&mut out, overhead);
    }
    if let Some(scale) = &scale {
        scale_table(&mut out, scale);
    }
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "book",
        "src",
        "generated",
        "benchmarks.md",
    ]
    .iter()
    .collect();
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("create book/src/generated");
    std::fs::write(&path, out).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    println!("wrote {}", path.display());
}
