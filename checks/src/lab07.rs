//! Lab 7's check: once a ward stops waiting for the on-call doctor, nothing of its page
//! is left behind, neither a task nor an entry in the pending-acks table; and every
//! acknowledgement that comes while its ward still waits reaches that ward.
//!
//! Each case is one night on the ward: all its pages go out at once, each ward waits
//! with its own patience (from 20 ms to 30 s) and then drops its receiver, and each
//! doctor answers after their own time, too late, or never. One second after the last
//! ward stopped waiting, the check counts the tasks still alive and the entries still
//! in the table, and names the lines that spawned and filed them.
//!
//! A timeout inside the task cannot pass: it ends the wait, but the entry stays in the
//! table (the check counts entries, not only tasks), and no fixed time fits every ward:
//! too short loses the answers a patient ward still waits for, too long outlives the
//! ward that hung up. Taking the entry out only when the doctor answers leaves the
//! entries of the doctors who never do. Handing the ward's own sender to the table,
//! with no task, leaves those entries too: the table never learns the ward has gone.

use crate::Subject;
use crate::hidden::Cases;
use labkit::detector::{TaskRecord, group_sites, normalize};
use labkit::{Detector, Finding, Kind, Site, Verdict};
use leaklab_clinic::{Ack, Pager, PagingNetwork, PendingEntry};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

pub const LAB: u32 = 7;

/// How long after the last ward stops waiting the check looks for what is left: a task
/// or an entry that outlives its ward by this much is not about to go.
pub const SETTLE: Duration = Duration::from_secs(1);

/// One page: the patient, when (if ever) the doctor answers, and how long the ward
/// waits for the answer before it drops its receiver.
#[derive(Clone, Copy, Debug, serde::Deserialize)]
pub struct Page {
    pub patient: u32,
    pub answer_after_ms: Option<u64>,
    pub patience_ms: u64,
}

impl Page {
    /// When the doctor answers while the ward still waits: the answer the ward must get.
    pub fn answered_in_time(&self) -> Option<u64> {
        self.answer_after_ms.filter(|&ms| ms < self.patience_ms)
    }
}

/// One night on the ward: pages that all go out at once.
#[derive(Debug)]
pub struct Case {
    pub name: &'static str,
    pub pages: &'static [Page],
}

const fn page(patient: u32, answer_after_ms: Option<u64>, patience_ms: u64) -> Page {
    Page {
        patient,
        answer_after_ms,
        patience_ms,
    }
}

pub const CASES: [Case; 3] = [
    Case {
        name: "every doctor answers in time",
        pages: &[
            page(1, Some(10), 50),
            page(2, Some(40), 100),
            page(3, Some(2_000), 5_000),
        ],
    },
    Case {
        name: "some doctors never answer",
        pages: &[
            page(4, None, 50),
            page(5, Some(15), 50),
            page(6, None, 200),
            page(7, Some(3_000), 5_000),
            page(8, None, 30_000),
        ],
    },
    Case {
        name: "late answers, and a ward that hangs up at once",
        pages: &[
            page(9, Some(400), 100),
            page(10, None, 20),
            page(11, Some(1_500), 1_000),
            page(12, Some(5), 50),
        ],
    },
];

/// What one night left: each ward's answer, and what was still there `SETTLE` after
/// the last ward stopped waiting.
#[derive(Debug, Default)]
pub struct Seen {
    /// What each ward got, in the order of the case's pages.
    pub answers: Vec<Option<Ack>>,
    /// Tasks still alive.
    pub alive: Vec<TaskRecord>,
    /// Entries still in the pending-acks table.
    pub entries: Vec<PendingEntry>,
    /// Every task the night spawned.
    pub spawned: usize,
}

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab07 {
    ($lab:ident, $subject:expr) => {
        $crate::lab07::check($subject, $lab::page_on_call)
    };
}

/// Every case against one copy of the lab.
pub fn check<F>(_subject: &Subject, page_on_call: F) -> Verdict
where
    F: Fn(&Pager, u32) -> oneshot::Receiver<Ack>,
{
    // An instructor's hidden cases (at grading time) run after the public ones.
    let cases = match Cases::read(LAB, &CASES, HiddenCase::into_case) {
        Ok(cases) => cases,
        Err(finding) => return crate::hidden::refused(finding),
    };
    let mut verdict = Verdict::default();
    let (mut pages, mut answered, mut spawned, mut alive, mut entries) = (0, 0, 0, 0, 0);
    for case in cases.iter() {
        let seen = run(case, &page_on_call);
        pages += case.pages.len();
        answered += seen.answers.iter().flatten().count();
        spawned += seen.spawned;
        alive += seen.alive.len();
        entries += seen.entries.len();
        verdict.findings.extend(judge(case, &seen));
    }
    verdict.measure("pages", pages as u64);
    verdict.measure("answers_delivered", answered as u64);
    verdict.measure("tasks_spawned", spawned as u64);
    verdict.measure("alive_tasks", alive as u64);
    verdict.measure("table_entries_left", entries as u64);
    cases.ran(&mut verdict);
    verdict
}

/// A hidden case as JSON gives it: [`Case`] with owned fields.
#[derive(serde::Deserialize)]
struct HiddenCase {
    name: String,
    pages: Vec<Page>,
}

impl HiddenCase {
    fn into_case(self) -> Result<Case, String> {
        let mut patients: Vec<u32> = self.pages.iter().map(|page| page.patient).collect();
        patients.sort_unstable();
        if patients.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err("two pages are for the same patient: each page needs a patient of its own".into());
        }
        Ok(Case {
            name: crate::hidden::name(self.name),
            pages: crate::hidden::leak(self.pages),
        })
    }
}

/// One night: page for every patient at once, let each ward wait as long as it will,
/// then look, `SETTLE` later, at what is left.
fn run<F>(case: &Case, page_on_call: &F) -> Seen
where
    F: Fn(&Pager, u32) -> oneshot::Receiver<Ack>,
{
    let doctors = case
        .pages
        .iter()
        .map(|p| (p.patient, p.answer_after_ms.map(Duration::from_millis)));
    let network = PagingNetwork::answering(doctors);
    // The scenario settles itself (the table must be read while the network still
    // runs, and before shutdown drops the tasks), so the detector looks at once.
    let outcome = Detector::new().settle(Duration::ZERO).run(|| async {
        let pager = network.pager();
        let started = Instant::now();
        let mut wards: Vec<_> = case
            .pages
            .iter()
            .enumerate()
            .map(|(i, page)| {
                let gives_up = started + Duration::from_millis(page.patience_ms);
                (gives_up, i, page_on_call(&pager, page.patient))
            })
            .collect();
        // Waiting on the wards one by one, in the order they give up, is waiting on all
        // of them at once: each receiver is dropped at its own ward's deadline, and an
        // answer that came earlier is already in it.
        wards.sort_by_key(|&(gives_up, i, _)| (gives_up, i));
        let night = async {
            let mut answers = vec![None; case.pages.len()];
            for (gives_up, i, ward) in wards {
                if let Ok(Ok(ack)) = tokio::time::timeout_at(gives_up, ward).await {
                    answers[i] = Some(ack);
                }
            }
            tokio::time::sleep(SETTLE).await;
            answers
        };
        let answers = tokio::select! {
            answers = night => answers,
            never = network.serve() => match never {},
        };
        Seen {
            answers,
            entries: network.entries(),
            ..Seen::default()
        }
    });
    Seen {
        alive: outcome.leaks,
        spawned: outcome.tasks.len(),
        ..outcome.output
    }
}

/// The rules for one night: no task and no table entry outlives its ward, each ward
/// gets the answer that came while it waited, and no ward gets one that never came.
pub fn judge(case: &Case, seen: &Seen) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = case.name;
    let settle = SETTLE.as_secs_f64();
    if !seen.alive.is_empty() {
        let alive = seen.alive.len();
        let sites = group_sites(&seen.alive);
        let message = format!(
            "{name}: {alive} {} still alive {settle:.0} s after {} ward stopped waiting{}",
            if alive == 1 { "task was" } else { "tasks were" },
            if case.pages.len() == 1 { "its" } else { "the last" },
            spawned_at(&sites, "spawned")
        );
        let finding = Finding::new(Kind::LeakedTask, message).measure("alive_tasks", alive as u64);
        findings.push(finding.with_sites(sites));
    }
    if !seen.entries.is_empty() {
        let left = seen.entries.len();
        let sites = entry_sites(&seen.entries);
        let patients: Vec<u32> = seen.entries.iter().map(|e| e.patient).collect();
        let message = format!(
            "{name}: {left} of {} pages still had their entry in the pending-acks table {settle:.0} s \
             after the last ward stopped waiting (patient {}), each a sender that nothing will ever \
             answer or remove{}",
            case.pages.len(),
            list(&patients),
            spawned_at(&sites, "filed")
        );
        let finding = Finding::new(Kind::LeakedEntry, message).measure("table_entries_left", left as u64);
        findings.push(finding.with_sites(sites));
    }
    for (page, answer) in case.pages.iter().zip(&seen.answers) {
        findings.extend(judge_answer(name, page, answer.as_ref()));
    }
    findings
}

/// What one ward got: the doctor's answer if it came while the ward waited, and
/// nothing else.
fn judge_answer(name: &str, page: &Page, answer: Option<&Ack>) -> Option<Finding> {
    let patient = page.patient;
    let patience = page.patience_ms;
    let finding = match (page.answered_in_time(), answer) {
        (Some(_), Some(ack)) if ack.patient == patient => return None,
        (None, None) => return None,
        (Some(ms), _) => Finding::new(
            Kind::LostWork,
            format!(
                "{name}: the doctor answered the page about patient {patient} after {ms} ms, while the \
                 ward still waited (it waits {patience} ms), but the ward never got the answer"
            ),
        )
        .measure("answer_after_ms", ms),
        (None, Some(ack)) => Finding::new(
            Kind::SwallowedError,
            format!(
                "{name}: the ward waiting on patient {patient} got an acknowledgement (for patient {}), \
                 but the doctor {}: the ward was told help is coming when it is not",
                ack.patient,
                match page.answer_after_ms {
                    Some(ms) =>
                        format!("answered only after {ms} ms, when the ward had given up at {patience} ms"),
                    None => "never answered".to_owned(),
                }
            ),
        ),
    };
    Some(finding.measure("patient", u64::from(patient)))
}

/// The lines that filed the entries left, most entries first.
fn entry_sites(entries: &[PendingEntry]) -> Vec<Site> {
    let mut sites: Vec<Site> = Vec::new();
    for entry in entries {
        let file = normalize(entry.file);
        match sites.iter_mut().find(|s| s.file == file && s.line == entry.line) {
            Some(site) => site.count += 1,
            None => sites.push(Site {
                file,
                line: entry.line,
                count: 1,
                stack: None,
            }),
        }
    }
    sites.sort_by_key(|s| std::cmp::Reverse(s.count));
    sites
}

fn spawned_at(sites: &[Site], verb: &str) -> String {
    match sites {
        [] => String::new(),
        [site] => format!(", {verb} at {site}"),
        [site, rest @ ..] => format!(", {verb} at {site} and {} other places", rest.len()),
    }
}

fn list(ids: &[u32]) -> String {
    let words: Vec<String> = ids.iter().map(u32::to_string).collect();
    match words.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leaklab_clinic::PageId;

    /// What a correct fix sees: each in-time answer delivered, nothing left.
    fn correct(case: &Case) -> Seen {
        let answers = case
            .pages
            .iter()
            .enumerate()
            .map(|(i, page)| {
                page.answered_in_time().map(|_| Ack {
                    page: PageId(i as u64 + 1),
                    patient: page.patient,
                })
            })
            .collect();
        Seen {
            answers,
            ..Seen::default()
        }
    }

    fn kinds(case: &Case, seen: &Seen) -> Vec<Kind> {
        judge(case, seen).iter().map(|f| f.kind).collect()
    }

    fn task(line: u32) -> TaskRecord {
        TaskRecord {
            id: u64::from(line),
            file: Some("labs/lab07_stuck_receive.rs".into()),
            line,
            spawned_at: Duration::ZERO,
            ended_at: None,
            stack: None,
        }
    }

    fn entry(patient: u32) -> PendingEntry {
        PendingEntry {
            page: PageId(u64::from(patient)),
            patient,
            file: "bins/src/bin/../../../labs/lab07_stuck_receive.rs",
            line: 21,
        }
    }

    #[test]
    fn a_correct_fix_passes_every_case() {
        for case in &CASES {
            assert_eq!(kinds(case, &correct(case)), [], "{}", case.name);
        }
    }

    #[test]
    fn a_task_left_waiting_is_a_leak() {
        let case = &CASES[1];
        let seen = Seen {
            alive: vec![task(22), task(22)],
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::LeakedTask);
        assert_eq!(findings[0].sites[0].count, 2);
        assert!(findings[0].message.contains("labs/lab07_stuck_receive.rs:22"));
    }

    #[test]
    fn an_entry_left_in_the_table_is_a_leak_even_with_no_task() {
        let case = &CASES[1];
        let seen = Seen {
            entries: vec![entry(4), entry(6), entry(8)],
            ..correct(case)
        };
        let findings = judge(case, &seen);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].kind, Kind::LeakedEntry);
        assert_eq!(findings[0].measured["table_entries_left"], 3);
        assert_eq!(findings[0].sites[0].file, "labs/lab07_stuck_receive.rs");
        assert!(findings[0].message.contains("patient 4, 6 and 8"));
    }

    #[test]
    fn an_answer_that_came_in_time_must_reach_the_ward() {
        let case = &CASES[1];
        let mut seen = correct(case);
        seen.answers[3] = None; // patient 7: answered at 3 s, the ward waits 5 s
        assert_eq!(kinds(case, &seen), [Kind::LostWork]);
    }

    #[test]
    fn an_answer_for_another_patient_is_not_the_answer() {
        let case = &CASES[0];
        let mut seen = correct(case);
        seen.answers.swap(0, 1);
        assert_eq!(kinds(case, &seen), [Kind::LostWork, Kind::LostWork]);
    }

    #[test]
    fn an_answer_that_never_came_must_not_be_invented() {
        let case = &CASES[2];
        let mut seen = correct(case);
        seen.answers[0] = Some(Ack {
            page: PageId(1),
            patient: 9,
        });
        assert_eq!(kinds(case, &seen), [Kind::SwallowedError]);
    }

    #[test]
    fn no_fixed_wait_in_the_task_fits_every_ward() {
        // A task that waits a fixed time must wait at least as long as the slowest
        // answer a ward still waits for, or that answer is lost. Some night with an
        // unanswered page is looked at sooner than that, so such a task is still there.
        let pages = CASES.iter().flat_map(|c| c.pages);
        let longest_answer = pages.filter_map(Page::answered_in_time).max().unwrap();
        let looked_at = |case: &Case| {
            let last_ward = case.pages.iter().map(|p| p.patience_ms).max().unwrap_or(0);
            last_ward + SETTLE.as_millis() as u64
        };
        let unanswered = |case: &&Case| case.pages.iter().any(|p| p.answer_after_ms.is_none());
        assert!(
            CASES
                .iter()
                .filter(unanswered)
                .any(|case| looked_at(case) < longest_answer)
        );
    }

    #[test]
    fn no_answer_lands_on_the_instant_its_ward_gives_up() {
        for page in CASES.iter().flat_map(|c| c.pages) {
            assert_ne!(
                page.answer_after_ms,
                Some(page.patience_ms),
                "patient {}",
                page.patient
            );
        }
    }
}
