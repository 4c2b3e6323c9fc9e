//! Hidden cases: cases an instructor adds at grading time (`cargo lab grade --hidden
//! FILE`), read by a scenario after its own.
//!
//! The grader checks the file's shape and passes its path in [`ENV`]; see GRADING.md
//! for the format. A scenario that takes hidden cases does three things:
//!
//! ```text
//! let hidden = match hidden::cases::<Case>(LAB) {
//!     Ok(hidden) => hidden,
//!     Err(finding) => return hidden::refused(finding),
//! };
//! // ... run CASES and then `hidden`, judging each the same way ...
//! hidden::ran(&mut verdict, hidden.len());
//! ```
//!
//! The count it measures ([`MEASURE`]) is how the grader knows the cases were run: a
//! lab given hidden cases whose report does not say it ran all of them is graded
//! `error`, never passed on the public cases alone.

use labkit::{Finding, Kind, Verdict};
use serde::de::DeserializeOwned;

/// The environment variable that holds the hidden-cases file's path.
pub const ENV: &str = "LEAKLAB_HIDDEN";

/// What a scenario measures: how many hidden cases it ran.
pub const MEASURE: &str = "hidden_cases";

/// This lab's hidden cases, each read as a `T` (the scenario's `Case`, or an owned
/// twin of it when `Case` borrows `'static` data); none when no file was given.
pub fn cases<T: DeserializeOwned>(lab: u32) -> Result<Vec<T>, Finding> {
    let Some(path) = std::env::var_os(ENV) else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Finding::new(
            Kind::Unchecked,
            format!(
                "the hidden cases ({}) cannot be read: {e}",
                path.to_string_lossy()
            ),
        )
    })?;
    cases_in(&text, lab)
}

/// [`cases`] from the file's text.
pub fn cases_in<T: DeserializeOwned>(text: &str, lab: u32) -> Result<Vec<T>, Finding> {
    let unchecked = |why: String| Finding::new(Kind::Unchecked, why);
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| unchecked(format!("the hidden cases are not JSON: {e}")))?;
    let Some(cases) = json["labs"][lab.to_string()]["cases"].as_array() else {
        return Ok(Vec::new());
    };
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            serde_json::from_value(case.clone()).map_err(|e| {
                unchecked(format!(
                    "hidden case {} of lab {lab} does not fit the lab's scenario: {e}",
                    i + 1
                ))
            })
        })
        .collect()
}

/// The verdict of a scenario that could not read its hidden cases.
pub fn refused(finding: Finding) -> Verdict {
    Verdict {
        findings: vec![finding],
        ..Verdict::default()
    }
}

/// Records that the scenario ran `count` hidden cases.
pub fn ran(verdict: &mut Verdict, count: usize) {
    verdict.measure(MEASURE, count as u64);
}

/// Cases read at run time, as the `&'static` slice a scenario's table is: the check
/// process ends when the check does, so nothing is lost by never freeing them.
pub fn leak<T>(cases: Vec<T>) -> &'static [T] {
    Box::leak(cases.into_boxed_slice())
}
