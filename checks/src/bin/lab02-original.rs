//! Lab 2's check, run against tests/originals/lab02_missing_join.rs.
#[allow(dead_code)]
#[path = "../../../tests/originals/lab02_missing_join.rs"]
mod lab;

fn main() {
    leaklab_checks::lab02::serve(labkit::Variant::Original, lab::sync_patient_records);
}
