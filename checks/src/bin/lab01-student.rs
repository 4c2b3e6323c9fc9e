//! Lab 1's check, run against labs/lab01_orphaned_task.rs.
#[allow(dead_code)]
#[path = "../../../labs/lab01_orphaned_task.rs"]
mod lab;

fn main() {
    leaklab_checks::lab01::serve(labkit::Variant::Student, lab::fetch_lab_result);
}
