//! Lab 2's check, run against solutions/lab02_missing_join.rs.
#[allow(dead_code)]
#[path = "../../../solutions/lab02_missing_join.rs"]
mod lab;

fn main() {
    leaklab_checks::lab02::serve(labkit::Variant::Solution, lab::sync_patient_records);
}
