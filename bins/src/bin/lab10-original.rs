// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab10,
    Original,
    "../../../tests/originals/lab10_lost_trace_id.rs"
);
