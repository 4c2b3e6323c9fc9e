// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab04,
    Original,
    "../../../tests/originals/lab04_cooperative_cancellation.rs"
);
