// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab08,
    Original,
    "../../../tests/originals/lab08_unclosed_pipeline.rs"
);
