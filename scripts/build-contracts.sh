#!/usr/bin/env bash
# Compiles the Solidity contracts (contracts/src) with solc-js, pinned here, into the artifacts
# Rust binds with `sol!` (contracts/out). `--check` compiles into a temporary directory and fails
# if the checked-in artifacts differ (CI runs it, so they cannot drift from the sources).
set -euo pipefail
cd "$(dirname "$0")/.."
SOLC_VERSION=0.8.30
TOOLS="${BLOCKPROVER_NPM:-$HOME/.cache/blockprover/npm}"
if [ ! -f "$TOOLS/node_modules/solc/package.json" ] \
    || ! grep -q "\"version\": \"$SOLC_VERSION\"" "$TOOLS/node_modules/solc/package.json"; then
    mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-save --no-audit --no-fund "solc@$SOLC_VERSION" >/dev/null
fi
export NODE_PATH="$TOOLS/node_modules"
if [ "${1:-}" = --check ]; then
    fresh="$(mktemp -d)"
    trap 'rm -rf "$fresh"' EXIT
    node contracts/build.js "$fresh"
    if ! diff -r "$fresh" contracts/out >/dev/null; then
        diff -r "$fresh" contracts/out | head -20 >&2
        echo "error: contracts/out differs from a fresh compile of contracts/src: run scripts/build-contracts.sh" >&2
        exit 1
    fi
    echo "contracts/out matches a fresh compile (solc $SOLC_VERSION)"
else
    node contracts/build.js contracts/out
    echo "contracts compiled with solc $SOLC_VERSION into contracts/out"
fi
