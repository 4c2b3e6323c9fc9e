//! Lab 2's check, run against labs/lab02_missing_join.rs.
#[allow(dead_code)]
#[path = "../../../labs/lab02_missing_join.rs"]
mod lab;

fn main() {
    leaklab_checks::lab02::serve(labkit::Variant::Student, lab::sync_patient_records);
}
