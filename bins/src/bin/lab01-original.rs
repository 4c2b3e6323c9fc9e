// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab01,
    Original,
    "../../../tests/originals/lab01_orphaned_task.rs"
);
