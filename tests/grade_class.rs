//! `cargo lab grade-class`: a folder of clones (untouched, solved, hostile, a copy of
//! another's work, one with a lab missing) graded into one summary, every grade the
//! same as grading that student alone, and each distinct lab file graded once.

#[path = "grading/support.rs"]
mod support;

use serde_json::Value;
use std::process::Command;
use support::{clone_with, repo, serial, source, target_dir, work};

#[test]
fn a_class_is_graded_into_one_summary() {
    let _one = serial();
    let class = work().join("class");
    let _ = std::fs::remove_dir_all(&class);
    std::fs::create_dir_all(&class).expect("create the class folder");
    let solved1 = (1, source("solutions/lab01_orphaned_task.rs"));
    let solved2 = (2, source("solutions/lab02_missing_join.rs"));
    let students = [
        ("ada", vec![]),
        ("bo", vec![solved1.clone(), solved2.clone()]),
        (
            "cy",
            vec![(1, source("lab01_fake_pass.rs")), (2, source("lab02_panics.rs"))],
        ),
        ("di", vec![solved1.clone(), solved2.clone()]),
        ("ed", vec![solved1]),
    ];
    for (name, swaps) in &students {
        let clone = clone_with(name, swaps);
        let to = class.join(name);
        std::fs::rename(&clone, &to).expect("move the clone into the class");
    }
    std::fs::remove_file(class.join("ed/labs").join(support::lab_file(2))).expect("ed has no lab 2");
    std::fs::create_dir_all(class.join("not-a-clone")).unwrap();

    let out_dir = work().join("results/class");
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = Command::new(env!("CARGO_BIN_EXE_leaklab"))
        .args([
            "grade-class",
            class.to_str().unwrap(),
            "--fresh",
            "--timeout",
            "5",
            "--out",
        ])
        .arg(&out_dir)
        .env("LEAKLAB_ROOT", repo())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run leaklab grade-class");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");

    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("class.json")).expect("class.json"))
            .unwrap();
    let rows = summary["students"].as_array().expect("students");
    let names: Vec<&str> = rows.iter().map(|r| r["student"].as_str().unwrap()).collect();
    assert_eq!(names, ["ada", "bo", "cy", "di", "ed"], "a row per clone, by name");
    let status =
        |student: usize, lab: u32| rows[student]["labs"][lab.to_string()]["status"].as_str().unwrap();
    let labs = summary["labs"].as_array().unwrap().len() as u32;
    for lab in 1..=labs {
        if lab > 2 {
            for student in 0..5 {
                assert_eq!(
                    status(student, lab),
                    status(0, lab),
                    "lab {lab} is the same file for everyone"
                );
            }
        }
    }
    assert_eq!((status(0, 1), status(0, 2)), ("fail", "fail"), "untouched");
    assert_eq!((status(1, 1), status(1, 2)), ("pass", "pass"), "solved");
    assert_eq!(
        (status(2, 1), status(2, 2)),
        ("fail", "error"),
        "fake PASS, panic"
    );
    assert_eq!(
        (status(3, 1), status(3, 2)),
        ("pass", "pass"),
        "the same files as bo"
    );
    assert_eq!((status(4, 1), status(4, 2)), ("pass", "error"), "lab 2 missing");
    assert!(
        rows[4]["labs"]["2"]["message"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    assert_eq!(rows[0]["labs"]["1"]["untouched"], true);
    assert_eq!(rows[1]["labs"]["1"]["sha256"], rows[3]["labs"]["1"]["sha256"]);

    // Every distinct (lab, file) once: the originals, two solutions, two hostile files.
    assert_eq!(
        summary["distinct_files_graded"].as_u64(),
        Some(u64::from(labs) + 4)
    );

    let csv = std::fs::read_to_string(out_dir.join("class.csv")).expect("class.csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("student,score,max_score,status,lab01,lab02"),
        "{}",
        lines[0]
    );
    assert!(lines[2].starts_with("bo,2,"), "{}", lines[2]);
    assert_eq!(lines.len(), 6);

    // Each student's own results, as `cargo lab grade --student` writes them.
    let alone: Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("students/cy/results.json")).expect("cy's results"),
    )
    .unwrap();
    assert_eq!(alone["labs"][1]["status"], "error");
}
