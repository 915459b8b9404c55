//! The SP1 backend against the native program (`cargo test --features sp1`).
//!
//! - The guest in SP1's executor gives the same public outputs and gas as `exec` on a spread of
//!   conformance tests (one per test directory of the Prague suite, as far as 24), on every
//!   ecrecover test of the suites, on a real Hoodi block and on an L2 devnet batch.
//! - A real core proof of a small block (the first Cancun block without transactions) verifies;
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

/// Sender recovery and `ecrecover` run on k256 in the guest, on libsecp256k1 natively.
#[test]
fn executor_matches_exec_on_signature_edge_cases() {
    zkvm::matches_exec_on_signature_edge_cases(&backend());
}

#[test]
fn executor_matches_exec_on_a_real_block() {
    zkvm::matches_exec_on_a_real_block(&backend());
}

#[test]
fn executor_matches_exec_on_an_l2_batch() {
    zkvm::matches_exec_on_an_l2_batch(&backend());
}

#[test]
fn proves_a_small_block_and_refuses_tampering() {
    let (name, input) = zkvm::small_cancun_block();
    zkvm::prove_and_tamper(&backend(), &name, &input);
}
