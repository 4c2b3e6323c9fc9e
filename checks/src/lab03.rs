//! Lab 3's real-thread check: the lost bookings, counted on real OS threads.
//!
//! Four booking threads record 100,000 bookings each on one counter, started together
//! so their steps overlap as much as the machine allows. Every booking the counter
//! does not show was lost. A loss is proof of the bug; no loss proves nothing (the
//! schedule that loses one may just not have come up), so this check only shows the
//! symptom, and lab 3's loom model, which tries every interleaving, decides. The
//! property is the model's: after the threads are joined, `total()` is the number of
//! `record_booking` calls.

use crate::{Subject, count};
use labkit::{Finding, Kind, Site, Verdict};
use std::sync::Barrier;
use std::time::{Duration, Instant};

pub const LAB: u32 = 3;

/// Booking threads, and bookings each one records per round.
pub const THREADS: u64 = 4;
pub const BOOKINGS_PER_THREAD: u64 = 100_000;

/// Rounds run until one loses a booking, for at most this long (and at least one round).
const BUDGET: Duration = Duration::from_millis(150);
const MAX_ROUNDS: u64 = 5;

/// How a check binary calls this lab.
#[macro_export]
macro_rules! lab03 {
    ($lab:ident, $subject:expr) => {
        $crate::lab03::check(
            $subject,
            $lab::BookingCounter::new,
            $lab::BookingCounter::record_booking,
            $lab::BookingCounter::total,
        )
    };
}

/// What the rounds counted.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub rounds: u64,
    pub counted: u64,
}

/// Runs rounds of the scenario against one copy of the lab: its constructor,
/// `record_booking` and `total`.
pub fn check<C: Sync>(
    subject: &Subject,
    new: fn() -> C,
    record_booking: fn(&C),
    total: fn(&C) -> u64,
) -> Verdict {
    let started = Instant::now();
    let mut rounds = 0;
    let counted = loop {
        let counted = round(new, record_booking, total);
        rounds += 1;
        if counted != EXPECTED || rounds == MAX_ROUNDS || started.elapsed() >= BUDGET {
            break counted;
        }
    };
    let seen = Seen { rounds, counted };
    let mut verdict = Verdict::default();
    for (name, value) in [
        ("threads", THREADS),
        ("rounds", rounds),
        ("expected", EXPECTED),
        ("counted", counted),
    ] {
        verdict.measure(name, value);
    }
    verdict.findings = judge(&seen);
    for finding in &mut verdict.findings {
        let line = subject.line_of("fn record_booking").unwrap_or(1);
        let count = finding.measured.get("lost").copied().unwrap_or(1);
        finding.sites.push(Site {
            file: subject.file.to_owned(),
            line,
            count: count.min(u64::from(u32::MAX)) as u32,
            stack: None,
        });
    }
    if verdict.findings.is_empty() {
        verdict.notes.push(format!(
            "{rounds} rounds of {EXPECTED} bookings on real threads lost none; real threads cannot prove \
             that no schedule loses one, the loom model decides"
        ));
    }
    verdict
}

/// Bookings recorded per round.
pub const EXPECTED: u64 = THREADS * BOOKINGS_PER_THREAD;

/// The rule: after the threads are joined, `total()` is the number of bookings.
pub fn judge(seen: &Seen) -> Vec<Finding> {
    let (expected, counted) = (EXPECTED, seen.counted);
    if counted == expected {
        return Vec::new();
    }
    let mut message = format!(
        "{THREADS} threads recorded {} bookings, but total() counted {}",
        count(expected),
        count(counted)
    );
    let mut finding = Finding::new(Kind::LostUpdate, String::new())
        .measure("expected", expected)
        .measure("counted", counted);
    if counted < expected {
        message.push_str(&format!(": {} bookings were lost", count(expected - counted)));
        finding = finding.measure("lost", expected - counted);
    }
    finding.message = message;
    vec![finding]
}

/// One round: a fresh counter, every thread booking at once, then the count.
fn round<C: Sync>(new: fn() -> C, record_booking: fn(&C), total: fn(&C) -> u64) -> u64 {
    let counter = new();
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                for booking in 0..BOOKINGS_PER_THREAD {
                    record_booking(&counter);
                    if booking % 4096 == 0 {
                        // Healthy threads say so; one stuck in record_booking stops
                        // saying it, and the child's watchdog reports where it is.
                        labkit::progress();
                    }
                }
            });
        }
    });
    total(&counter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_booking_counted_passes_and_any_other_count_fails() {
        assert!(
            judge(&Seen {
                rounds: 1,
                counted: EXPECTED
            })
            .is_empty()
        );
        let lost = judge(&Seen {
            rounds: 1,
            counted: EXPECTED - 3,
        });
        assert_eq!((lost[0].kind, lost[0].measured["lost"]), (Kind::LostUpdate, 3));
        assert_eq!(
            judge(&Seen {
                rounds: 1,
                counted: EXPECTED + 1
            })[0]
                .kind,
            Kind::LostUpdate
        );
    }
}
