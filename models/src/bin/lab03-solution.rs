//! Lab 3's loom model, run against the fixed copy (solutions/).
#[allow(dead_code)]
#[path = "../../../solutions/lab03_unsynchronised_counter.rs"]
mod lab;
use lab::BookingCounter as Counter;
use labkit::Variant::Solution;

fn main() {
    leaklab_models::counter::serve(Solution, Counter::new, Counter::record_booking, Counter::total);
}
