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

# Put the original broken lab N back (your copy is backed up under .leaklab/backups/)
reset n:
    @cargo lab reset {{n}}

# Grade every lab of this copy: a table, and results in .leaklab/results/ (see GRADING.md)
grade *args:
    @cargo lab grade {{args}}

# For instructors: grade a folder of student clones into one summary (see GRADING.md)
grade-class dir *args:
    @cargo lab grade-class {{dir}} {{args}}

# The test suite: detector, exhibits, cheats and wrong fixes
test:
    cargo test

# The loom models: the broken copies must fail in the way each lab says, the fixes must not
loom:
    RUSTFLAGS="{{loom_flags}}" LOOM_MAX_PREEMPTIONS=2 cargo test -p leaklab-models --release --target-dir target/loom

# For developers: write what the registry generates (bins, SUMMARY, README table, chapter headers)
dev:
    @cargo lab dev

# For developers: run every fixture and compare with its header
fixtures n="":
    @cargo lab dev fixtures {{n}}

# Lints as CI runs them
lint:
    cargo clippy --workspace --all-targets --exclude leaklab-bins -- -D warnings
    cargo clippy -p leaklab-bins --all-targets -- -D warnings -A clippy::await_holding_lock
    cargo fmt --all --check

# Build the book into book/build
book:
    mdbook build book

# Everything CI runs
ci:
    bash .ci/run
