//! Every fixture (`fixtures/labNN/{wrong,right}/*.rs`) is classified as its header
//! says: each wrong fix produces the findings it names, each right fix of another shape
//! passes. One run of `cargo lab dev fixtures`: the fixtures of all labs are compiled
//! into one binary per kind of check, not a cargo build each.

mod common;

use common::{Scratch, lab_json, repo};
use leaklab_registry::{Expect, LABS, fixtures};
use std::collections::BTreeSet;

#[test]
fn every_fixture_is_classified_as_its_header_says() {
    let (code, json) = lab_json(&repo(), &["dev", "fixtures"]);
    let results = json.as_array().expect("a list of fixtures");
    let misread: Vec<String> = results
        .iter()
        .filter(|r| r["classified_right"] != true)
        .map(|r| {
            format!(
                "{} expected {} found {}: {:#}",
                r["fixture"], r["expect"], r["found"], r["run"]
            )
        })
        .collect();
    assert!(misread.is_empty(), "misclassified:\n{}", misread.join("\n"));
    assert_eq!(code, 0);

    // Every fixture on disk ran, and each found what its header names.
    let on_disk = fixtures(&repo()).expect("fixture headers parse");
    let ran: BTreeSet<&str> = results.iter().map(|r| r["fixture"].as_str().unwrap()).collect();
    let expected: BTreeSet<&str> = on_disk.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(ran, expected);
    for (fixture, result) in on_disk.iter().zip(results) {
        let found: Vec<&str> = result["found"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        match &fixture.expect {
            Expect::Pass => assert!(found.is_empty(), "{}: {found:?}", fixture.name),
            Expect::Findings(kinds) => {
                for kind in kinds {
                    assert!(
                        found.contains(&kind.name().as_str()),
                        "{}: no {kind} in {found:?}",
                        fixture.name
                    );
                }
            }
        }
    }
    // Every lab has wrong fixes and right fixes of other shapes.
    for lab in LABS {
        let of_lab = || on_disk.iter().filter(|f| f.lab == lab.number);
        assert!(
            of_lab().any(|f| !f.right),
            "lab {} has no wrong fixture",
            lab.number
        );
        assert!(
            of_lab().any(|f| f.right),
            "lab {} has no right fixture",
            lab.number
        );
    }
}

#[test]
fn a_fixture_whose_header_lies_is_reported() {
    // The test above can fail: a right fix headed as wrong, and a wrong fix headed as
    // right, are both reported as misclassified.
    let scratch = Scratch::lock();
    let solution = scratch.original("solutions/lab01_orphaned_task.rs");
    let original = scratch.original("tests/originals/lab01_orphaned_task.rs");
    scratch.write(
        "fixtures/lab01/wrong/lying.rs",
        &format!("//! expect: leaked_task\n{solution}"),
    );
    scratch.write(
        "fixtures/lab01/right/lying.rs",
        &format!("//! expect: pass\n{original}"),
    );
    let (code, json) = lab_json(&scratch.root, &["dev", "fixtures", "1"]);
    for lying in ["fixtures/lab01/wrong/lying.rs", "fixtures/lab01/right/lying.rs"] {
        let _ = std::fs::remove_file(scratch.root.join(lying));
    }
    let misread: Vec<&str> = json
        .as_array()
        .expect("a list of fixtures")
        .iter()
        .filter(|r| r["classified_right"] == false)
        .map(|r| r["fixture"].as_str().unwrap())
        .collect();
    assert_eq!(misread, ["lab01/right/lying", "lab01/wrong/lying"]);
    assert_eq!(code, 1);
}
