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
//! [`Cases`] does the same for a `Case` that borrows `'static` data (a name, a table),
//! read through an owned twin: `Cases::read(LAB, &CASES, HiddenCase::into_case)`, then
//! `cases.iter()` and `cases.ran(&mut verdict)`.
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

/// A hidden case's name, marked as hidden in the findings, kept like [`leak`].
pub fn name(name: String) -> &'static str {
    Box::leak(format!("hidden: {name}").into_boxed_str())
}

/// A lab's cases: its public table, then the instructor's hidden cases.
pub struct Cases<T: 'static> {
    all: Vec<&'static T>,
    hidden: usize,
}

impl<T> Cases<T> {
    /// `public`, then this lab's hidden cases, each read as an `H` (an owned twin of
    /// `T`) and made a `T` by `case`, which says why a case cannot be run as given.
    pub fn read<H: DeserializeOwned>(
        lab: u32,
        public: &'static [T],
        case: impl Fn(H) -> Result<T, String>,
    ) -> Result<Cases<T>, Finding> {
        Cases::of(lab, public, cases::<H>(lab)?, case)
    }

    /// [`Cases::read`] with the hidden cases `given`.
    pub fn of<H>(
        lab: u32,
        public: &'static [T],
        given: Vec<H>,
        case: impl Fn(H) -> Result<T, String>,
    ) -> Result<Cases<T>, Finding> {
        let hidden = given
            .into_iter()
            .enumerate()
            .map(|(i, given)| {
                case(given).map_err(|why| {
                    let message = format!("hidden case {} of lab {lab} cannot be run: {why}", i + 1);
                    Finding::new(Kind::Unchecked, message)
                })
            })
            .collect::<Result<Vec<T>, Finding>>()?;
        Ok(Cases {
            hidden: hidden.len(),
            all: public.iter().chain(leak(hidden).iter()).collect(),
        })
    }

    /// Every case, public first.
    pub fn iter(&self) -> impl Iterator<Item = &'static T> + '_ {
        self.all.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.all.len()
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Records in `verdict` that the hidden cases ran, when there were any.
    pub fn ran(&self, verdict: &mut Verdict) {
        if self.hidden > 0 {
            ran(verdict, self.hidden);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static PUBLIC: [u32; 2] = [10, 20];

    fn at_most_100(given: u32) -> Result<u32, String> {
        if given > 100 {
            return Err(format!("{given} is over 100"));
        }
        Ok(given)
    }

    #[test]
    fn hidden_cases_run_after_the_public_ones_and_are_counted() {
        let cases = Cases::of(9, &PUBLIC, vec![30, 40], at_most_100).expect("cases");
        assert_eq!(cases.iter().copied().collect::<Vec<_>>(), [10, 20, 30, 40]);
        let mut verdict = Verdict::default();
        cases.ran(&mut verdict);
        assert_eq!(verdict.measured.get(MEASURE), Some(&2));

        let public_only = Cases::of(9, &PUBLIC, Vec::new(), at_most_100).expect("cases");
        let mut verdict = Verdict::default();
        public_only.ran(&mut verdict);
        assert_eq!(verdict.measured.get(MEASURE), None);
    }

    #[test]
    fn a_case_the_scenario_cannot_run_is_refused_with_why() {
        let refused = Cases::of(9, &PUBLIC, vec![30, 400], at_most_100)
            .err()
            .expect("refused");
        assert_eq!(refused.kind, Kind::Unchecked);
        assert!(
            refused.message.contains("hidden case 2 of lab 9") && refused.message.contains("400 is over 100"),
            "{}",
            refused.message
        );
    }
}
