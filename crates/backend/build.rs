//! With the `risc0` or `sp1` feature: builds that zkVM's guest (scripts/build-guest-<zkvm>.sh)
//! into OUT_DIR for `include_bytes!`, or takes a prebuilt ELF from
//! BLOCKPROVER_<ZKVM>_GUEST_ELF.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    // risc0-circuit-recursion skips its artifact download under DOCS_RS (the offline build):
    // then only composite receipts can be made, and the keccak accelerator cannot be proved.
    let recursion = env::var_os("DOCS_RS").is_none();
    println!("cargo:rustc-env=BP_RISC0_RECURSION={}", u8::from(recursion));
    // The GPU architectures RISC Zero's CUDA kernels are built for (scripts/cuda-toolchain.sh
    // sets them, and NVCC_APPEND_FLAGS to match), for the GPU prover's device check.
    println!("cargo:rerun-if-env-changed=BLOCKPROVER_CUDA_ARCHS");
    println!("cargo:rustc-env=BP_CUDA_ARCHS={}", env::var("BLOCKPROVER_CUDA_ARCHS").unwrap_or_default());
    if env::var_os("CARGO_FEATURE_CUDA").is_some() {
        link_cuda_driver();
    }
    for zkvm in ["risc0", "sp1"] {
        let upper = zkvm.to_ascii_uppercase();
        println!("cargo:rerun-if-env-changed=BLOCKPROVER_{upper}_GUEST_ELF");
        if env::var_os(format!("CARGO_FEATURE_{upper}")).is_some() {
            build_guest(zkvm, &upper);
        }
    }
}

/// The CUDA prover calls the driver API (RISC Zero's kernels through `cust`), which links
/// `libcuda` only when DOCS_RS is unset (find_cuda_helper), and the offline build sets it. So it
/// is named here, found in the toolkit's stubs (scripts/cuda-toolchain.sh makes them): the
/// binary loads the real driver, `libcuda.so.1`, where it runs.
fn link_cuda_driver() {
    println!("cargo:rerun-if-env-changed=CUDA_PATH");
    let Some(cuda) = env::var_os("CUDA_PATH") else {
        panic!("the cuda feature needs CUDA_PATH: source scripts/cuda-toolchain.sh first");
    };
    let stubs = Path::new(&cuda).join("lib/stubs");
    assert!(stubs.join("libcuda.so").is_file(), "no driver stub at {} (scripts/cuda-toolchain.sh)", stubs.display());
    println!("cargo:rustc-link-search=native={}", stubs.display());
    println!("cargo:rustc-link-lib=dylib=cuda");
}

fn build_guest(zkvm: &str, upper: &str) {
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let elf = out_dir.join(format!("bp-guest-{zkvm}.elf"));
    if let Some(prebuilt) = env::var_os(format!("BLOCKPROVER_{upper}_GUEST_ELF")) {
        println!("cargo:rerun-if-changed={}", Path::new(&prebuilt).display());
        std::fs::copy(&prebuilt, &elf).unwrap_or_else(|e| panic!("copying BLOCKPROVER_{upper}_GUEST_ELF: {e}"));
        return;
    }

    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("../..");
    let script = format!("scripts/build-guest-{zkvm}.sh");
    let guest = root.join("guests").join(zkvm);
    // The guest's directory entry by entry: its `repo` link to the repository is not followed.
    for entry in std::fs::read_dir(&guest).unwrap_or_else(|e| panic!("reading {}: {e}", guest.display())) {
        let path = entry.unwrap_or_else(|e| panic!("reading {}: {e}", guest.display())).path();
        if path.file_name() != Some("repo".as_ref()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    for input in [
        script.as_str(),
        "scripts/guest-toolchain.sh",
        "Cargo.toml",
        "crates/trie",
        "crates/bn254",
        "crates/secp256k1",
        "crates/input",
        "crates/program",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out: keep the guest's own target dir
    // beside the host's so it is reused between builds.
    let target_dir = out_dir.ancestors().nth(4).map(|t| t.join("riscv-guest")).unwrap_or_else(|| out_dir.join("guest"));
    let status = Command::new("bash")
        .arg(root.join(&script))
        .arg(&elf)
        .env("BLOCKPROVER_GUEST_TARGET_DIR", &target_dir)
        .status()
        .unwrap_or_else(|e| panic!("running bash {script}: {e}"));
    assert!(status.success(), "building the {zkvm} guest failed ({script}; see above)");
}
