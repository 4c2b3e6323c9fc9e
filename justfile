# leaklab recipes. Every recipe is a thin wrapper over cargo, so nothing here is
# needed: `cargo lab ...` and `cargo test` work with Rust alone.

# Builds for the loom model checker use their own cfg, target dir and release mode.
loom_flags := "--cfg loom --cfg tokio_unstable"

# List the labs
default:
    @cargo lab

# Run lab N: your copy and the fixed one, side by side
lab n:
    @cargo lab {{n}}

# Grade your copy of lab N (exit 0 on pass, 1 on fail)
check n:
    @cargo lab check {{n}}

# Show hint K of lab N
hint n k="1":
    @cargo lab hint {{n}} {{k}}

# Put the original broken lab N back (your copy is backed up under target/)
reset n:
    @cargo lab reset {{n}}

# The test suite: detector, exhibits, cheats and wrong fixes
test:
    cargo test

# The loom models (lab 3): the broken counter must lose an update, the fix must not
loom:
    RUSTFLAGS="{{loom_flags}}" LOOM_MAX_PREEMPTIONS=2 cargo test -p leaklab-models --release --target-dir target/loom

# Lints as CI runs them
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo fmt --all --check

# Build the book into book/build
book:
    mdbook build book

# Everything CI runs
ci:
    bash .ci/run
