//! Lab 3's real-thread check: the lost bookings, counted on real OS threads.
//!
//! Four booking threads record 100,000 bookings each on one counter, started together
//! so their steps overlap as much as the machine allows. Every booking the counter
//! does not show was lost. A loss is proof of the bug; no loss proves nothing (the
//! schedule that loses one may just not have come up), so this check only shows the
//! symptom, and lab 3's loom model, which tries every interleaving, decides. The
//! property is the model's: after the threads are joined, `total()` is the number of
//! `record_booking` calls.

use crate::registry;
use labkit::child::{Meta, serve as serve_child};
use labkit::{Finding, Kind, Report, Site, Variant};
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// Booking threads, and bookings each one records per round.
pub const THREADS: u64 = 4;
pub const BOOKINGS_PER_THREAD: u64 = 100_000;

/// Rounds run until one loses a booking, for at most this long (and at least one round).
const BUDGET: Duration = Duration::from_millis(150);
const MAX_ROUNDS: u64 = 5;

/// Runs the check in this (child) process and reports to the runner.
pub fn serve<C: Sync>(variant: Variant, new: fn() -> C, record_booking: fn(&C), total: fn(&C) -> u64) -> ! {
    serve_child(
        Meta {
            lab: 3,
            variant,
            check: "scenario",
        },
        || check(variant, new, record_booking, total),
    )
}

/// Runs rounds of the scenario against one copy of the lab: its constructor,
/// `record_booking` and `total`.
pub fn check<C: Sync>(
    variant: Variant,
    new: fn() -> C,
    record_booking: fn(&C),
    total: fn(&C) -> u64,
) -> Report {
    let expected = THREADS * BOOKINGS_PER_THREAD;
    let started = Instant::now();
    let mut rounds = 0;
    let counted = loop {
        let counted = round(new, record_booking, total);
        rounds += 1;
        if counted != expected || rounds == MAX_ROUNDS || started.elapsed() >= BUDGET {
            break counted;
        }
    };

    let mut report = Report::new(3, variant, "scenario");
    for (name, value) in [
        ("threads", THREADS),
        ("rounds", rounds),
        ("expected", expected),
        ("counted", counted),
    ] {
        report.measured.insert(name.into(), value);
    }
    if counted < expected {
        let lost = expected - counted;
        let message = format!(
            "{THREADS} threads recorded {expected} bookings, but total() counted {counted}: {lost} bookings \
             were lost"
        );
        let finding = Finding::new(Kind::LostUpdate, message)
            .measure("expected", expected)
            .measure("counted", counted)
            .measure("lost", lost)
            .with_sites(vec![site(variant, lost)]);
        report.findings.push(finding);
    } else if counted > expected {
        let message =
            format!("{THREADS} threads recorded {expected} bookings, but total() counted {counted}");
        let finding = Finding::new(Kind::LostUpdate, message)
            .measure("expected", expected)
            .measure("counted", counted)
            .with_sites(vec![site(variant, 1)]);
        report.findings.push(finding);
    } else {
        report.notes.push(format!(
            "{rounds} rounds of {expected} bookings on real threads lost none; real threads cannot prove \
             that no schedule loses one, the loom model decides"
        ));
    }
    report
}

/// One round: a fresh counter, every thread booking at once, then the count.
fn round<C: Sync>(new: fn() -> C, record_booking: fn(&C), total: fn(&C) -> u64) -> u64 {
    let counter = new();
    let start = Barrier::new(THREADS as usize);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                start.wait();
                for _ in 0..BOOKINGS_PER_THREAD {
                    record_booking(&counter);
                }
            });
        }
    });
    total(&counter)
}

/// `record_booking` in the copy that ran, found in its source when the check runs.
fn site(variant: Variant, count: u64) -> Site {
    let lab = registry::lab(3).expect("lab 3 is in the registry");
    let path = lab.path(variant);
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../").to_owned() + &path);
    let line = source
        .ok()
        .and_then(|text| text.lines().position(|line| line.contains("fn record_booking")));
    Site {
        file: path,
        line: line.map_or(1, |i| i as u32 + 1),
        count: count.min(u64::from(u32::MAX)) as u32,
        stack: None,
    }
}
