//! Lab 1's check, run against solutions/lab01_orphaned_task.rs.
#[allow(dead_code)]
#[path = "../../../solutions/lab01_orphaned_task.rs"]
mod lab;

fn main() {
    leaklab_checks::lab01::serve(labkit::Variant::Solution, lab::fetch_lab_result);
}
