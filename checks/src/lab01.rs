//! Lab 1's check: every request ends with no task of its own left alive.
//!
//! The lab system answers some patients quickly and never answers others. The check
//! asks for each patient's result, then lets the runtime settle and looks for tasks
//! still alive. The property a fix must hold, whatever shape it takes: a quick answer
//! is returned, a slow one gives `None` within the deadline, and nothing outlives the
//! request. Waiting longer cannot pass (the slow patients never get an answer), and
//! neither can dropping the JoinHandle (that detaches the task, it does not stop it).

use crate::clinic::LabSystem;
use labkit::child::{Meta, serve as serve_child};
use labkit::{Detector, Finding, Kind, Report, Variant};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The portal's deadline, as the lab states it.
const DEADLINE: Duration = Duration::from_millis(50);

/// Each patient, and how long the lab system takes to answer (`None`: never).
pub const PATIENTS: [(u32, Option<u64>); 4] = [(1, Some(10)), (2, None), (3, Some(30)), (4, None)];

/// Runs the check in this (child) process and reports to the runner.
pub fn serve<F, Fut>(variant: Variant, fetch_lab_result: F) -> !
where
    F: Fn(LabSystem, u32) -> Fut,
    Fut: Future<Output = Option<String>>,
{
    serve_child(
        Meta {
            lab: 1,
            variant,
            check: "scenario",
        },
        || check(variant, fetch_lab_result),
    )
}

/// One run of the scenario against one copy of the lab.
pub fn check<F, Fut>(variant: Variant, fetch_lab_result: F) -> Report
where
    F: Fn(LabSystem, u32) -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let lab = LabSystem::new(PATIENTS.map(|(patient, ms)| (patient, ms.map(Duration::from_millis))));
    let outcome = Detector::new().run(|| async {
        let mut answers = Vec::new();
        for (patient, answer_after) in PATIENTS {
            let started = Instant::now();
            let answer = fetch_lab_result(lab.clone(), patient).await;
            answers.push((patient, answer_after, answer, started.elapsed()));
        }
        answers
    });

    let mut report = Report::new(1, variant, "scenario");
    report.measured.insert("requests".into(), PATIENTS.len() as u64);
    report
        .measured
        .insert("tasks_spawned".into(), outcome.tasks.len() as u64);
    report
        .measured
        .insert("alive_tasks".into(), outcome.leaks.len() as u64);
    report
        .findings
        .extend(outcome.leak_finding("after their requests returned"));
    for (patient, answer_after, answer, took) in &outcome.output {
        let quick = answer_after.is_some_and(|ms| Duration::from_millis(ms) < DEADLINE);
        if quick && answer.is_none() {
            let finding = Finding::new(
                Kind::LostWork,
                format!(
                    "patient {patient}'s result was ready after {} ms, well inside the deadline, but the \
                     handler answered None",
                    answer_after.unwrap_or_default()
                ),
            );
            report
                .findings
                .push(finding.measure("patient", u64::from(*patient)));
        }
        if *took > DEADLINE {
            let finding = Finding::new(
                Kind::Hang,
                format!(
                    "the request for patient {patient} took {} ms; the portal's deadline is {} ms",
                    took.as_millis(),
                    DEADLINE.as_millis()
                ),
            );
            report
                .findings
                .push(finding.measure("took_ms", took.as_millis() as u64));
        }
    }
    report.notes = outcome.notes();
    report
}
