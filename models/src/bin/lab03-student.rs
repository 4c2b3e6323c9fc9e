//! Lab 3's loom model, run against the student's copy (labs/).
#[allow(dead_code)]
#[path = "../../../labs/lab03_unsynchronised_counter.rs"]
mod lab;
use lab::BookingCounter as Counter;
use labkit::Variant::Student;

fn main() {
    leaklab_models::counter::serve(Student, Counter::new, Counter::record_booking, Counter::total);
}
