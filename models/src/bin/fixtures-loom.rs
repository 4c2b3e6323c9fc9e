//! Every fixture of the labs with a loom model, in one binary (see `build.rs`):
//! `fixtures-loom lab03/wrong/drop_handle` checks that fixture as if it were your copy.
include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
