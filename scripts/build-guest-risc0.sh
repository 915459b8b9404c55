#!/usr/bin/env bash
# Builds the RISC Zero guest (guests/risc0) for riscv32im-risc0-zkvm-elf and copies the ELF to
# the path given as the first argument (default: target/riscv-guest/bp-guest-risc0.elf). The
# toolchain and its overrides: scripts/guest-toolchain.sh. The flags are those risc0-build 3.0
# passes; BLOCKPROVER_GUEST_FEATURES replaces the guest's default features.
set -euo pipefail
source "$(dirname "$0")/guest-toolchain.sh"
OUT="${1:-$ROOT/target/riscv-guest/bp-guest-risc0.elf}"
TARGET=riscv32im-risc0-zkvm-elf

FEATURES=()
if [ -n "${BLOCKPROVER_GUEST_FEATURES+set}" ]; then
    FEATURES=(--no-default-features --features "$BLOCKPROVER_GUEST_FEATURES")
fi
FLAGS=(
    -C passes=lower-atomic                 # single-threaded guest: plain loads/stores for atomics
    -C link-arg=-Ttext=0x00200800          # risc0-zkvm-platform's TEXT_START
    -C link-arg=--fatal-warnings
    -C panic=abort
    --cfg 'getrandom_backend="custom"'
)
guest_cargo_build "$ROOT/guests/risc0/Cargo.toml" "$TARGET" RISC0_FEATURE_bigint2= -- "${FLAGS[@]}" -- "${FEATURES[@]}"
copy_guest_elf "$TARGET_DIR/$TARGET/release/bp-guest-risc0" "$OUT"
