# Sourced by scripts/build-guest-*.sh: the toolchain zkVM guests are built with, and the cargo
# call they share. zkVMs' own toolchains (rzup, sp1up) cannot be downloaded here, so guests are
# built with Debian's rustc-web/cargo-web (1.96) and the standard library from rust-web-src,
# compiled for the zkVM target with -Zbuild-std (RUSTC_BOOTSTRAP=1 allows the nightly flags on a
# stable compiler):
#
#   apt-get install rustc-web cargo-web rust-web-src rust-web-llvm lld-22   # Debian 12 (bookworm-security)
#
# (rust-web-llvm gives rust-lld, the zkVM targets' linker, as a link to lld-22.)
#
# Overrides: BLOCKPROVER_GUEST_CARGO, BLOCKPROVER_GUEST_RUSTC (default /usr/bin/cargo and
# /usr/bin/rustc, Debian's), BLOCKPROVER_GUEST_TARGET_DIR.

# Physical paths (symlinks resolved), so that the test command's build and bp-backend's build
# script, which reach the same target dir by different paths, pass the same flags and share it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
GUEST_CARGO="${BLOCKPROVER_GUEST_CARGO:-/usr/bin/cargo}"
GUEST_RUSTC="${BLOCKPROVER_GUEST_RUSTC:-/usr/bin/rustc}"
TARGET_DIR="$(realpath -m "${BLOCKPROVER_GUEST_TARGET_DIR:-$ROOT/target/riscv-guest}")"
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"

for tool in "$GUEST_CARGO" "$GUEST_RUSTC" "$(dirname "$GUEST_RUSTC")/rust-lld"; do
    if [ ! -x "$tool" ]; then
        echo "error: $tool not found; install Debian's rustc-web cargo-web rust-web-src rust-web-llvm lld-22" >&2
        exit 1
    fi
done
if [ ! -d "$("$GUEST_RUSTC" --print sysroot)/lib/rustlib/src/rust/library" ]; then
    echo "error: no standard library source for $GUEST_RUSTC; install rust-web-src" >&2
    exit 1
fi

# guest_cargo_build MANIFEST TARGET [ENV=VALUE...] -- FLAG... [-- CARGO_ARG...]: a release build
# of the guest at MANIFEST for TARGET (a built-in name or a target spec path) with the rustc
# FLAGs, in a clean environment (nothing of an outer cargo, such as a build.rs's, leaks in) and
# with no C compiler. Source paths are remapped so that the ELF, and therefore the program's id
# and its cycle counts, do not depend on where the repository, the target dir (build scripts'
# generated sources) or cargo's home is. The target dir's remapping comes last: rustc applies
# the last one that matches, and the target dir may lie inside the repository.
guest_cargo_build() {
    local manifest="$1" target="$2"
    shift 2
    local vars=() flags=()
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    while [ "$#" -gt 0 ] && [ "$1" != -- ]; do flags+=("$1"); shift; done
    [ "$#" -gt 0 ] && shift
    flags+=(--remap-path-prefix="$ROOT=/blockprover" --remap-path-prefix="$CARGO_HOME_DIR=/cargo"
        --remap-path-prefix="$TARGET_DIR=/target")
    # The guest's path dependencies only through its `repo` link (guests/risc0/Cargo.toml):
    # cargo hashes any other by its absolute path, and the image would depend on where the
    # repository is. (Their own path dependencies are relative, so they stay below the link.)
    local outside
    outside="$(grep -nE '^[^#]*\bpath *= *"' "$manifest" | grep -vE '\bpath *= *"repo/' || true)"
    if [ -n "$outside" ]; then
        echo "error: $manifest has path dependencies not reached through $(dirname "$manifest")/repo:" >&2
        echo "$outside" >&2
        return 1
    fi
    local encoded
    encoded="$(printf '%s\x1f' "${flags[@]}")"
    env -i PATH="$PATH" HOME="$HOME" CARGO_HOME="$CARGO_HOME_DIR" \
        RUSTC="$GUEST_RUSTC" RUSTC_BOOTSTRAP=1 CARGO_ENCODED_RUSTFLAGS="${encoded%$'\x1f'}" \
        CC=/no-c-compiler-for-the-zkvm-guest "${vars[@]}" \
        "$GUEST_CARGO" build --release --locked --manifest-path "$manifest" \
        --target "$target" --target-dir "$TARGET_DIR" \
        -Zbuild-std=alloc,core,proc_macro,panic_abort,std -Zbuild-std-features=compiler-builtins-mem "$@"
}

# copy_guest_elf BUILT OUT: puts the built ELF where the caller asked for it.
copy_guest_elf() {
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    echo "guest ELF: $2 ($(stat -c %s "$2") bytes)"
}
