//! The Classroom 50 tests file, generated from the registry by `cargo lab dev`.
//!
//! Classroom 50 grades a submission by running declarative tests in the student's
//! checkout: a JSON array of `{"name", "type": "run", "run", "timeout", "points"}`
//! entries, each passing when its command exits 0, each command in a fresh shell with
//! 1-600 s, and at most 2,000 characters of output kept. So there is one test per lab,
//! `cargo lab grade N`, whose first line is the verdict; and before them one zero-point
//! test named `setup`, which is how Classroom 50 stores an assignment's Setup command.
//! It runs once and builds the runner and every check binary (a cold build compiles
//! tokio and the loom model in release mode: minutes, where a lab's test then takes
//! seconds). A per-test `setup` field would instead run before every test and count the
//! build against each lab's timeout.
//!
//! Every command pins the manifest by its SHA-256, so the tests are only as current as
//! the manifest: `cargo lab dev --check` fails when either is stale.

use super::limits::Limits;
use leaklab_registry::LABS;
use serde::Serialize;

/// Where the file lives, relative to the workspace.
pub const FILE: &str = "classroom/tests.json";

/// Time for cargo to find the runner and the checks fresh, on top of a check's own
/// wall limit.
const STARTUP_SECS: u64 = 30;

/// The setup command's time: the most Classroom 50 allows, for a cold build.
const SETUP_SECS: u64 = 600;

/// One declarative test, its fields in the order the platform's docs list them.
#[derive(Serialize)]
struct Test {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    run: String,
    timeout: u64,
    points: u32,
}

/// The tests file, for a manifest whose SHA-256 is `pin`.
pub fn generate(pin: &str) -> String {
    let limits = Limits::default();
    let mut tests = vec![Test {
        name: "setup".into(),
        kind: "run",
        run: format!("cargo lab grade --build-only --manifest-sha256 {pin}"),
        timeout: SETUP_SECS,
        points: 0,
    }];
    for lab in LABS {
        let checks: u64 = lab.checks.iter().map(|&check| limits.wall(check).as_secs()).sum();
        let timeout = (checks + STARTUP_SECS).min(SETUP_SECS);
        tests.push(Test {
            name: super::results::lab_name(lab),
            kind: "run",
            run: format!("cargo lab grade {} --manifest-sha256 {pin}", lab.number),
            timeout,
            points: super::results::POINTS,
        });
    }
    let lines: Vec<String> = tests
        .iter()
        .map(|test| serde_json::to_string(test).expect("a test serialises"))
        .collect();
    format!("[\n  {}\n]\n", lines.join(",\n  "))
}
