// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab06,
    Original,
    "../../../tests/originals/lab06_forgotten_cancel.rs"
);
