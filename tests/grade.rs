//! `cargo lab grade` charges a misbehaving lab with its own status and reason, and
//! leaves every other lab's grade as it was; it trusts nothing outside `labs/`; and its
//! results parse and repeat.
//!
//! The misbehaving labs are the files in `tests/grading/`, each headed with what the
//! grade must be (`//! expect: fail hang`). They are graded two at a time, one as lab 1
//! and one as lab 2, so each grading also shows two of them not disturbing each other.

#[path = "grading/support.rs"]
mod support;

#[allow(dead_code)]
#[path = "../checks/src/hidden.rs"]
mod hidden_cases;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use support::{Graded, clone_with, grade, grade_student, misbehaving, repo, serial, source, work};

type Grades = BTreeMap<u64, (String, Vec<String>, String)>;

/// Every lab's grade on a clone as shipped.
fn baseline() -> &'static Grades {
    static BASELINE: OnceLock<Grades> = OnceLock::new();
    BASELINE.get_or_init(|| grade_student(&clone_with("baseline", &[]), "baseline").labs())
}

/// Grades a clone with `lab1` as lab 1 and `lab2` as lab 2 (a file of tests/grading/ or
/// `solutions/...`), and checks each misbehaving one's grade and everyone else's.
fn grade_pair(name: &str, lab1: &'static str, lab2: &'static str) -> Graded {
    let _one = serial();
    let before = baseline();
    let clone = clone_with(name, &[(1, source(lab1)), (2, source(lab2))]);
    let graded = grade_student(&clone, name);
    let labs = graded.labs();
    assert_eq!(
        graded.code, 1,
        "a copy with a misbehaving lab does not pass:\n{}",
        graded.output
    );
    for file in [lab1, lab2].into_iter().filter(|f| !f.starts_with("solutions/")) {
        let expected = misbehaving(file);
        let (status, kinds, message) = &labs[&u64::from(expected.lab)];
        assert_eq!(status, &expected.status, "{file}: {message}\n{}", graded.output);
        assert!(
            kinds.contains(&expected.kind),
            "{file}: expected {} in {kinds:?}: {message}",
            expected.kind
        );
        assert!(
            !message.is_empty() && message != "passed",
            "{file} needs a reason"
        );
    }
    for (number, grade) in &labs {
        if *number > 2 {
            assert_eq!(
                grade, &before[number],
                "lab {number} changed next to {lab1} and {lab2}"
            );
        }
    }
    graded
}

#[test]
fn a_compile_error_and_a_panic_are_errors_of_their_own_labs() {
    grade_pair("compile-error-panic", "lab01_compile_error.rs", "lab02_panics.rs");
}

#[test]
fn a_hang_and_a_busy_loop_fail_their_own_labs() {
    grade_pair("hang-busy-loop", "lab01_hangs.rs", "lab02_busy_loop.rs");
}

#[test]
fn a_deadlock_and_a_task_bomb_fail_their_own_labs() {
    grade_pair("deadlock-task-bomb", "lab01_deadlock.rs", "lab02_task_bomb.rs");
}

#[test]
fn a_memory_blowup_and_an_exit_are_errors_of_their_own_labs() {
    let graded = grade_pair("memory-exit", "lab01_memory_blowup.rs", "lab02_exit_zero.rs");
    let (_, _, message) = &graded.labs()[&1];
    assert!(message.contains("ran out of memory"), "{message}");
}

#[test]
fn printing_pass_passes_nothing_and_a_stopped_process_is_stopped_by_the_wall_clock() {
    let graded = grade_pair("fake-pass-stopped", "lab01_fake_pass.rs", "lab02_stops_itself.rs");
    let (_, _, message) = &graded.labs()[&2];
    assert!(message.contains("within 5 s of wall time"), "{message}");
}

#[test]
fn a_process_left_running_is_killed_with_the_checks_process_group() {
    let graded = grade_pair(
        "left-process",
        "lab01_leaves_a_process.rs",
        "solutions/lab02_missing_join.rs",
    );
    let labs = graded.labs();
    assert_eq!(labs[&2].0, "pass", "{:?}", labs[&2]);
    assert!(labs[&1].2.contains("sleep"), "{:?}", labs[&1]);
    assert!(
        !support::running("sleep 638.25"),
        "the lab's process outlived its grading"
    );
}

#[test]
fn grading_twice_gives_the_same_results_which_parse_as_json_and_junit() {
    let _one = serial();
    let clone = clone_with("twice", &[(1, source("solutions/lab01_orphaned_task.rs"))]);
    let first = grade_student(&clone, "twice-1");
    let second = grade_student(&clone, "twice-2");
    assert_eq!(first.timeless(), second.timeless());

    let results = &first.results;
    assert_eq!(results["version"], 1);
    assert_eq!(results["status"], "fail");
    let labs = results["labs"].as_array().expect("labs");
    assert_eq!(labs.len(), baseline().len());
    assert_eq!(labs[0]["status"], "pass");
    assert_eq!(labs[0]["score"], 1);
    assert_eq!(
        results["score"],
        labs.iter().map(|l| l["score"].as_u64().unwrap()).sum::<u64>()
    );
    for field in [
        "name",
        "status",
        "message",
        "kinds",
        "score",
        "max_score",
        "time_ms",
    ] {
        assert!(
            labs.iter().all(|lab| lab.get(field).is_some()),
            "every lab has {field}"
        );
    }

    let junit = quick_junit::Report::deserialize_from_str(&first.junit).expect("junit.xml parses");
    let cases = &junit.test_suites[0].test_cases;
    assert_eq!(cases.len(), labs.len());
    let failures = cases
        .iter()
        .filter(|case| !matches!(case.status, quick_junit::TestCaseStatus::Success { .. }))
        .count();
    assert_eq!(
        failures,
        labs.iter().filter(|lab| lab["status"] != "pass").count()
    );
}

/// A check that passes everything, a manifest that swaps a crate, a build script: all
/// of it in a student's clone, none of it read by `--student`.
#[test]
fn a_student_clone_is_graded_from_its_labs_alone() {
    let _one = serial();
    let clone = clone_with("edits-elsewhere", &[]);
    let forged =
        "pub fn check<F>(_: &crate::Subject, _: F) -> labkit::Verdict { labkit::Verdict::default() }\n";
    for (path, text) in [
        ("checks/src/lab01.rs", forged),
        ("Cargo.toml", "[workspace]\nmembers = []\n"),
        ("build.rs", "fn main() { std::process::exit(0) }\n"),
        (".cargo/config.toml", "[alias]\nlab = \"version\"\n"),
    ] {
        let path = clone.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let graded = grade_student(&clone, "edits-elsewhere");
    assert_eq!(&graded.labs(), baseline(), "{}", graded.output);
}

/// A copy of the repository to grade in place: the files grading depends on, the labs
/// as shipped, and what `cargo lab dev` needs to write a manifest for it.
fn in_place_copy() -> std::path::PathBuf {
    let copy = work().join("in-place");
    let _ = std::fs::remove_dir_all(&copy);
    for entry in [
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
        "src",
        "labkit",
        "registry",
        "clinic",
        "checks",
        "bins",
        "shim",
        "models",
        "fixtures",
        "labs",
        "solutions",
        "tests/originals",
        "book/src",
        "README.md",
        "classroom",
    ] {
        copy_tree(&repo().join(entry), &copy.join(entry));
    }
    copy
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    if from.is_dir() {
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else if from.exists() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).expect("copy a file");
    }
}

/// `cargo lab dev` in `copy`: writes its manifest (and pin) for what it holds now.
fn write_manifest(copy: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .arg("dev")
        .env("LEAKLAB_ROOT", copy)
        .output()
        .expect("run leaklab dev");
    assert!(
        copy.join("classroom/manifest.sha256").is_file(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read(copy.join("classroom/manifest.sha256")).unwrap();
    use sha2::Digest;
    sha2::Sha256::digest(text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn grading_in_place_names_every_file_edited_outside_labs() {
    let _one = serial();
    let copy = in_place_copy();
    write_manifest(&copy);
    let check = copy.join("checks/src/lab01.rs");
    let edited = std::fs::read_to_string(&check)
        .unwrap()
        .replace("DEADLINE", "DEADLINE_");
    std::fs::write(&check, edited).unwrap();
    let manifest = std::fs::read_to_string(copy.join("Cargo.toml")).unwrap() + "\n# a student was here\n";
    std::fs::write(copy.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(copy.join("build.rs"), "fn main() {}\n").unwrap();
    std::fs::remove_file(copy.join("shim/src/lib.rs")).unwrap();

    let graded = grade(&copy, &[], &work().join("results/in-place"));
    assert_eq!(graded.code, 1, "{}", graded.output);
    assert_eq!(graded.results["status"], "error");
    let why = graded.results["message"].as_str().expect("a copy-wide reason");
    for named in [
        "checks/src/lab01.rs (changed)",
        "Cargo.toml (changed)",
        "build.rs (added)",
        "shim/src/lib.rs (missing)",
    ] {
        assert!(why.contains(named), "{named} in: {why}");
    }
    assert!(graded.labs().values().all(|(status, ..)| status == "error"));
    assert!(
        graded.output.starts_with("ERROR "),
        "the verdict comes first:\n{}",
        graded.output
    );
}

#[test]
fn a_pinned_manifest_stops_checks_edited_together_with_it() {
    let _one = serial();
    let copy = in_place_copy();
    let pin = write_manifest(&copy);
    let check = copy.join("checks/src/lab01.rs");
    let edited = std::fs::read_to_string(&check).unwrap() + "\n// edited, and the manifest with it\n";
    std::fs::write(&check, edited).unwrap();
    let repinned = write_manifest(&copy);
    assert_ne!(pin, repinned);

    let graded = grade(
        &copy,
        &["--manifest-sha256", &pin],
        &work().join("results/pinned"),
    );
    assert_eq!(graded.code, 1, "{}", graded.output);
    let why = graded.results["message"].as_str().expect("a copy-wide reason");
    assert!(
        why.contains("classroom/manifest.sha256 is not the manifest the grader pinned"),
        "{why}"
    );

    let bad_pin = grade_code(&copy, &["--manifest-sha256", "12ab"]);
    assert_eq!(bad_pin, 2, "a pin that is not a SHA-256 is bad input");
}

fn grade_code(root: &std::path::Path, args: &[&str]) -> i32 {
    std::process::Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .arg("grade")
        .args(args)
        .env("LEAKLAB_ROOT", root)
        .output()
        .expect("run leaklab grade")
        .status
        .code()
        .unwrap_or(-1)
}

/// A lab given hidden cases is graded on them or not at all: a check that does not
/// report running every one of them is an error, never a pass on the public cases.
#[test]
fn hidden_cases_are_run_or_the_lab_is_an_error() {
    let _one = serial();
    let hidden = work().join("hidden.json");
    let text = r#"{"version": 1, "labs": {"1": {"cases": [{"not_a_field_of_lab_1": true}]}}}"#;
    std::fs::write(&hidden, text).unwrap();
    let clone = clone_with("hidden", &[(1, source("solutions/lab01_orphaned_task.rs"))]);
    let args = [
        "--student",
        clone.to_str().unwrap(),
        "--timeout",
        "5",
        "--hidden",
        hidden.to_str().unwrap(),
    ];
    let graded = grade(&repo(), &args, &work().join("results/hidden"));
    let labs = graded.labs();
    let (status, _, message) = &labs[&1];
    assert_eq!(status, "error", "{message}");
    assert!(message.contains("hidden case"), "{message}");
    assert!(
        graded.results["hidden_sha256"]
            .as_str()
            .is_some_and(|s| s.len() == 64)
    );
    assert_eq!(
        &labs[&3],
        &baseline()[&3],
        "a lab without hidden cases is graded as before"
    );

    std::fs::write(&hidden, r#"{"version": 1, "labs": {"99": {"cases": []}}}"#).unwrap();
    assert_eq!(
        grade_code(&repo(), &args),
        2,
        "a hidden-cases file about no lab is bad input"
    );
}

/// Hidden cases can fail a copy the public cases pass: a lab 1 copy whose deadline is
/// 35 ms instead of 50 answers every public patient in time (10 ms and 30 ms), but not
/// the hidden one whose result comes at 45 ms; the solution passes both.
#[test]
fn a_hidden_case_fails_a_copy_the_public_cases_pass() {
    let _one = serial();
    let hidden = work().join("hidden-45ms.json");
    let text = r#"{"version": 1, "labs": {"1": {"cases": [{"patient": 7, "answer_after_ms": 45}]}}}"#;
    std::fs::write(&hidden, text).unwrap();
    let short = source("solutions/lab01_orphaned_task.rs").replace("from_millis(50)", "from_millis(35)");
    assert_ne!(short, source("solutions/lab01_orphaned_task.rs"));
    for (name, lab01, expected) in [
        (
            "hidden-solution",
            source("solutions/lab01_orphaned_task.rs"),
            "pass",
        ),
        ("hidden-short", short, "fail"),
    ] {
        let clone = clone_with(name, &[(1, lab01.clone())]);
        let public = grade(
            &repo(),
            &["--student", clone.to_str().unwrap()],
            &work().join(format!("results/{name}-public")),
        );
        assert_eq!(public.labs()[&1].0, "pass", "{name}: the public cases pass");
        let args = [
            "--student",
            clone.to_str().unwrap(),
            "--hidden",
            hidden.to_str().unwrap(),
        ];
        let graded = grade(&repo(), &args, &work().join(format!("results/{name}")));
        let (status, _, message) = &graded.labs()[&1];
        assert_eq!(status, expected, "{name}: {message}");
    }
}

/// A solution with `from` replaced by `to`: a copy tuned to the public cases.
fn tuned(file: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = source(file);
    for (from, to) in replacements {
        assert!(text.contains(from), "{file} has no `{from}`");
        text = text.replace(from, to);
    }
    text
}

/// The example hidden cases (`classroom/hidden-example.json`, the one GRADING.md
/// points to) run on every lab that takes them: every solution passes them. And each
/// lab family has a copy that passes every public case and fails a hidden one: lab 6
/// (cancellation) with a 29.8 s timeout, against a booking confirmed at 29.9 s; lab 8
/// (channels) that keeps its spare sender and guesses the end from 500 ms without a
/// record, against a health record that takes 800 ms; lab 9 (load) with a 1.95 s
/// deadline, against lookups that answer in 1.98 s. (Lab 1's is the test above; labs
/// 3 and 11 take no hidden cases, the test below.)
#[test]
fn the_example_hidden_cases_pass_the_solutions_and_fail_copies_tuned_to_the_public_cases() {
    let _one = serial();
    let example = repo().join("classroom/hidden-example.json");
    let count = std::fs::read_dir(repo().join("tests/originals")).unwrap().count() as u32;
    let mut labs: Vec<(u32, String)> = (1..=count)
        .map(|n| (n, source(&format!("solutions/{}", support::lab_file(n)))))
        .collect();
    let copies = [
        (
            6,
            tuned(
                "solutions/lab06_forgotten_cancel.rs",
                &[(
                    "tokio::time::timeout(BOOKING_TIMEOUT,",
                    "tokio::time::timeout(Duration::from_millis(29_800),",
                )],
            ),
        ),
        (
            8,
            tuned(
                "solutions/lab08_unclosed_pipeline.rs",
                &[
                    (
                        "mpsc::channel::<PatientRecord>(CAPACITY);",
                        "mpsc::channel::<PatientRecord>(CAPACITY);\n    let _retry = to_anonymise.clone();",
                    ),
                    (
                        "while let Some(record) = read.recv().await {",
                        "while let Ok(Some(record)) =\n            tokio::time::timeout(std::time::Duration::from_millis(500), read.recv()).await\n        {",
                    ),
                ],
            ),
        ),
        (
            9,
            tuned(
                "solutions/lab09_no_timeout_downstream.rs",
                &[(
                    "tokio::time::timeout(DEADLINE,",
                    "tokio::time::timeout(Duration::from_millis(1_950),",
                )],
            ),
        ),
    ];
    for (lab, copy) in &copies {
        labs[*lab as usize - 1] = (*lab, copy.clone());
    }
    let clone = clone_with("hidden-example", &labs);
    let clone = clone.to_str().unwrap();
    let public = grade(
        &repo(),
        &["--student", clone],
        &work().join("results/hidden-example-public"),
    );
    for (number, (status, _, message)) in public.labs() {
        assert_eq!(status, "pass", "lab {number} passes the public cases: {message}");
    }
    let hidden = grade(
        &repo(),
        &["--student", clone, "--hidden", example.to_str().unwrap()],
        &work().join("results/hidden-example"),
    );
    for (number, (status, _, message)) in hidden.labs() {
        if copies.iter().any(|(lab, _)| u64::from(*lab) == number) {
            assert_eq!(status, "fail", "lab {number}'s tuned copy: {message}");
            assert!(message.contains("hidden: "), "lab {number}: {message}");
        } else {
            assert_eq!(status, "pass", "lab {number}'s solution: {message}");
        }
    }
}

/// Labs 3 and 11 are decided by loom models, which try every interleaving: they take
/// no hidden cases, and a file that gives them some is refused, saying so, before
/// anything is graded.
#[test]
fn a_lab_decided_by_a_loom_model_takes_no_hidden_cases() {
    let hidden = work().join("hidden-loom.json");
    for lab in [3, 11] {
        let text = format!(r#"{{"version": 1, "labs": {{"{lab}": {{"cases": [{{"threads": 8}}]}}}}}}"#);
        std::fs::write(&hidden, text).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_leaklab"))
            .args(["grade", "--hidden", hidden.to_str().unwrap()])
            .env("LEAKLAB_ROOT", repo())
            .output()
            .expect("run leaklab grade");
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "lab {lab}: {said}");
        assert!(
            said.contains(&format!("lab {lab} takes no hidden cases")),
            "lab {lab}: {said}"
        );
    }
}

/// The scenarios' side of hidden cases: each case read by field name, and a case that
/// does not fit said so.
#[test]
fn a_scenario_reads_its_hidden_cases_by_field() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Case {
        patient: u32,
        answer_after_ms: Option<u64>,
    }
    let text = r#"{"version": 1, "labs": {"1": {"cases": [{"patient": 7, "answer_after_ms": 45},
                                                       {"patient": 8, "answer_after_ms": null}]},
                                          "2": {"cases": [{"patient": "seven"}]}}}"#;
    let cases: Vec<Case> = hidden_cases::cases_in(text, 1).expect("lab 1's cases");
    assert_eq!(
        cases,
        [
            Case {
                patient: 7,
                answer_after_ms: Some(45)
            },
            Case {
                patient: 8,
                answer_after_ms: None
            }
        ]
    );
    let misfit = hidden_cases::cases_in::<Case>(text, 2).expect_err("lab 2's case does not fit");
    assert_eq!(misfit.kind, labkit::Kind::Unchecked);
    assert!(hidden_cases::cases_in::<Case>(text, 3).expect("none").is_empty());
}
