//! Lab 3's real-thread check, run against the broken original (tests/originals/).
#[allow(dead_code)]
#[path = "../../../tests/originals/lab03_unsynchronised_counter.rs"]
mod lab;
use lab::BookingCounter as Counter;
use labkit::Variant::Original;

fn main() {
    leaklab_checks::lab03::serve(Original, Counter::new, Counter::record_booking, Counter::total);
}
