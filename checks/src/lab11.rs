//! Lab 11's real-thread check: the early wake-up, seen on real OS threads.
//!
//! The batch job starts eight uploads, each a little work on its own thread, calls
//! `wait`, and counts the uploads that had finished when `wait` returned. The property
//! is the model's: when `wait` returns, every upload started before it has finished.
//! An upload that counts itself in on its own thread has, on real threads, almost
//! always not run yet when `wait` looks, so the broken batch returns at once. Still, an
//! early return is proof of the bug and none proves nothing (a missed wake-up, the
//! other way to get a wait group wrong, needs a schedule real threads rarely hit), so
//! this check only shows the symptom; lab 11's loom model, which tries every
//! interleaving, decides.

use crate::Subject;
use labkit::{Finding, Kind, Site, Verdict};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const LAB: u32 = 11;

/// Uploads the batch job starts per round.
pub const UPLOADS: u64 = 8;

/// Rounds run until one returns early, for at most this long (and at least one round).
const BUDGET: Duration = Duration::from_millis(100);
const MAX_ROUNDS: u64 = 20;

/// One upload's work as the scenario hands it to `start`.
pub type Upload = Box<dyn FnOnce() + Send>;

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab11 {
    ($lab:ident, $subject:expr) => {
        $crate::lab11::check(
            $subject,
            $lab::UploadBatch::new,
            |batch, upload| batch.start(upload),
            |batch| batch.wait(),
        )
    };
}

/// What the rounds saw: the round that ended them, and how many of its uploads had
/// finished when `wait` returned.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub rounds: u64,
    pub finished: u64,
}

/// Runs rounds of the scenario against one copy of the lab: its constructor, `start`
/// and `wait`.
pub fn check<B>(subject: &Subject, new: fn() -> B, start: fn(&B, Upload), wait: fn(&B)) -> Verdict {
    let started = Instant::now();
    let mut rounds = 0;
    let finished = loop {
        let finished = round(new, start, wait);
        rounds += 1;
        labkit::progress();
        if finished != UPLOADS || rounds == MAX_ROUNDS || started.elapsed() >= BUDGET {
            break finished;
        }
    };
    let seen = Seen { rounds, finished };
    let mut verdict = Verdict::default();
    for (name, value) in [
        ("uploads", UPLOADS),
        ("rounds", rounds),
        ("finished_at_return", finished),
    ] {
        verdict.measure(name, value);
    }
    verdict.findings = judge(&seen);
    for finding in &mut verdict.findings {
        finding.sites.push(Site {
            file: subject.file.to_owned(),
            line: subject.line_of("fn wait").unwrap_or(1),
            count: 1,
            stack: None,
        });
    }
    if verdict.findings.is_empty() {
        verdict.notes.push(format!(
            "in {rounds} rounds of {UPLOADS} uploads on real threads, wait() never returned early; \
             real threads cannot prove that no schedule makes it, the loom model decides"
        ));
    }
    verdict
}

/// The rule: when `wait` returns, every upload started before it has finished.
pub fn judge(seen: &Seen) -> Vec<Finding> {
    if seen.finished >= UPLOADS {
        return Vec::new();
    }
    let unfinished = UPLOADS - seen.finished;
    let message = format!(
        "the batch job started {UPLOADS} uploads and called wait(), which returned with {unfinished} \
         of them unfinished (round {} on real threads)",
        seen.rounds
    );
    vec![
        Finding::new(Kind::LostWork, message)
            .measure("uploads", UPLOADS)
            .measure("finished_at_return", seen.finished)
            .measure("unfinished", unfinished),
    ]
}

/// One round: a fresh batch, every upload started, then `wait`, and the count of the
/// uploads finished by then. Uploads still running after an early return finish on
/// their own; nothing waits for them.
fn round<B>(new: fn() -> B, start: fn(&B, Upload), wait: fn(&B)) -> u64 {
    let batch = new();
    let finished = Arc::new(AtomicU64::new(0));
    for report in 0..UPLOADS {
        let finished = Arc::clone(&finished);
        start(
            &batch,
            Box::new(move || {
                upload(report);
                finished.fetch_add(1, Ordering::Release);
            }),
        );
    }
    wait(&batch);
    finished.load(Ordering::Acquire)
}

/// An upload's work: a checksum over a report, a few tens of microseconds of CPU.
fn upload(report: u64) -> u64 {
    (0..20_000u64).fold(report, |sum, byte| black_box(sum.rotate_left(5) ^ byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_upload_finished_passes_and_any_fewer_fails() {
        assert!(
            judge(&Seen {
                rounds: 20,
                finished: UPLOADS
            })
            .is_empty()
        );
        let early = judge(&Seen {
            rounds: 1,
            finished: 0,
        });
        assert_eq!(early.len(), 1);
        assert_eq!(early[0].kind, Kind::LostWork);
        assert_eq!(early[0].measured["unfinished"], UPLOADS);
        assert!(early[0].message.contains("returned with 8 of them unfinished"));
    }
}
