// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab08,
    Yours,
    "../../../labs/lab08_unclosed_pipeline.rs"
);
