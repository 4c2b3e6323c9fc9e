//! How the detector's cost grows with the number of tasks: 10,000, 100,000 and a
//! million tasks spawned in one scenario, each size in a child process of its own so
//! that its peak memory is its own (getrusage's maximum resident set).
//!
//! The scenario spawns every task first, so that all are alive at once (the most the
//! detector holds), then lets them finish, except one in a hundred, which waits
//! forever: the leaks the report has to name. Timed separately:
//! - the scenario (spawning and joining: the hooks' share);
//! - the settle window and the inspection (the detector's own work once the scenario
//!   returns: merging its logs into one record per task);
//! - the report (the leak finding, its leaks grouped by spawn site).
//!
//! The same scenario on a plain runtime gives the baseline for time and memory. If the
//! detector grows linearly, each column grows ten times from one size to the next.
//!
//! Then the watchdog, on a million tasks: a task that spins (a poll that never returns)
//! and a runtime that is idle with nothing to wake it must still be reported, and within
//! seconds. Each runs in a child under leaklab's check harness, as a lab's check would;
//! a missing or wrong finding makes this program fail (exit 1).
//!
//! `cargo run --release -p leaklab-benches --bin scale`; writes
//! target/leaklab-bench/scale.json for `bench-table`.

use labkit::child::{Meta, run_check_command, serve};
use labkit::{Check, Kind, Variant, Verdict};
use leaklab_benches::measure::{self, human};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];
/// One task in this many waits forever.
const LEAK_EVERY: usize = 100;
const STALL_TASKS: usize = 1_000_000;

const META: Meta = Meta {
    lab: 0,
    variant: Variant::Solution,
    check: Check::Scenario,
};

/// Spawns `tasks` tasks that wait at a gate, opens it, and joins all but the leaked
/// ones. Returns how long that took.
async fn scenario(tasks: usize) -> Duration {
    let started = Instant::now();
    let (open, gate) = tokio::sync::watch::channel(false);
    let mut joined = Vec::with_capacity(tasks);
    for task in 0..tasks {
        if task % LEAK_EVERY == 0 {
            tokio::spawn(std::future::pending::<()>());
        } else {
            let mut gate = gate.clone();
            joined.push(tokio::spawn(async move {
                let _ = gate.wait_for(|open| *open).await;
            }));
        }
    }
    open.send(true).expect("the tasks hold the gate");
    for task in joined {
        task.await.expect("a task does not panic");
    }
    started.elapsed()
}

/// The child for one size: one JSON line on stdout.
fn measure_one(side: &str, tasks: usize) -> Value {
    let started = Instant::now();
    let mut row = json!({ "side": side, "tasks": tasks });
    if side == "detector" {
        let outcome = labkit::Detector::paused()
            .without_stacks()
            .run(|| scenario(tasks));
        let run = started.elapsed();
        let reporting = Instant::now();
        let finding = outcome.leak_finding("after the scenario returned");
        let report_ns = reporting.elapsed().as_nanos() as u64;
        let leaked = finding.as_ref().map_or(0, |f| f.measured["alive_tasks"]);
        assert_eq!(leaked as usize, tasks.div_ceil(LEAK_EVERY), "every leak reported");
        row["scenario_ns"] = json!(outcome.output.as_nanos() as u64);
        row["settle_inspect_ns"] = json!((run - outcome.output).as_nanos() as u64);
        row["report_ns"] = json!(report_ns);
        row["leaks"] = json!(leaked);
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .start_paused(true)
            .enable_all()
            .build()
            .expect("a runtime");
        let took = runtime.block_on(scenario(tasks));
        row["scenario_ns"] = json!(took.as_nanos() as u64);
    }
    row["total_ns"] = json!(started.elapsed().as_nanos() as u64);
    row["peak_bytes"] = json!(measure::peak_memory());
    row
}

/// A stall in a run of `STALL_TASKS` alive tasks, under the check harness.
fn stall(kind: &str) -> ! {
    let kind = kind.to_owned();
    serve(META, move || {
        labkit::Detector::paused().without_stacks().run(|| async move {
            for spawned in 1..=STALL_TASKS {
                tokio::spawn(std::future::pending::<()>());
                // The setup waits a virtual millisecond now and then, as a scenario
                // does between requests: spawning a million tasks takes seconds of
                // wall time, and doing it all at one virtual instant, or without an
                // `.await`, would be a stall of its own (a frozen clock, a poll that
                // lasts over a second) before the one this is about. Each wait also
                // has the tasks spawned so far polled once.
                if spawned % 10_000 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            if kind == "spin" {
                let spinner = tokio::spawn(async {
                    loop {
                        std::hint::spin_loop();
                    }
                });
                let _ = spinner.await;
            } else {
                let (_kept, never) = tokio::sync::oneshot::channel::<()>();
                let _ = never.await;
            }
        });
        Verdict::default()
    })
}

fn child(args: &[String]) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("this program"));
    command.args(args);
    command
}

fn run_size(side: &str, tasks: usize) -> Value {
    let out = child(&["--child".into(), side.into(), tasks.to_string()])
        .output()
        .expect("run a child");
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        eprintln!(
            "scale: the {side} child for {tasks} tasks failed ({})",
            out.status
        );
        std::process::exit(1);
    }
    serde_json::from_slice(&out.stdout).expect("the child prints its row as JSON")
}

/// Runs a stall child; the finding's kind, how long it took, and its message.
fn run_stall(kind: &str, expect: Kind) -> Value {
    let started = Instant::now();
    let report = run_check_command(
        child(&["--child".into(), "stall".into(), kind.into()]),
        META,
        Duration::from_secs(120),
    );
    let took = started.elapsed();
    let Some(finding) = report.findings.first() else {
        eprintln!("scale: the watchdog reported nothing for a {kind} among {STALL_TASKS} tasks");
        std::process::exit(1);
    };
    println!(
        "{kind} among {STALL_TASKS} tasks: {:?} after {:.1} s: {}",
        finding.kind,
        took.as_secs_f64(),
        finding.message
    );
    if finding.kind != expect {
        eprintln!("scale: expected {expect:?}, the watchdog said {:?}", finding.kind);
        std::process::exit(1);
    }
    json!({
        "stall": kind,
        "tasks": STALL_TASKS,
        "kind": format!("{:?}", finding.kind),
        "seconds": took.as_secs_f64(),
        "measured": finding.measured,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, side, tasks] if flag == "--child" && side != "stall" => {
            let tasks = tasks.parse().expect("a number of tasks");
            println!("{}", measure_one(side, tasks));
            return;
        }
        [flag, side, kind] if flag == "--child" => stall(kind),
        _ => {
            eprintln!("scale: takes no arguments\nusage: scale");
            std::process::exit(2);
        }
    }
    let load_before = measure::load_average();
    println!(
        "{:>9}  {:>10} {:>10} {:>10} {:>10} {:>9} {:>9} {:>8}",
        "tasks", "plain", "scenario", "settle", "report", "plain", "detector", "leaks"
    );
    let mut rows = Vec::new();
    for tasks in SIZES {
        let plain = run_size("plain", tasks);
        let hooked = run_size("detector", tasks);
        let ns = |row: &Value, key: &str| row[key].as_f64().unwrap_or(0.0);
        let mib = |row: &Value| ns(row, "peak_bytes") / (1024.0 * 1024.0);
        println!(
            "{tasks:>9}  {:>10} {:>10} {:>10} {:>10} {:>6.1}MiB {:>6.1}MiB {:>8}",
            human(ns(&plain, "scenario_ns")),
            human(ns(&hooked, "scenario_ns")),
            human(ns(&hooked, "settle_inspect_ns")),
            human(ns(&hooked, "report_ns")),
            mib(&plain),
            mib(&hooked),
            hooked["leaks"],
        );
        rows.push(json!({ "tasks": tasks, "plain": plain, "detector": hooked }));
    }
    let stalls = vec![run_stall("spin", Kind::Spin), run_stall("hang", Kind::Hang)];
    let load_after = measure::load_average();
    println!("load average: {load_before:?} before, {load_after:?} after");
    measure::save(
        "scale",
        &json!({ "rows": rows, "stalls": stalls, "load_before": load_before, "load_after": load_after }),
    );
}
