//! Hidden cases: cases an instructor adds at grading time, which students never see.
//!
//! One JSON file, keyed by lab number; each lab's `cases` are objects in the shape of
//! that lab's scenario `Case` (its fields, by name):
//!
//! ```json
//! {
//!   "version": 1,
//!   "labs": {
//!     "1": { "cases": [ { "patient": 7, "answer_after_ms": 45 },
//!                       { "patient": 8, "answer_after_ms": null } ] },
//!     "2": { "cases": [ { "name": "one slow record", "write_ms": [5, 400], "rejects": [] } ] }
//!   }
//! }
//! ```
//!
//! Labs 3 and 11 are decided by loom models, which try every interleaving: they take
//! no hidden cases, and a file that gives them some is refused as bad input, with why.
//!
//! The grader checks the file's shape, passes its path to every check child in
//! [`ENV`], and hashes it into the results (and into `grade-class`'s cache keys). A
//! scenario reads its lab's cases (`leaklab_checks::hidden`), runs them after its own,
//! and measures how many it ran as [`MEASURE`]; a lab with hidden cases whose report
//! does not say it ran all of them is graded `error`, never a silent pass.

use labkit::{Check, Report};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variable that names the hidden-cases file: read by `cargo lab grade`
/// when `--hidden` is not given, and set for every check child.
pub const ENV: &str = "LEAKLAB_HIDDEN";

/// What a scenario measures: how many hidden cases it ran.
pub const MEASURE: &str = "hidden_cases";

/// A checked hidden-cases file.
#[derive(Clone, Debug)]
pub struct Hidden {
    /// Absolute, so the check children find it wherever they run.
    pub path: PathBuf,
    pub sha256: String,
    /// How many cases each lab has.
    pub counts: BTreeMap<u32, usize>,
}

impl Hidden {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Hidden, String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("hidden cases {shown}: {e}"))?;
        let json: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("hidden cases {shown} are not JSON: {e}"))?;
        let counts = counts(&json).map_err(|e| format!("hidden cases {shown}: {e}"))?;
        Ok(Hidden {
            path: std::path::absolute(path).map_err(|e| format!("hidden cases {shown}: {e}"))?,
            sha256: super::manifest::hex(&Sha256::digest(&bytes)),
            counts,
        })
    }

    /// Why `report` cannot be trusted to have run this lab's hidden cases, if it cannot.
    pub fn not_run(&self, report: &Report) -> Option<String> {
        let given = *self.counts.get(&report.lab)?;
        if report.check != Check::Scenario || given == 0 {
            return None;
        }
        match report.measured.get(MEASURE) {
            Some(&ran) if ran == given as u64 => None,
            Some(&ran) => Some(format!(
                "the check ran {ran} of the {given} hidden cases given for this lab"
            )),
            None => Some(format!(
                "{given} hidden cases were given for this lab, but its check does not read hidden cases \
                 (its report has no `{MEASURE}`)"
            )),
        }
    }
}

/// Why a lab decided by a loom model takes no hidden cases.
const NO_CASES_FOR_LOOM: &str = "its loom model already tries every interleaving of its threads, \
     so there is no case left to hide, and its real-thread run can show the bug but never rule it out";

/// The number of cases per lab, or what is wrong with the file's shape.
fn counts(json: &Value) -> Result<BTreeMap<u32, usize>, String> {
    if json.get("version").and_then(Value::as_u64) != Some(1) {
        return Err("\"version\" must be 1".into());
    }
    let labs = json
        .get("labs")
        .and_then(Value::as_object)
        .ok_or("\"labs\" must be an object keyed by lab number")?;
    let mut counts = BTreeMap::new();
    for (key, entry) in labs {
        let number: u32 = key
            .parse()
            .map_err(|_| format!("\"{key}\" is not a lab number"))?;
        let Some(lab) = leaklab_registry::lab(number) else {
            return Err(format!("there is no lab {number}"));
        };
        let cases = entry
            .get("cases")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("lab {number}: \"cases\" must be an array"))?;
        if let Some(i) = cases.iter().position(|case| !case.is_object()) {
            return Err(format!("lab {number}: case {} is not an object", i + 1));
        }
        if !cases.is_empty() && lab.checks.contains(&Check::Loom) {
            return Err(format!("lab {number} takes no hidden cases: {NO_CASES_FOR_LOOM}"));
        }
        counts.insert(number, cases.len());
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use labkit::Variant;
    use serde_json::json;

    #[test]
    fn the_shape_is_checked_before_anything_runs() {
        let good = json!({"version": 1, "labs": {"1": {"cases": [{"patient": 7}, {"patient": 8}]}}});
        assert_eq!(counts(&good), Ok(BTreeMap::from([(1, 2)])));
        for bad in [
            json!({"labs": {}}),
            json!({"version": 1, "labs": {"one": {"cases": []}}}),
            json!({"version": 1, "labs": {"99": {"cases": []}}}),
            json!({"version": 1, "labs": {"1": {"cases": [3]}}}),
            json!({"version": 1, "labs": {"1": {}}}),
            json!({"version": 1, "labs": {"3": {"cases": [{"threads": 8}]}}}),
        ] {
            assert!(counts(&bad).is_err(), "{bad}");
        }
        let loom = json!({"version": 1, "labs": {"11": {"cases": [{}]}}});
        let refused = counts(&loom).expect_err("lab 11 is decided by its loom model");
        assert!(refused.contains("lab 11 takes no hidden cases"), "{refused}");
        let none = json!({"version": 1, "labs": {"3": {"cases": []}}});
        assert_eq!(counts(&none), Ok(BTreeMap::from([(3, 0)])));
    }

    #[test]
    fn a_report_must_say_it_ran_every_hidden_case() {
        let hidden = Hidden {
            path: PathBuf::new(),
            sha256: String::new(),
            counts: BTreeMap::from([(1, 2)]),
        };
        let mut report = Report::new(1, Variant::Yours, Check::Scenario);
        assert!(hidden.not_run(&report).is_some());
        report.measured.insert(MEASURE.into(), 1);
        assert!(hidden.not_run(&report).is_some());
        report.measured.insert(MEASURE.into(), 2);
        assert_eq!(hidden.not_run(&report), None);
        assert_eq!(
            hidden.not_run(&Report::new(2, Variant::Yours, Check::Scenario)),
            None
        );
    }
}
