//! Lab 3's loom model, run against the broken original (tests/originals/).
#[allow(dead_code)]
#[path = "../../../tests/originals/lab03_unsynchronised_counter.rs"]
mod lab;
use lab::BookingCounter as Counter;
use labkit::Variant::Original;

fn main() {
    leaklab_models::counter::serve(Original, Counter::new, Counter::record_booking, Counter::total);
}
