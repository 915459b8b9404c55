//! The guest's crypto providers: revm's precompiles and alloy's transaction sender recovery
//! call these instead of their software defaults, so secp256k1 (senders and the ecrecover
//! precompile) runs on the bigint2 accelerator and SHA-256 on the SHA accelerator. Both
//! accelerators are part of the rv32im circuit: results are proved, not trusted.
//!
//! Everything else (BN254, BLS12-381, KZG, modexp, blake2, P-256) keeps revm's pure-Rust code.

use std::sync::Arc;

use alloy_consensus::crypto::backend::{install_default_provider, CryptoProvider};
use alloy_consensus::crypto::RecoveryError;
use alloy_primitives::{keccak256, Address};
use revm::precompile::{install_crypto, Crypto, PrecompileHalt};
use risc0_zkvm::sha::{Impl as Sha, Sha256};

use crate::secp256k1;

/// Installs both providers; called once, before the program runs.
pub fn install() {
    let revm_installed = install_crypto(Accelerated);
    let alloy_installed = install_default_provider(Arc::new(Accelerated)).is_ok();
    assert!(revm_installed && alloy_installed, "crypto providers are installed once, first");
}

#[derive(Debug)]
struct Accelerated;

/// keccak256 of the uncompressed key: the address in its last 20 bytes.
fn key_hash(key: &[u8; 64]) -> [u8; 32] {
    keccak256(key).0
}

impl Crypto for Accelerated {
    fn sha256(&self, input: &[u8]) -> [u8; 32] {
        let digest = Sha::hash_bytes(input);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_bytes());
        out
    }

    fn secp256k1_ecrecover(&self, sig: &[u8; 64], recid: u8, msg: &[u8; 32]) -> Result<[u8; 32], PrecompileHalt> {
        let key = secp256k1::recover(sig, recid, msg).ok_or(PrecompileHalt::Secp256k1RecoverFailed)?;
        let mut hash = key_hash(&key);
        hash[..12].fill(0);
        Ok(hash)
    }
}

impl CryptoProvider for Accelerated {
    fn recover_signer_unchecked(&self, sig: &[u8; 65], msg: &[u8; 32]) -> Result<Address, RecoveryError> {
        let signature: &[u8; 64] = sig[..64].try_into().map_err(|_| RecoveryError::new())?;
        let key = secp256k1::recover(signature, sig[64], msg).ok_or_else(RecoveryError::new)?;
        Ok(Address::from_slice(&key_hash(&key)[12..]))
    }

    fn verify_and_compute_signer_unchecked(
        &self,
        pubkey: &[u8; 65],
        sig: &[u8; 64],
        msg: &[u8; 32],
    ) -> Result<Address, RecoveryError> {
        // Only the uncompressed SEC 1 form fits 65 bytes.
        let key: &[u8; 64] = pubkey[1..].try_into().map_err(|_| RecoveryError::new())?;
        if pubkey[0] != 0x04 || !secp256k1::verify(key, sig, msg) {
            return Err(RecoveryError::new());
        }
        Ok(Address::from_slice(&key_hash(key)[12..]))
    }
}
