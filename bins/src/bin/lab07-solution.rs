// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab07,
    Solution,
    "../../../solutions/lab07_stuck_receive.rs"
);
