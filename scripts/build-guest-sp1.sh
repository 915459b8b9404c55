#!/usr/bin/env bash
# Builds the SP1 guest (guests/sp1) for riscv64im-succinct-zkvm-elf and copies the ELF to the
# path given as the first argument (default: target/riscv-guest/bp-guest-sp1.elf). The
# toolchain and its overrides: scripts/guest-toolchain.sh. SP1 compiles its target into its own
# rustc; here a target spec (guests/sp1/riscv64im-succinct-zkvm-elf.json) stands in for it:
# RV64IM, os "zkvm", vendor "succinct", single-threaded, statically linked by rust-lld. The
# flags are those sp1-build 6.10 passes.
set -euo pipefail
source "$(dirname "$0")/guest-toolchain.sh"
OUT="${1:-$ROOT/target/riscv-guest/bp-guest-sp1.elf}"
TARGET=riscv64im-succinct-zkvm-elf

FLAGS=(
    -C passes=lower-atomic                 # single-threaded guest: plain loads/stores for atomics
    -C link-arg=--image-base=0x78000000    # sp1-primitives' STACK_TOP: the stack grows down from the code
    -C panic=abort
    -C llvm-args=-misched-prera-direction=bottomup
    -C llvm-args=-misched-postra-direction=bottomup
    --cfg 'getrandom_backend="custom"'
)
guest_cargo_build "$ROOT/guests/sp1/Cargo.toml" "$ROOT/guests/sp1/$TARGET.json" -- "${FLAGS[@]}" -- -Zjson-target-spec
copy_guest_elf "$TARGET_DIR/$TARGET/release/bp-guest-sp1" "$OUT"
