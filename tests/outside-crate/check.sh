#!/usr/bin/env bash
# The detector in a crate outside leaklab, as a new user adds it: the clean test must
# pass, and the leaking one must fail with a report that names each leaked task where
# its source line says "// spawn: NAME". Its own target dir, so nothing of leaklab's
# build is reused; no exported RUSTFLAGS, so the crate's own .cargo/config.toml counts.
set -euo pipefail
cd "$(dirname "$0")"
unset RUSTFLAGS
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-../../target/outside}"

cargo test --test tcp

output=$(cargo test --test tcp -- --ignored 2>&1) && {
    echo "$output"
    echo "FAIL: the leaking test passed"
    exit 1
}
echo "$output" | sed -n '/still alive/,/^$/p'
fail() { echo "$output"; echo "FAIL: $1"; exit 1; }
grep -q "3 tasks still alive after the test returned" <<<"$output" || fail "no headline with 3 tasks"
for name in server connection client; do
    site=$(grep -n "// spawn: $name\$" src/lib.rs tests/tcp.rs | cut -d: -f1,2)
    [ -n "$site" ] || fail "no line marked '// spawn: $name'"
    grep -q "spawned at $site\b" <<<"$output" || fail "the report does not name the $name task at $site"
done
# The first task listed is the first spawned: the server.
server=$(grep -Hn "// spawn: server\$" tests/tcp.rs | cut -d: -f1,2)
grep -q "the first spawned at $server" <<<"$output" || fail "the server is not listed first"
echo "outside crate: the clean test passed, the leak was reported with every task named"
