//! The RISC Zero backend against the native program (`cargo test --features risc0`).
//!
//! - The guest in the executor gives the same public outputs and gas as `exec` on a spread of
//!   conformance tests (one per test directory of the Prague suite, as far as 24), on the real
//!   blocks of the fixtures and on an L2 devnet batch, and their cycles stay within 1 % of the
//!   committed baseline (`tests/cycles/risc0.json`).
//! - Sender recovery and `ecrecover` on the bigint2 accelerator agree with libsecp256k1 on every
//!   ecrecover test of the suites, SHA-256 on its accelerator with the native hash on every
//!   SHA-256 test of the legacy suite, modexp on bigint2 with the software on EEST Prague's
//!   modexp tests, and BN254 on bigint2 with arkworks on every BN254 test of the EEST Prague
//!   suite.
//! - A real proof of a small block (the first Cancun block without transactions) verifies; a
//!   tampered receipt, claimed outputs that are not the journal, and a proof under another image
//!   id are refused. A one-transfer block is proved by an `--ignored` test.
#![cfg(feature = "risc0")]

mod zkvm;

use bp_backend::{Backend, Risc0Backend};

fn backend() -> Risc0Backend {
    Risc0Backend::new().expect("guest")
}

#[test]
fn executor_matches_exec_on_conformance_tests() {
    zkvm::matches_exec_on_conformance_tests(&backend());
}

/// Sender recovery and `ecrecover` run on the bigint2 accelerator in the guest (bp-secp256k1
/// with guests/risc0/src/secp256k1.rs), on libsecp256k1 natively.
#[test]
fn executor_matches_exec_on_signature_edge_cases() {
    zkvm::matches_exec_on_signature_edge_cases(&backend());
}

/// SHA-256 runs on the SHA accelerator in the guest.
#[test]
fn executor_matches_exec_on_sha256_edge_cases() {
    zkvm::matches_exec_on_sha256_edge_cases(&backend());
}

/// modexp with moduli and bases of up to 256 bits runs on bigint2's product in the guest.
#[test]
fn executor_matches_exec_on_modexp_edge_cases() {
    zkvm::matches_exec_on_modexp_edge_cases(&backend());
}

/// BN254 add, multiplication and pairing run on the bigint2 accelerator in the guest (bp-bn254
/// with guests/risc0/src/bn254.rs), on arkworks natively.
#[test]
fn executor_matches_exec_on_bn254_edge_cases() {
    zkvm::matches_exec_on_bn254_edge_cases(&backend());
}

/// Every second EIP-8025 input of the zkEVM suite, as SSZ: the guest commits exec's 41-byte
/// result, valid and invalid payloads alike.
#[test]
fn executor_matches_exec_on_eip8025_inputs() {
    zkvm::matches_exec_on_stateless_inputs(&backend(), 2);
}

/// The real blocks of the fixtures and a four-block L2 devnet batch: same outputs as `exec`,
/// and cycles (total, paging, segments, per region) within 1 % of `tests/cycles/risc0.json`.
#[test]
fn executor_matches_exec_and_holds_the_cycle_baseline() {
    zkvm::holds_the_cycle_baseline(&backend(), "risc0.json");
}

/// Proves with the default options after counting what an offline build proves: the software
/// keccak-f (docs/zkvm.md).
fn prove_and_tamper(name: &str, input: &[u8]) {
    let proving_run = backend().with_keccak_accelerator(false).execute(input).expect("executes");
    let cycles = proving_run.cycles.expect("cycles");
    eprintln!(
        "{name}: {} gas, {} user cycles, {} total in {} segments (software keccak-f, as proved offline)",
        proving_run.gas_used,
        cycles.user,
        cycles.total,
        cycles.segments.unwrap_or_default()
    );
    zkvm::prove_and_tamper(&backend(), name, input);
}

/// A real proof in CI: the first Cancun block without transactions (zkvm::small_cancun_block),
/// about 0.76 M user cycles with the software keccak-f, one segment of 2^20, about 11 minutes on
/// two cores. (A Prague one also runs the EIP-2935/7002/7251 system calls: 1.5 M cycles, two
/// segments, 22 minutes.)
#[test]
fn proves_a_small_block_and_refuses_tampering() {
    let (name, input) = zkvm::small_cancun_block();
    prove_and_tamper(&name, &input);
}

/// A plain 21,000-gas transfer in a Cancun block, sender recovery on the bigint2 accelerator:
/// about 1.38 M user cycles with the software keccak-f, two segments of 2^20, twice the CI
/// proof's time. Run with `--ignored`.
#[test]
#[ignore = "22 minutes on two cores"]
fn proves_a_one_transfer_block() {
    let (name, input) = zkvm::one_transfer_cancun_block();
    prove_and_tamper(&name, &input);
}

/// A stand-in for blockprover-gpu in `dir`: a shell script with the given body.
fn fake_gpu_prover(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let path = dir.join(bp_backend::gpu::GPU_PROVER);
    bp_testkit::script(&path, body);
    path
}

/// GPU mode on a machine without a GPU: `auto` proves on the CPU and says why, `gpu` is
/// refused with the reason, whether the GPU prover is missing, finds no driver or no device.
#[test]
fn without_a_gpu_auto_proves_on_the_cpu_and_gpu_is_refused() {
    use bp_backend::{
        gpu::{Device, GpuError, GpuProver},
        BackendError,
    };
    let dir = tempfile::tempdir().unwrap();
    let prover = dir.path().join(bp_backend::gpu::GPU_PROVER);
    // (what is said, the GPU prover's script if there is one, the error `gpu` must give)
    type Case = (&'static str, Option<&'static str>, fn(&GpuError) -> bool);
    let cases: [Case; 3] = [
        ("no GPU prover", None, |e| matches!(e, GpuError::NotFound(_))),
        (
            "no NVIDIA driver on this machine",
            Some("echo 'error while loading shared libraries: libcuda.so.1: cannot open shared object file' >&2; exit 127"),
            |e| matches!(e, GpuError::NoDriver(_)),
        ),
        (
            "no GPU",
            Some(r#"echo '{"driver_version":13000,"archs":[90],"devices":[]}'"#),
            |e| matches!(e, GpuError::NoDevice),
        ),
    ];
    for (reason, script, expected) in cases {
        if let Some(body) = script {
            fake_gpu_prover(dir.path(), body);
        }
        let auto = backend().on_with(Device::Auto, || GpuProver::at(&prover)).expect("auto always places");
        let said = auto.placement().to_string();
        assert!(said.starts_with(&format!("proving on the CPU ({reason}")), "{said}");
        match backend().on_with(Device::Gpu, || GpuProver::at(&prover)) {
            Err(BackendError::Gpu(e)) => assert!(expected(&e), "{reason}: {e}"),
            other => panic!("{reason}: --device gpu gave {other:?}"),
        }
        let cpu = backend().on_with(Device::Cpu, || panic!("--device cpu looks for no GPU")).unwrap();
        assert_eq!(cpu.placement().to_string(), "proving on the CPU (--device cpu)");
    }
}

/// What a GPU prover hands back is checked as any proof before it is handed out: bytes that are
/// no proof, and a proof that is not of this program, are refused.
#[test]
fn a_gpu_provers_answer_is_checked_before_it_is_handed_out() {
    use bp_backend::{
        gpu::{Device, GpuProver},
        BackendError, ExecBackend, Progress, ProofFormat,
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, input) = zkvm::small_cancun_block();
    let answer = dir.path().join("answer");
    let prover = fake_gpu_prover(
        dir.path(),
        &format!(
            "case \"$1\" in devices) echo '{}';; prove) cat > /dev/null; cp '{}' \"$3\";; esac",
            bp_testkit::ONE_H200,
            answer.display()
        ),
    );
    let backend = backend().on_with(Device::Gpu, || GpuProver::at(&prover)).expect("one H200");
    let said = backend.placement().to_string();
    assert!(said.starts_with("proving on GPU 0 (NVIDIA H200, 140 GiB, sm_90) with "), "{said}");

    std::fs::write(&answer, b"not a proof").unwrap();
    let err = backend.prove_as(&input, ProofFormat::Composite, &Progress::default()).unwrap_err();
    assert!(matches!(err, BackendError::MalformedProof(_)), "{err}");
    std::fs::write(&answer, ExecBackend.prove(&input).unwrap().to_bytes()).unwrap();
    let err = backend.prove_as(&input, ProofFormat::Composite, &Progress::default()).unwrap_err();
    assert!(matches!(err, BackendError::WrongProgram { .. }), "{err}");
}
