//! With the `risc0` feature: builds the RISC Zero guest (scripts/build-guest-risc0.sh) into
//! OUT_DIR for `include_bytes!`, or takes a prebuilt ELF from BLOCKPROVER_RISC0_GUEST_ELF.

use std::{
    env,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    println!("cargo:rerun-if-env-changed=BLOCKPROVER_RISC0_GUEST_ELF");
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    if env::var_os("CARGO_FEATURE_RISC0").is_none() {
        return;
    }
    // risc0-circuit-recursion skips its artifact download under DOCS_RS (the offline build):
    // then only composite receipts can be made, and the keccak accelerator cannot be proved.
    let recursion = env::var_os("DOCS_RS").is_none();
    println!("cargo:rustc-env=BP_RISC0_RECURSION={}", u8::from(recursion));

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let elf = out_dir.join("bp-guest-risc0.elf");
    if let Some(prebuilt) = env::var_os("BLOCKPROVER_RISC0_GUEST_ELF") {
        println!("cargo:rerun-if-changed={}", Path::new(&prebuilt).display());
        std::fs::copy(&prebuilt, &elf).expect("copying BLOCKPROVER_RISC0_GUEST_ELF");
        return;
    }

    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR")).join("../..");
    for input in [
        "scripts/build-guest-risc0.sh",
        "guests/risc0/src",
        "guests/risc0/Cargo.toml",
        "guests/risc0/Cargo.lock",
        "Cargo.toml",
        "crates/trie",
        "crates/input",
        "crates/program",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out: keep the guest's own target dir
    // beside the host's so it is reused between builds.
    let target_dir = out_dir.ancestors().nth(4).map(|t| t.join("riscv-guest")).unwrap_or_else(|| out_dir.join("guest"));
    let status = Command::new("bash")
        .arg(root.join("scripts/build-guest-risc0.sh"))
        .arg(&elf)
        .env("BLOCKPROVER_GUEST_TARGET_DIR", &target_dir)
        .status()
        .expect("running bash scripts/build-guest-risc0.sh");
    assert!(status.success(), "building the RISC Zero guest failed (scripts/build-guest-risc0.sh; see above)");
}
