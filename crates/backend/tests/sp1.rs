//! The SP1 backend against the native program (`cargo test --features sp1`).
//!
//! - The guest in SP1's executor gives the same public outputs and gas as `exec` on a spread of
//!   conformance tests (one per test directory of the Prague suite, as far as 24), on every
//!   ecrecover and SHA-256 test of the suites, on the modexp and BN254 tests of EEST Prague, on
//!   the real blocks of the fixtures and on an L2 devnet batch, and their cycles stay within 1 %
//!   of the committed baseline (`tests/cycles/sp1.json`).
//! - A real core proof of a one-transfer Cancun block (sender recovery on the precompiles) verifies;
//!   a tampered proof, claimed outputs that are not the proof's public values, and a proof under
//!   another verifying key are refused.
#![cfg(feature = "sp1")]

mod zkvm;

use bp_backend::Sp1Backend;

fn backend() -> Sp1Backend {
    Sp1Backend::new().expect("guest")
}

#[test]
fn executor_matches_exec_on_conformance_tests() {
    zkvm::matches_exec_on_conformance_tests(&backend());
}

/// Sender recovery and `ecrecover` run on SP1's secp256k1 and modular multiplication syscalls
/// (bp-secp256k1) in the guest, on libsecp256k1 natively.
#[test]
fn executor_matches_exec_on_signature_edge_cases() {
    zkvm::matches_exec_on_signature_edge_cases(&backend());
}

/// SHA-256 runs on SP1's SHA-256 syscalls in the guest.
#[test]
fn executor_matches_exec_on_sha256_edge_cases() {
    zkvm::matches_exec_on_sha256_edge_cases(&backend());
}

/// modexp with moduli and bases of up to 256 bits runs on SP1's modular multiplication.
#[test]
fn executor_matches_exec_on_modexp_edge_cases() {
    zkvm::matches_exec_on_modexp_edge_cases(&backend());
}

/// BN254 runs on SP1's BN254 field syscalls (bp-bn254) in the guest, arkworks natively.
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
/// and cycles (total, paging, segments, per region) within 1 % of `tests/cycles/sp1.json`.
#[test]
fn executor_matches_exec_and_holds_the_cycle_baseline() {
    zkvm::holds_the_cycle_baseline(&backend(), "sp1.json");
}

/// A plain transfer in a Cancun block: besides the system call and the trie updates, its
/// sender recovery runs the secp256k1 and modular multiplication precompiles and the inverse and
/// square root hooks in the prover, not only in the executor.
#[test]
fn proves_a_one_transfer_block_and_refuses_tampering() {
    let (name, input) = zkvm::one_transfer_cancun_block();
    zkvm::prove_and_tamper(&backend(), &name, &input);
}
