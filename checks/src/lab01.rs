//! Lab 1's check: every request ends with no task of its own left alive.
//!
//! The lab system answers some patients quickly and never answers others. The check
//! asks for each patient's result, then lets the runtime settle and looks for tasks
//! still alive. The property a fix must hold, whatever shape it takes: a quick answer
//! is returned, a slow one gives `None` within the deadline, and nothing outlives the
//! request. Waiting longer cannot pass (the slow patients never get an answer), and
//! neither can dropping the JoinHandle (that detaches the task, it does not stop it).

use crate::Subject;
use labkit::{Detector, Finding, Kind, Verdict};
use leaklab_clinic::LabSystem;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub const LAB: u32 = 1;

/// The portal's deadline, as the lab states it.
pub const DEADLINE: Duration = Duration::from_millis(50);

/// One request: a patient, and how long the lab system takes to answer (`None`: never).
#[derive(Clone, Copy, Debug, serde::Deserialize)]
pub struct Case {
    pub patient: u32,
    pub answer_after_ms: Option<u64>,
}

pub const CASES: [Case; 4] = [
    Case {
        patient: 1,
        answer_after_ms: Some(10),
    },
    Case {
        patient: 2,
        answer_after_ms: None,
    },
    Case {
        patient: 3,
        answer_after_ms: Some(30),
    },
    Case {
        patient: 4,
        answer_after_ms: None,
    },
];

/// What one request gave back, and how long it took.
#[derive(Clone, Debug)]
pub struct Seen {
    pub answer: Option<String>,
    pub took: Duration,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab01 {
    ($lab:ident, $subject:expr) => {
        $crate::lab01::check($subject, $lab::fetch_lab_result)
    };
}

/// Every case against one copy of the lab, then the tasks still alive.
pub fn check<F, Fut>(_subject: &Subject, fetch_lab_result: F) -> Verdict
where
    F: Fn(LabSystem, u32) -> Fut,
    Fut: Future<Output = Option<String>>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let hidden = match crate::hidden::cases::<Case>(LAB) {
        Ok(hidden) => hidden,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let cases: Vec<Case> = CASES.iter().copied().chain(hidden.iter().copied()).collect();
    let mut patients: Vec<u32> = cases.iter().map(|case| case.patient).collect();
    patients.sort_unstable();
    if patients.windows(2).any(|pair| pair[0] == pair[1]) {
        let finding = Finding::new(
            Kind::Unchecked,
            "the hidden cases repeat a patient: each must be new",
        );
        return crate::hidden::refused(finding);
    }
    let answers = cases
        .iter()
        .map(|case| (case.patient, case.answer_after_ms.map(Duration::from_millis)));
    let lab = LabSystem::answering(answers);
    let outcome = Detector::new().run(|| async {
        let mut seen = Vec::new();
        for case in &cases {
            let started = Instant::now();
            let answer = fetch_lab_result(lab.clone(), case.patient).await;
            seen.push(Seen {
                answer,
                took: started.elapsed(),
            });
        }
        seen
    });

    let mut verdict = Verdict::default();
    verdict.measure("requests", cases.len() as u64);
    // A fix that runs the lookup inside the request spawns nothing: "tasks spawned: 0"
    // beside a pass reads as if the detector had seen nothing, so only a count is told.
    if !outcome.tasks.is_empty() {
        verdict.measure("tasks_spawned", outcome.tasks.len() as u64);
    }
    verdict.measure("alive_tasks", outcome.leaks.len() as u64);
    verdict
        .findings
        .extend(outcome.leak_finding("after their requests returned"));
    let mut findings = Vec::new();
    for (case, seen) in cases.iter().zip(&outcome.output) {
        findings.extend(judge(case, seen));
    }
    // A sleep, say, misses the deadline for every patient: one bug, told once.
    verdict.findings.extend(crate::once_each(findings, |f| f.kind));
    verdict.notes = outcome.notes();
    if !hidden.is_empty() {
        crate::hidden::ran(&mut verdict, hidden.len());
    }
    verdict
}

/// The rules for one request: a result that was ready in time is returned, and no
/// request takes longer than the deadline.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let patient = case.patient;
    let in_time = case
        .answer_after_ms
        .filter(|&ms| Duration::from_millis(ms) < DEADLINE);
    if let (Some(ms), None) = (in_time, &seen.answer) {
        let message = format!(
            "patient {patient}'s result was ready after {ms} ms, well inside the deadline, but the \
             handler answered None"
        );
        findings.push(Finding::new(Kind::LostWork, message).measure("patient", u64::from(patient)));
    }
    if seen.took > DEADLINE {
        let message = format!(
            "the request for patient {patient} took {} ms; the portal's deadline is {} ms",
            seen.took.as_millis(),
            DEADLINE.as_millis()
        );
        let finding = Finding::new(Kind::MissedDeadline, message)
            .measure("took_ms", seen.took.as_millis() as u64)
            .measure("deadline_ms", DEADLINE.as_millis() as u64);
        findings.push(finding);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(case: Case, answer: Option<&str>, took_ms: u64) -> Vec<Kind> {
        let seen = Seen {
            answer: answer.map(str::to_owned),
            took: Duration::from_millis(took_ms),
        };
        judge(&case, &seen).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_quick_answer_must_be_returned() {
        let quick = Case {
            patient: 1,
            answer_after_ms: Some(10),
        };
        assert_eq!(kinds(quick, Some("ok"), 10), []);
        assert_eq!(kinds(quick, None, 10), [Kind::LostWork]);
    }

    #[test]
    fn a_slow_answer_may_be_none_but_not_late() {
        let never = Case {
            patient: 2,
            answer_after_ms: None,
        };
        assert_eq!(kinds(never, None, 50), []);
        assert_eq!(kinds(never, None, 51), [Kind::MissedDeadline]);
        let slow = Case {
            patient: 3,
            answer_after_ms: Some(80),
        };
        assert_eq!(kinds(slow, None, 50), []);
    }

    /// A pass's figures: a fix that runs the lookup inside the request spawns nothing
    /// and is told without a count of spawned tasks; one that spawns the lookup and
    /// aborts it at the deadline is told how many it spawned.
    #[test]
    fn a_pass_counts_the_tasks_spawned_only_when_there_were_some() {
        let subject = crate::test_subject(LAB);
        let inside = check(&subject, |lab: LabSystem, patient| async move {
            tokio::time::timeout(DEADLINE, lab.lookup(patient)).await.ok()
        });
        assert!(inside.findings.is_empty(), "{inside:#?}");
        assert_eq!(inside.measured.get("tasks_spawned"), None, "{inside:#?}");
        assert_eq!(inside.measured["alive_tasks"], 0, "{inside:#?}");
        let aborted = check(&subject, |lab: LabSystem, patient| async move {
            let task =
                tokio_util::task::AbortOnDropHandle::new(tokio::spawn(
                    async move { lab.lookup(patient).await },
                ));
            tokio::time::timeout(DEADLINE, task).await.ok()?.ok()
        });
        assert!(aborted.findings.is_empty(), "{aborted:#?}");
        assert_eq!(
            aborted.measured["tasks_spawned"],
            CASES.len() as u64,
            "{aborted:#?}"
        );
    }
}
