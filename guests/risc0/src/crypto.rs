//! The guest's crypto providers: revm's precompiles and alloy's transaction sender recovery
//! call these instead of their software defaults, so secp256k1 (senders and the ecrecover
//! precompile) and BN254 (the add, multiplication and pairing precompiles) run on the bigint2
//! accelerator and SHA-256 on the SHA accelerator. Both accelerators are part of the rv32im
//! circuit: results are proved, not trusted.
//!
//! Everything else (BLS12-381, KZG, modexp, blake2, P-256) keeps revm's pure-Rust code.

use std::sync::Arc;

use alloy_consensus::crypto::backend::{install_default_provider, CryptoProvider};
use alloy_consensus::crypto::RecoveryError;
use alloy_primitives::{keccak256, Address};
use revm::precompile::{install_crypto, Crypto, PrecompileHalt};
use risc0_zkvm::sha::{Impl as Sha, Sha256};

use crate::bn254::Bigint2;
use crate::secp256k1;

/// Installs both providers; called once, before the program runs.
pub(crate) fn install() {
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

    fn bn254_g1_add(&self, p1: &[u8], p2: &[u8]) -> Result<[u8; 64], PrecompileHalt> {
        bp_bn254::g1_add::<Bigint2>(fixed(p1)?, fixed(p2)?).map_err(bn254_halt)
    }

    fn bn254_g1_mul(&self, point: &[u8], scalar: &[u8]) -> Result<[u8; 64], PrecompileHalt> {
        bp_bn254::g1_mul::<Bigint2>(fixed(point)?, fixed(scalar)?).map_err(bn254_halt)
    }

    fn bn254_pairing_check(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool, PrecompileHalt> {
        let pairs = pairs.iter().map(|(g1, g2)| Ok((fixed(g1)?, fixed(g2)?))).collect::<Result<Vec<_>, _>>()?;
        bp_bn254::pairing_check::<Bigint2>(&pairs).map_err(bn254_halt)
    }
}

/// revm hands the BN254 precompiles fixed-size slices (64-byte points and 32-byte scalars from
/// padded input, 64 + 128-byte pairs); any other length is a malformed call.
fn fixed<const N: usize>(bytes: &[u8]) -> Result<&[u8; N], PrecompileHalt> {
    bytes.try_into().map_err(|_| PrecompileHalt::Bn254PairLength)
}

/// revm's halt for each rejection (a point outside G2's subgroup fails to be created there).
fn bn254_halt(error: bp_bn254::Error) -> PrecompileHalt {
    match error {
        bp_bn254::Error::NotAFieldElement => PrecompileHalt::Bn254FieldPointNotAMember,
        bp_bn254::Error::NotOnCurve | bp_bn254::Error::NotInSubgroup => PrecompileHalt::Bn254AffineGFailedToCreate,
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
