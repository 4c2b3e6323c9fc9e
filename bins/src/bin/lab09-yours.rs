// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab09,
    Yours,
    "../../../labs/lab09_no_timeout_downstream.rs"
);
