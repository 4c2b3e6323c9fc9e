//! What the detector's hooks cost: the same two workloads on a runtime the detector
//! builds (hooks on) and on a plain runtime of the same flavour, in alternating rounds
//! of one process.
//!
//! - spawn-and-join: 100,000 empty tasks spawned, then joined (the spawn and terminate
//!   hooks);
//! - poll-heavy: 10,000 tasks that each yield 100 times (a million polls, which once
//!   each cost a hook).
//!
//! Why not criterion alone: criterion measures one function, then the next, and on a
//! machine other jobs share, the load can change between the two. Here each round
//! times both, plain first in one round and hooked first in the next, and the ratio is
//! the median of the rounds' ratios. Each side is timed inside its runtime, so building
//! the runtime and the detector's settle and report are not counted; and on CPU time
//! as well as wall time: a core taken by another process does not count as CPU time.
//!
//! Time on a shared machine is noisy, so each row gives two ratios: the median of the
//! rounds' ratios, and the ratio of the best (fastest) round of each side, the one the
//! least disturbed by other jobs.
//!
//! Instructions are not noisy at all. Where valgrind is installed, this program also
//! runs itself under callgrind, counting only the instructions executed inside the
//! workload (its own polls, and the runtime's polls of its tasks with their hooks), at
//! two sizes: the difference is the instructions one more task or one more poll costs,
//! plain and hooked, whatever the machine's load.
//!
//! History (2 cores, release): hooks that read `/proc` and took two global locks on
//! every poll made these 51x and 200x slower; per-thread poll slots and append-only
//! spawn logs brought them to about 1.1x; one poll hook instead of a pair (a thread's
//! slot goes idle when it parks) took a poll's extra instructions from 47 to 24; no poll
//! hook at all (the watchdog reads tokio's own poll counts) took them to 0. Spawn and
//! terminate hooks that store into a table indexed by task id, with no lock and no
//! count, took a spawned and joined task's extra instructions from 192 to 94
//! (current-thread) and from 234 to 145 (multi-thread, which also read the real clock
//! twice per task). Hooks that load a copy of the clock instead (refreshed when a thread
//! wakes, and by every 64th task) took them to 85 and 87. About 20 of those are tokio's
//! own handling of hooks: it clones the terminate hook's `Arc` into every task.
//!
//! `cargo run --release -p leaklab-benches --bin overhead [-- --rounds N]`; writes
//! target/leaklab-bench/overhead.json for `bench-table`.

use leaklab_benches::measure::{self, human};
use leaklab_benches::{Flavour, on, spawn_and_join, timed, yield_many};
use serde_json::json;
use std::time::Duration;

const SPAWNED: usize = 100_000;
const YIELDERS: usize = 10_000;
const YIELDS: usize = 100;

#[derive(Clone, Copy)]
enum Workload {
    SpawnAndJoin,
    PollHeavy,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::SpawnAndJoin => "spawn-and-join, 100,000 tasks",
            Workload::PollHeavy => "poll-heavy, 10,000 tasks x 100 polls",
        }
    }

    /// One timed run (after a warm-up run) on a fresh runtime: (wall, CPU).
    fn time(self, flavour: Flavour, hooked: bool) -> (Duration, Duration) {
        match self {
            Workload::SpawnAndJoin => on(flavour, hooked, || timed(flavour, 1, || spawn_and_join(SPAWNED))),
            Workload::PollHeavy => on(flavour, hooked, || {
                timed(flavour, 1, || yield_many(YIELDERS, YIELDS))
            }),
        }
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// What one run of a workload costs in instructions, by callgrind's count: the child
/// side of `instructions`, run under valgrind.
fn count_child(side: &str, workload: &str, size: usize, flavour: Flavour) {
    let hooked = side == "hooked";
    match workload {
        "spawn" => on(flavour, hooked, || timed(flavour, 1, || spawn_and_join(size))),
        _ => on(flavour, hooked, || {
            timed(flavour, 1, || yield_many(INSTRUCTION_YIELDERS, size))
        }),
    };
}

const INSTRUCTION_YIELDERS: usize = 500;

/// Instructions executed inside the workload for one run of `workload` at `size` on
/// `flavour`, or `None` without valgrind.
///
/// Valgrind runs one thread at a time, so on two workers the count also holds what that
/// order makes the scheduler do (wake-ups, steals); it still repeats to within a per cent.
fn instructions(side: &str, workload: &str, size: usize, flavour: Flavour) -> Option<u64> {
    let polls = match flavour {
        Flavour::Paused => "--toggle-collect=*current_thread*Context*run_task*",
        Flavour::MultiThread => "--toggle-collect=*multi_thread*worker*Context*run_task*",
    };
    let out = std::process::Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            // Only inside the runtime's polls of tasks (hooks included) and the
            // workload's own future (spawns, spawn hooks, joins): not building the
            // runtime, not the detector's settle and report. (Nor the park hook: nine
            // instructions once per park, a few dozen times per run.)
            polls,
            "--toggle-collect=leaklab_benches::spawn_and_join*",
            "--toggle-collect=leaklab_benches::yield_many*",
        ])
        .arg(std::env::current_exe().ok()?)
        .args(["--count", side, workload, &size.to_string(), flavour.name()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text.lines().find(|l| l.contains("Collected :"))?;
    line.rsplit(':').next()?.trim().replace(',', "").parse().ok()
}

/// Instructions per task (spawn and join) and per poll, plain and hooked, from the
/// difference between two sizes; `None` without valgrind.
fn instruction_rows() -> Option<Vec<serde_json::Value>> {
    let mut rows = Vec::new();
    // (workload, its name, the smaller size, units per size step)
    let cases = [
        ("spawn", "spawn-and-join: per task", 5_000, 5_000),
        ("yield", "poll-heavy: per poll", 50, 50 * INSTRUCTION_YIELDERS),
    ];
    for flavour in Flavour::ALL {
        for (workload, name, size, units) in cases {
            let mut per = [0.0; 2];
            for (i, side) in ["plain", "hooked"].into_iter().enumerate() {
                let small = instructions(side, workload, size, flavour)?;
                let large = instructions(side, workload, 2 * size, flavour)?;
                // `timed` runs the workload twice (a warm-up, then the timed run).
                per[i] = large.saturating_sub(small) as f64 / (2 * units) as f64;
            }
            println!(
                "{name:<38} {:<16} {:>8.0} instructions plain, {:>8.0} hooked: {:.3}x",
                flavour.name(),
                per[0],
                per[1],
                per[1] / per[0]
            );
            rows.push(json!({
                "workload": name,
                "flavour": flavour.name(),
                "plain": per[0],
                "hooked": per[1],
                "ratio": per[1] / per[0],
            }));
        }
    }
    Some(rows)
}

fn rounds_from_args() -> usize {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, side, workload, size, flavour] if flag == "--count" => {
            let flavour = Flavour::ALL
                .into_iter()
                .find(|f| f.name() == flavour)
                .unwrap_or_else(|| usage(&format!("--count: no runtime called '{flavour}'")));
            count_child(
                side,
                workload,
                size.parse().unwrap_or_else(|_| usage("--count wants a size")),
                flavour,
            );
            std::process::exit(0);
        }
        [] => 21,
        [flag, n] if flag == "--rounds" => match n.parse() {
            Ok(n) if n > 0 => n,
            _ => usage(&format!("--rounds wants a positive number, not '{n}'")),
        },
        _ => usage(&format!("unexpected arguments: {}", args.join(" "))),
    }
}

fn usage(problem: &str) -> ! {
    eprintln!("overhead: {problem}\nusage: overhead [--rounds N]");
    std::process::exit(2);
}

fn main() {
    let rounds = rounds_from_args();
    let load_before = measure::load_average();
    println!(
        "{:<38} {:<16} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7}",
        "workload", "runtime", "plain", "detector", "wall", "plain", "detector", "CPU"
    );
    let mut rows = Vec::new();
    for flavour in Flavour::ALL {
        for workload in [Workload::SpawnAndJoin, Workload::PollHeavy] {
            let (mut plain, mut hooked) = (Vec::new(), Vec::new());
            for round in 0..rounds {
                // Alternate which side goes first, so neither always gets the warmer cache.
                let order = if round % 2 == 0 {
                    [false, true]
                } else {
                    [true, false]
                };
                for side in order {
                    let timing = workload.time(flavour, side);
                    if side { &mut hooked } else { &mut plain }.push(timing);
                }
            }
            let ns = |d: Duration| d.as_nanos() as f64;
            let ratio = |pick: fn(&(Duration, Duration)) -> Duration| {
                median(
                    plain
                        .iter()
                        .zip(&hooked)
                        .map(|(p, h)| ns(pick(h)) / ns(pick(p)))
                        .collect(),
                )
            };
            let best = |pick: fn(&(Duration, Duration)) -> Duration| {
                let min =
                    |side: &[(Duration, Duration)]| side.iter().map(|t| ns(pick(t))).fold(f64::MAX, f64::min);
                min(&hooked) / min(&plain)
            };
            let med = |side: &[(Duration, Duration)], pick: fn(&(Duration, Duration)) -> Duration| {
                median(side.iter().map(|t| ns(pick(t))).collect())
            };
            let wall = |t: &(Duration, Duration)| t.0;
            let cpu = |t: &(Duration, Duration)| t.1;
            let row = json!({
                "workload": workload.name(),
                "flavour": flavour.name(),
                "rounds": rounds,
                "plain_wall_ns": med(&plain, wall),
                "hooked_wall_ns": med(&hooked, wall),
                "ratio_wall": ratio(wall),
                "plain_cpu_ns": med(&plain, cpu),
                "hooked_cpu_ns": med(&hooked, cpu),
                "ratio_cpu": ratio(cpu),
                "best_ratio_wall": best(wall),
                "best_ratio_cpu": best(cpu),
            });
            println!(
                "{:<38} {:<16} {:>10} {:>10} {:>6.3}x {:>10} {:>10} {:>6.3}x  best {:.3}x {:.3}x",
                workload.name(),
                flavour.name(),
                human(med(&plain, wall)),
                human(med(&hooked, wall)),
                ratio(wall),
                human(med(&plain, cpu)),
                human(med(&hooked, cpu)),
                ratio(cpu),
                best(wall),
                best(cpu),
            );
            rows.push(row);
        }
    }
    let load_after = measure::load_average();
    println!("load average: {load_before:?} before, {load_after:?} after");
    let instructions = instruction_rows();
    if instructions.is_none() {
        println!("no instruction counts: valgrind is not installed (apt-get install valgrind)");
    }
    measure::save(
        "overhead",
        &json!({
            "rows": rows,
            "instructions": instructions,
            "load_before": load_before,
            "load_after": load_after,
        }),
    );
}
