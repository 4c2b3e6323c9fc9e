//! The platform configs that run `cargo lab grade`: the Classroom 50 tests file (one
//! test per lab in the registry, each command runnable here) and the GitHub Actions
//! workflow (it parses, grades, and publishes the summary and the results).

#[path = "grading/support.rs"]
mod support;

use serde_json::Value;
use std::process::Command;
use support::repo;

/// The labs in the registry, by number, as the runner lists them.
fn lab_numbers() -> Vec<u64> {
    let out = Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .args(["list", "--json"])
        .env("LEAKLAB_ROOT", repo())
        .output()
        .expect("run leaklab list");
    let json: Value = serde_json::from_slice(&out.stdout).expect("cargo lab list --json");
    let labs = json
        .get("labs")
        .unwrap_or(&json)
        .as_array()
        .expect("a list of labs");
    labs.iter()
        .map(|lab| {
            lab.get("lab")
                .or(lab.get("number"))
                .and_then(Value::as_u64)
                .expect("a lab number")
        })
        .collect()
}

#[test]
fn the_classroom_tests_give_every_lab_one_test_that_runs() {
    let text = std::fs::read_to_string(repo().join("classroom/tests.json")).expect("classroom/tests.json");
    let tests: Vec<Value> = serde_json::from_str(&text).expect("a JSON array");
    let setup = &tests[0];
    assert_eq!(
        setup["name"], "setup",
        "the assignment's Setup command comes first"
    );
    assert_eq!(setup["points"], 0);
    for test in &tests {
        assert_eq!(test["type"], "run");
        let timeout = test["timeout"].as_u64().expect("a timeout");
        assert!((1..=600).contains(&timeout), "{test}");
        assert!(test["points"].as_u64().is_some() && test["name"].as_str().is_some_and(|n| n.len() <= 100));
    }
    let labs = lab_numbers();
    let graded: Vec<u64> = tests[1..]
        .iter()
        .map(|test| {
            let run = test["run"].as_str().expect("a command");
            let number = run
                .strip_prefix("cargo lab grade ")
                .and_then(|rest| rest.split(' ').next());
            number
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a lab's test: {run}"))
        })
        .collect();
    assert_eq!(graded, labs, "one test per lab, in order");

    let _one = support::serial();
    for test in &tests {
        let run = test["run"].as_str().unwrap();
        let out = Command::new("sh")
            .args(["-c", run])
            .current_dir(repo())
            .env_remove("LEAKLAB_ROOT")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("run a test's command");
        let code = out.status.code();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            matches!(code, Some(0 | 1)),
            "`{run}` exited {code:?}:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.len() < 2000,
            "Classroom 50 keeps 2,000 characters; `{run}` printed {}",
            text.len()
        );
        if test["name"] != "setup" {
            let first = text.lines().next().unwrap_or_default();
            assert!(
                ["PASS", "FAIL", "ERROR"].iter().any(|v| first.starts_with(v)),
                "the verdict comes first: {first}"
            );
        }
    }
}

#[test]
fn the_workflow_grades_and_publishes_the_results() {
    let text = std::fs::read_to_string(repo().join(".github/workflows/grade.yml")).expect("the workflow");
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).expect("the workflow is YAML");
    let workflow = &docs[0];
    let steps = workflow["jobs"]["grade"]["steps"]
        .as_vec()
        .expect("a grade job with steps");
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo lab grade --out grade-results")),
        "{runs:?}"
    );
    assert!(
        runs.iter().any(|r| r.contains("$GITHUB_STEP_SUMMARY")),
        "{runs:?}"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("an upload step");
    let paths = upload["with"]["path"].as_str().expect("paths");
    assert!(
        paths.contains("results.json") && paths.contains("junit.xml"),
        "{paths}"
    );
    assert_eq!(
        upload["if"].as_str(),
        Some("always()"),
        "failed grades are uploaded too"
    );
}
