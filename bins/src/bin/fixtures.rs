//! Every fixture of the labs with a scenario, in one binary (see `build.rs`):
//! `fixtures lab01/wrong/drop_handle` checks that fixture as if it were your copy.
include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));
