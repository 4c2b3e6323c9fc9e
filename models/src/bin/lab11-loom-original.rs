// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_models,
    lab11,
    Original,
    "../../../tests/originals/lab11_early_wake_up.rs"
);
