// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab02,
    Solution,
    "../../../solutions/lab02_missing_join.rs"
);
