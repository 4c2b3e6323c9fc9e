// Written by `cargo lab dev` from the registry (registry/src/labs.rs): do not edit.
labkit::check_bin!(
    leaklab_checks,
    lab12,
    Yours,
    "../../../labs/lab12_lock_across_await.rs"
);
