// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_models,
    lab03,
    Original,
    "../../../tests/originals/lab03_unsynchronised_counter.rs"
);
