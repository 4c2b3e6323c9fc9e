// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_models,
    lab03,
    Solution,
    "../../../solutions/lab03_unsynchronised_counter.rs"
);
