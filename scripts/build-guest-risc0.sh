#!/usr/bin/env bash
# Builds the RISC Zero guest (guests/risc0) for riscv32im-risc0-zkvm-elf and copies the ELF to
# the path given as the first argument (default: target/riscv-guest/bp-guest-risc0.elf).
#
# RISC Zero's own toolchain (rzup) cannot be downloaded here, so the guest is built with
# Debian's rustc-web/cargo-web (1.96) and the standard library from rust-web-src, compiled for
# the zkVM target with -Zbuild-std (RUSTC_BOOTSTRAP=1 allows the nightly flag on a stable
# compiler). The flags are those risc0-build 3.0 passes. Paths are remapped so that the ELF,
# and therefore the image id, does not depend on where the repository or cargo's home is.
#
#   apt-get install rustc-web cargo-web rust-web-src rust-web-llvm lld-22   # Debian 12 (bookworm-security)
#
# (rust-web-llvm gives rust-lld, the zkVM target's linker, as a link to lld-22.)
#
# Overrides: BLOCKPROVER_GUEST_CARGO, BLOCKPROVER_GUEST_RUSTC (default /usr/bin/cargo and
# /usr/bin/rustc, Debian's), BLOCKPROVER_GUEST_TARGET_DIR, BLOCKPROVER_GUEST_FEATURES.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/target/riscv-guest/bp-guest-risc0.elf}"
GUEST_CARGO="${BLOCKPROVER_GUEST_CARGO:-/usr/bin/cargo}"
GUEST_RUSTC="${BLOCKPROVER_GUEST_RUSTC:-/usr/bin/rustc}"
TARGET_DIR="${BLOCKPROVER_GUEST_TARGET_DIR:-$ROOT/target/riscv-guest}"
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
TARGET=riscv32im-risc0-zkvm-elf

for tool in "$GUEST_CARGO" "$GUEST_RUSTC" "$(dirname "$GUEST_RUSTC")/rust-lld"; do
    if [ ! -x "$tool" ]; then
        echo "error: $tool not found; install Debian's rustc-web cargo-web rust-web-src rust-web-llvm lld-22" >&2
        exit 1
    fi
done
SYSROOT="$("$GUEST_RUSTC" --print sysroot)"
if [ ! -d "$SYSROOT/lib/rustlib/src/rust/library" ]; then
    echo "error: no standard library source under $SYSROOT/lib/rustlib/src; install rust-web-src" >&2
    exit 1
fi

FLAGS=(
    -C passes=lower-atomic                 # single-threaded guest: plain loads/stores for atomics
    -C link-arg=-Ttext=0x00200800          # risc0-zkvm-platform's TEXT_START
    -C link-arg=--fatal-warnings
    -C panic=abort
    --cfg 'getrandom_backend="custom"'
    --remap-path-prefix="$ROOT=/blockprover"
    --remap-path-prefix="$CARGO_HOME_DIR=/cargo"
)
ENCODED_FLAGS="$(printf '%s\x1f' "${FLAGS[@]}")"
ENCODED_FLAGS="${ENCODED_FLAGS%$'\x1f'}"
FEATURES=()
if [ -n "${BLOCKPROVER_GUEST_FEATURES+set}" ]; then
    FEATURES=(--no-default-features --features "$BLOCKPROVER_GUEST_FEATURES")
fi

# A clean environment for the inner cargo: nothing of an outer cargo (build.rs) leaks in.
env -i PATH="$PATH" HOME="$HOME" CARGO_HOME="$CARGO_HOME_DIR" \
    RUSTC="$GUEST_RUSTC" RUSTC_BOOTSTRAP=1 CARGO_ENCODED_RUSTFLAGS="$ENCODED_FLAGS" \
    CC=/no-c-compiler-for-the-zkvm-guest RISC0_FEATURE_bigint2= \
    "$GUEST_CARGO" build --release --locked \
    --manifest-path "$ROOT/guests/risc0/Cargo.toml" \
    --target "$TARGET" --target-dir "$TARGET_DIR" "${FEATURES[@]}" \
    -Zbuild-std=alloc,core,proc_macro,panic_abort,std -Zbuild-std-features=compiler-builtins-mem

mkdir -p "$(dirname "$OUT")"
cp "$TARGET_DIR/$TARGET/release/bp-guest-risc0" "$OUT"
echo "guest ELF: $OUT ($(stat -c %s "$OUT") bytes)"
