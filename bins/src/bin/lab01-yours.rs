// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab01,
    Yours,
    "../../../labs/lab01_orphaned_task.rs"
);
