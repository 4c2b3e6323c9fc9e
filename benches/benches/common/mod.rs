//! What the criterion benchmarks (`labs`, `detector`) share.

use criterion::Criterion;
use std::time::Duration;

/// Ten samples of about a second each, after 0.3 s of warm-up: short enough that
/// `just bench` runs every benchmark in a few minutes.
pub fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
}
