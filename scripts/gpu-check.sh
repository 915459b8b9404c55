#!/usr/bin/env bash
# GPU mode, measured: on a machine with an NVIDIA GPU, from prebuilt binaries, proves two real
# mainnet blocks of the shared fixtures with RISC Zero (composite), verifies both proofs, and
# prints per block: gas, cycles, segments, proving seconds, seconds per Mgas, peak GPU memory and
# peak host memory. It only reads the GPU's state (nvidia-smi queries), never changes a setting.
# On a machine without a GPU it checks what can be checked there (the binaries' versions and
# sizes, `--device gpu` refused with the reason, `auto` falling back to the CPU and saying so)
# and measures nothing.
#
#   scripts/gpu-check.sh [BIN_DIR]     # BIN_DIR holds blockprover (--features risc0) and
#                                      # blockprover-gpu (--features cuda); default target/release
#
# The blocks are chosen to finish well inside 10 minutes on one H100/H200-class GPU: mainnet
# 20612842 (1.3 Mgas, about 21 M cycles) and 21230867 (3.6 Mgas, about 64 M cycles), each about
# a minute of proving at one to two million cycles a second, plus their execution and checks.
# Memory is sampled every half second (nvidia-smi's memory.used of the GPU proved on; the
# resident memory of the two processes).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release}"
FIXTURES="${BLOCKPROVER_FIXTURES:-../shared/fixtures}"
BLOCKS=(
    "mainnet 20612842:$FIXTURES/real-blocks/mainnet-raiko-guest-input/ethereum-20612842.json.zst"
    "mainnet 21230867:$FIXTURES/real-blocks/mainnet-zeth-rpc-cache/1-21230867.json.gz"
)

for tool in "$BIN/blockprover" "$BIN/blockprover-gpu"; do
    [ -x "$tool" ] || { echo "gpu-check: $tool is missing (build both: README, GPU mode)" >&2; exit 1; }
done
command -v python3 >/dev/null || { echo "gpu-check: python3 is needed to read the JSON results" >&2; exit 1; }
export BLOCKPROVER_GPU_PROVER="$BIN/blockprover-gpu"
fail() { echo "gpu-check: $*" >&2; exit 1; }

# What both machines can check: the CLI names the CUDA prover beside it; what the stripped
# binaries weigh (a GPU machine may get them as copied files of at most 64 MiB together; the
# risc0 CLI alone, built without LTO as the test command builds it, strips to 58 MB).
version="$("$BIN/blockprover" --version)"
echo "$version"
[[ "$version" == *"on NVIDIA GPUs with the CUDA prover"* ]] || fail "blockprover --version names no CUDA prover"
total=0
stripped="$(mktemp)"
for tool in blockprover blockprover-gpu; do
    strip -o "$stripped" "$BIN/$tool"
    bytes="$(stat -c %s "$stripped")"
    total=$((total + bytes))
    echo "$tool: $(stat -c %s "$BIN/$tool") bytes, $bytes stripped"
done
rm -f "$stripped"
if [ "$total" -gt $((64 << 20)) ]; then
    # Not an error where the binaries were built: the test command builds without LTO, and
    # `cargo build --release` (thin LTO) makes the CLI smaller. What is copied must fit.
    echo "gpu-check: warning: the two stripped binaries weigh $total bytes together, over 64 MiB"
fi

# Whether blockprover's words for a machine without a GPU are right, for the reason in $1.
refused_and_falls_back() {
    local reason="$1" input="${BLOCKS[0]#*:}" out
    out="$(mktemp -d)"
    if "$BIN/blockprover" prove --backend risc0 --device gpu "$input" -o "$out/p" 2> "$out/err"; then
        fail "--device gpu proved on a machine without a GPU"
    fi
    grep -q "$reason" "$out/err" || fail "--device gpu was not refused for \"$reason\": $(cat "$out/err")"
    # `auto` says it proves on the CPU and why; a succinct proof, which an offline build cannot
    # make, ends the run there rather than minutes of CPU proving.
    "$BIN/blockprover" prove --backend risc0 --format succinct "$input" -o "$out/p" 2> "$out/err" || true
    grep -q "^proving on the CPU ($reason" "$out/err" || fail "auto did not fall back for \"$reason\": $(cat "$out/err")"
    rm -rf "$out"
    echo "gpu-check: $reason: --device gpu is refused and auto proves on the CPU"
}

if ! nvidia-smi -L >/dev/null 2>&1; then
    # No GPU. Without a driver the CUDA prover cannot start (it is linked to libcuda.so.1). With
    # the toolchain's link-time stub of the driver (every call answers "no device") it runs,
    # lists no device and is refused as a driver without a GPU would be.
    if "$BIN/blockprover-gpu" --version >/dev/null 2>&1; then
        refused_and_falls_back "no GPU: the NVIDIA driver sees no device"
    else
        refused_and_falls_back "no NVIDIA driver on this machine"
    fi
    stubs="${CUDA_PATH:-}/lib/stubs"
    if [ -n "${CUDA_PATH:-}" ] && [ -e "$stubs/libcuda.so.1" ]; then
        gpu_version="$(LD_LIBRARY_PATH="$stubs" "$BIN/blockprover-gpu" --version)"
        echo "$gpu_version"
        [[ "$gpu_version" == *"RISC Zero CUDA prover for sm_"* ]] || fail "blockprover-gpu --version names no architecture"
        LD_LIBRARY_PATH="$stubs" "$BIN/blockprover-gpu" devices
        LD_LIBRARY_PATH="$stubs" refused_and_falls_back "no GPU: the NVIDIA driver sees no device"
    fi
    echo "gpu-check: no GPU here; nothing measured"
    exit 0
fi

"$BIN/blockprover-gpu" --version
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader
"$BIN/blockprover-gpu" devices

WORK="$(mktemp -d)"
SAMPLER=""
trap '[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null; rm -rf "$WORK"' EXIT

# Writes the highest GPU memory (MiB) and host RSS (KiB, both processes together) seen to $1
# until killed.
sample_peaks() {
    local out="$1" gpu=0 host=0 now rss pid
    while true; do
        now="$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i "${GPU_INDEX:-0}" 2>/dev/null | head -1 | tr -dc 0-9)"
        [ -n "$now" ] && [ "$now" -gt "$gpu" ] && gpu="$now"
        rss=0
        for pid in $(pgrep -f "$BIN/blockprover" || true); do
            now="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
            rss=$((rss + ${now:-0}))
        done
        [ "$rss" -gt "$host" ] && host="$rss"
        echo "$gpu $host" > "$out"
        sleep 0.5
    done
}

RESULTS=()
for entry in "${BLOCKS[@]}"; do
    name="${entry%%:*}"
    input="${entry#*:}"
    [ -f "$input" ] || { echo "gpu-check: $input is missing (BLOCKPROVER_FIXTURES)" >&2; exit 1; }
    echo "== $name: executing (the cycles the proof covers: keccak-f in software, as an offline build proves)"
    "$BIN/blockprover" execute --backend risc0 --no-keccak-accelerator "$input" > "$WORK/execute.json"
    echo "== $name: proving on the GPU"
    echo "0 0" > "$WORK/peaks"
    sample_peaks "$WORK/peaks" &
    SAMPLER=$!
    # Bounded, so that the whole check stays inside its 10 minutes on a slower GPU than planned.
    timeout "${GPU_CHECK_PROVE_TIMEOUT:-240}" \
        "$BIN/blockprover" prove --backend risc0 --device gpu "$input" -o "$WORK/proof" > "$WORK/prove.json" \
        || fail "$name: proving failed or took over ${GPU_CHECK_PROVE_TIMEOUT:-240} s"
    kill "$SAMPLER" 2>/dev/null || true
    wait "$SAMPLER" 2>/dev/null || true
    SAMPLER=""
    read -r gpu_mib host_kib < "$WORK/peaks"
    echo "== $name: verifying"
    "$BIN/blockprover" verify "$WORK/proof" > "$WORK/verify.json"
    RESULTS+=("$(python3 - "$name" "$WORK" "$gpu_mib" "$host_kib" <<'EOF'
import json, sys
name, work, gpu_mib, host_kib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
execute = json.load(open(f"{work}/execute.json"))
prove = json.load(open(f"{work}/prove.json"))
verify = json.load(open(f"{work}/verify.json"))
assert verify["verified"] is True, "the proof did not verify"
# What the proof establishes is what executing the block gave, word for word.
for key, value in verify.items():
    if key not in ("verified", "backend", "program_id", "verify_ms"):
        assert execute.get(key) == value, f"{key}: proved {value}, executed {execute.get(key)}"
gas, cycles = execute["gas_used"], execute["cycles"]
seconds = prove["proving_s"]
print(f"{name}: {gas} gas, {cycles['user']} user / {cycles['total']} total cycles, {cycles['segments']} segments, "
      f"proved in {seconds:.1f} s ({seconds / (gas / 1e6):.2f} s/Mgas, {cycles['total'] / seconds / 1e6:.2f} M cycles/s), "
      f"verified in {verify['verify_ms']:.0f} ms, peak GPU memory {gpu_mib} MiB, peak host memory "
      f"{host_kib / 1024:.0f} MiB, proof {prove['proof_bytes']} bytes")
EOF
)")
done

echo "== GPU check"
printf '%s\n' "${RESULTS[@]}"
