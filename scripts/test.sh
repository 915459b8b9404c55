#!/usr/bin/env bash
# The project's test command: unit and integration tests, then the conformance suites.
set -euo pipefail
cd "$(dirname "$0")/.."
FIXTURES="${BLOCKPROVER_FIXTURES:-../shared/fixtures}"

# The RISC Zero backend is built in (its guest with Debian's rustc-web, see
# scripts/build-guest-risc0.sh). DOCS_RS=1 skips risc0's recursion-circuit download, which
# fails offline: composite proofs only (docs/zkvm.md). BLOCKPROVER_NO_RISC0=1 leaves it out.
FEATURES=(--features blockprover/risc0)
if [ "${BLOCKPROVER_NO_RISC0:-}" = 1 ]; then
    FEATURES=()
    echo "BLOCKPROVER_NO_RISC0=1: building and testing without the RISC Zero backend" >&2
fi
export DOCS_RS="${DOCS_RS-1}"

# One feature set for every step, so that the build is shared.
cargo build --release --workspace --locked "${FEATURES[@]}"
# The coordinator's load test runs on its own so that its latency figures are printed; the
# RISC Zero proof and executor tests run on their own with their figures printed too.
cargo test --release --workspace --locked "${FEATURES[@]}" -- \
    --skip fifty_clients_poll_without_errors --skip proves_a_small_block --skip executor_matches_exec
cargo test --release --locked "${FEATURES[@]}" -p bp-coordinator --test load -- --nocapture
if [ ${#FEATURES[@]} -gt 0 ]; then
    cargo test --release --locked "${FEATURES[@]}" -p bp-backend --test risc0 -- --nocapture --test-threads 1
fi

# A short devnet end to end (the README's main job): 3 batches of 4 L2 blocks, 2 provers, every
# proof checked against the builder's own outputs (non-zero exit on a mismatch).
DEVNET_DIR="$(mktemp -d)"
./target/release/blockprover devnet --batches 3 --blocks-per-batch 4 --provers 2 --data-dir "$DEVNET_DIR"
rm -rf "$DEVNET_DIR"

# Every EEST suite (Prague, Cancun, Osaka, fork transitions) and the legacy ethereum/tests
# blockchain tests, in one run so the last line is the total. Skips are explained in SKIPS.md.
./target/release/blockprover conformance \
    "$FIXTURES/eest-tests-bal-v5.7.0" \
    "$FIXTURES/ethereum-tests/BlockchainTests.tar.zst"
