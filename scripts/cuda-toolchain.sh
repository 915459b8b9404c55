#!/usr/bin/env bash
# NVIDIA's CUDA compiler, headers and runtime from PyPI, for building RISC Zero's CUDA prover
# (the `cuda` feature). Source it: `source scripts/cuda-toolchain.sh [PREFIX]`.
#
# Only the package registries can be reached, so the toolkit comes as NVIDIA's wheels, installed
# with pip into PREFIX (default ~/.cache/blockprover/cuda). CUDA 13.0: the CUDA 12 wheels
# (nvidia-cuda-nvcc-cu12, every 12.x release) hold ptxas and libnvvm but no nvcc driver, cudafe++,
# fatbinary or nvlink; the CUDA 13 wheels hold the whole compiler. 13.0 is the oldest of them and
# needs the lowest driver (r580). Everything is needed at build time only: the CUDA runtime is
# linked statically, so the GPU machine needs only NVIDIA's driver (libcuda.so.1).
#
# Besides the wheels, PREFIX gets a link-time stub of the driver library (lib/stubs/libcuda.so,
# what the full toolkit ships and the wheels do not): the CUDA prover calls the driver API, and
# its binary is linked against the stub here and loads the real driver where it runs.
#
# Exports CUDA_PATH (and CUDA_ROOT, which RISC Zero's cust finds the toolkit by), PATH with nvcc,
# NVCC_APPEND_FLAGS (the GPU architectures: RISC Zero's kernels would otherwise be built with
# -arch=native, which needs a GPU on the build machine) and BLOCKPROVER_CUDA_ARCHS.

_bp_cuda_main() {
    local prefix="${1:-${BLOCKPROVER_CUDA_PREFIX:-$HOME/.cache/blockprover/cuda}}"
    local version=13.0.88
    local wheels=(
        "nvidia-cuda-nvcc==$version" "nvidia-cuda-crt==$version" "nvidia-nvvm==$version"
        "nvidia-cuda-runtime==$version" "nvidia-cuda-cccl==13.0.85"
    )
    local root="$prefix/nvidia/cu13"
    if ! "$root/bin/nvcc" --version 2>/dev/null | grep -q "release 13.0" || [ ! -e "$root/lib/stubs/libcuda.so.1" ]; then
        echo "cuda-toolchain: installing CUDA $version from PyPI into $prefix" >&2
        python3 -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
            --target "$prefix" "${wheels[@]}" || return 1
        # The toolkit's usual layout, which the cc crate and nvcc's own profile look for.
        ln -sfn lib "$root/lib64"
        ln -sfn libcudart.so.13 "$root/lib/libcudart.so"
        ln -sfn libnvvm.so.4 "$root/lib/libnvvm.so"
        _bp_cuda_stub "$root" || return 1
    fi
    export CUDA_PATH="$root" CUDA_ROOT="$root" CUDA_TOOLKIT_ROOT_DIR="$root"
    export CUDA_LIBRARY_PATH="$root/lib:$root/lib/stubs"
    export PATH="$root/bin:$PATH"
    # Ada (sm_89: L4, RTX 40), Hopper (sm_90: H100, H200), Blackwell (sm_100: B200; sm_120:
    # RTX 50) as machine code, and Blackwell's PTX so that a newer GPU can compile it at load.
    export BLOCKPROVER_CUDA_ARCHS="${BLOCKPROVER_CUDA_ARCHS:-89 90 100 120}"
    local flags="" arch last=""
    for arch in $BLOCKPROVER_CUDA_ARCHS; do
        flags+=" -gencode=arch=compute_$arch,code=sm_$arch"
        last="$arch"
    done
    export NVCC_APPEND_FLAGS="${flags# } -gencode=arch=compute_$last,code=compute_$last"
    echo "cuda-toolchain: $("$root/bin/nvcc" --version | tail -2 | head -1), for sm_${BLOCKPROVER_CUDA_ARCHS// /, sm_}" >&2
}

# A shared library named libcuda.so.1 that exports every driver function the CUDA headers
# declare, each a stub: enough for the linker, never loaded (the driver's own library is found
# by its soname at run time).
_bp_cuda_stub() {
    local root="$1" src
    mkdir -p "$root/lib/stubs"
    src="$(mktemp --suffix .c)"
    grep -ohE '\bCUresult CUDAAPI cu[A-Za-z0-9_]+\(' "$root/include/cuda.h" \
        | sed -E 's/.* (cu[A-Za-z0-9_]+)\(/\1/' | sort -u \
        | awk '{ print "int " $1 "(void) { return 100; }" }' > "$src"
    # Versioned entry points (cuMemAlloc_v2 and the like) are what the headers' macros name.
    grep -ohE '#define cu[A-Za-z0-9_]+ +cu[A-Za-z0-9_]+' "$root/include/cuda.h" \
        | awk '{ print $3 }' | sort -u | awk '{ print "int " $1 "(void) { return 100; }" }' >> "$src"
    sort -u "$src" -o "$src"
    cc -shared -fPIC -w -Wl,-soname,libcuda.so.1 -o "$root/lib/stubs/libcuda.so" "$src" || return 1
    # Under its soname too: with this directory on LD_LIBRARY_PATH, a machine without a driver
    # runs the CUDA prover against a "driver" that sees no device (scripts/gpu-check.sh).
    ln -sfn libcuda.so "$root/lib/stubs/libcuda.so.1"
    rm -f "$src"
}

_bp_cuda_main "$@"
