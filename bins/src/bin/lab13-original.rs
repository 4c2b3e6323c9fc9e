// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab13,
    Original,
    "../../../tests/originals/lab13_select_loop.rs"
);
