//! Lab 1's check, run against tests/originals/lab01_orphaned_task.rs.
#[allow(dead_code)]
#[path = "../../../tests/originals/lab01_orphaned_task.rs"]
mod lab;

fn main() {
    leaklab_checks::lab01::serve(labkit::Variant::Original, lab::fetch_lab_result);
}
