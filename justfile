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

# Run lab N live for tokio-console (--fixed: the solution); installs tokio-console if missing
console n *args:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! command -v tokio-console >/dev/null; then
        echo "tokio-console is not installed: installing it now (cargo install tokio-console --locked)."
        echo "This takes several minutes, once (about 8 on a 2-core machine)."
        cargo install tokio-console --locked
    fi
    exec cargo lab {{n}} --console {{args}}

# Check lab N again on every save; moves on to the next lab when it passes
watch n="":
    @cargo lab watch {{n}}

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

# The labs' fixes and the detector's cost (criterion), its hooks in alternating rounds,
# its growth to a million tasks; then the book's tables (book/src/generated/benchmarks.md).
# Benchmarks in release mode, about 3 minutes on 2 cores once built
bench:
    cargo bench -p leaklab-benches
    cargo run --release -p leaklab-benches --bin overhead
    cargo run --release -p leaklab-benches --bin scale
    cargo run --release -p leaklab-benches --bin bench-table

# Lints as CI runs them
lint:
    cargo clippy --workspace --all-targets -- -D warnings
    cargo fmt --all --check

# mdBook only logs a missing include (and exits 0): any error or warning in its log
# fails this build. tests/book.rs checks anchors and links.
# Build the book into book/build
book:
    #!/usr/bin/env bash
    set -euo pipefail
    log=$(NO_COLOR=1 mdbook build book 2>&1) || { echo "$log"; exit 1; }
    echo "$log"
    if grep -E '^[[:space:]]*(ERROR|WARN)' <<<"$log" >/dev/null; then
        echo "book: mdBook reported the errors above (a missing include?)" >&2
        exit 1
    fi

# Serve the book at http://localhost:3000, rebuilt on every save
serve-book:
    mdbook serve book --open

# Needs chromium (`apt-get install -y chromium`); the PNGs are not committed.
# Screenshots of the book as a reader sees it on a laptop (1366x900), in target/screenshots
screenshots: book
    #!/usr/bin/env bash
    set -euo pipefail
    out=target/screenshots
    mkdir -p "$out"
    shot() {
        profile=$(mktemp -d)
        chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$profile" --window-size="1366,$3" --hide-scrollbars \
            --screenshot="$out/$1.png" "file://$PWD/book/build/$2" 2>/dev/null
        rm -rf "$profile"
        echo "$out/$1.png"
    }
    # The first screen of each page, and the whole page at the same width (headless
    # chromium does not scroll to a #fragment before its screenshot).
    for page in introduction lab01 lab03; do
        shot "$page" "$page.html" 900
        shot "$page-whole" "$page.html" 6000
    done

# Everything CI runs
ci:
    bash .ci/run
