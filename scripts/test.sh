#!/usr/bin/env bash
# The project's test command: unit and integration tests, then the conformance suites.
set -euo pipefail
cd "$(dirname "$0")/.."
FIXTURES="${BLOCKPROVER_FIXTURES:-../shared/fixtures}"

cargo build --release --workspace --locked
# The coordinator's load test runs on its own so that its latency figures are printed.
cargo test --release --workspace --locked -- --skip fifty_clients_poll_without_errors
cargo test --release --locked -p bp-coordinator --test load -- --nocapture

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
