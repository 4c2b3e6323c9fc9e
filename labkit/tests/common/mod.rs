//! Shared by the tests that run their own test binary again as a check child
//! (`handoff.rs`, `watchdog.rs`; the role is picked by `LABKIT_CHILD`).

use tokio_leakcheck::child::Meta;
use tokio_leakcheck::{Check, Variant};

/// The check every child of these tests runs as.
pub const META: Meta = Meta {
    lab: 0,
    variant: Variant::Solution,
    check: Check::Scenario,
};
