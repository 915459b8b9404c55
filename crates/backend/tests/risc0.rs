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
