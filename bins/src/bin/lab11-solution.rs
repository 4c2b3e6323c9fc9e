// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab11,
    Solution,
    "../../../solutions/lab11_early_wake_up.rs"
);
