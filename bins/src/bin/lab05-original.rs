// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab05,
    Original,
    "../../../tests/originals/lab05_orphaned_token.rs"
);
