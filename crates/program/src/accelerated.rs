//! The crypto providers a zkVM guest installs: revm's precompiles and alloy's transaction
//! sender recovery call these instead of their software defaults, so secp256k1 (senders,
//! EIP-7702 authorities and the ecrecover precompile), BN254 (the add, multiplication and
//! pairing precompiles) and SHA-256 run on the guest's accelerators ([`Accelerators`]).
//!
//! Everything else (BLS12-381, KZG, modexp, blake2, P-256) keeps revm's pure-Rust code.

use alloc::{sync::Arc, vec::Vec};
use core::{fmt, marker::PhantomData};

use alloy_consensus::crypto::backend::{install_default_provider, CryptoProvider};
use alloy_consensus::crypto::RecoveryError;
use alloy_primitives::{keccak256, Address};
use revm::precompile::{install_crypto, Crypto, PrecompileHalt};

/// What a guest's accelerators compute.
pub trait Accelerators: 'static {
    /// secp256k1's field, scalar and curve arithmetic.
    type Secp256k1: bp_secp256k1::Backend;
    /// BN254's base field arithmetic.
    type Bn254: bp_bn254::Backend;
    /// SHA-256.
    fn sha256(input: &[u8]) -> [u8; 32];
}

/// Installs both providers on `A`; called once, before the program runs.
///
/// # Panics
/// When a provider was installed before: a guest that ran with another one would not be the
/// program its image id names.
pub fn install<A: Accelerators>() {
    let revm_installed = install_crypto(Provider::<A>(PhantomData));
    let alloy_installed = install_default_provider(Arc::new(Provider::<A>(PhantomData))).is_ok();
    assert!(revm_installed && alloy_installed, "crypto providers are installed once, first");
}

struct Provider<A>(PhantomData<fn() -> A>);

impl<A> fmt::Debug for Provider<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Provider")
    }
}

/// keccak256 of the uncompressed key: the address in its last 20 bytes.
fn key_hash(key: &[u8; 64]) -> [u8; 32] {
    keccak256(key).0
}

impl<A: Accelerators> Crypto for Provider<A> {
    fn sha256(&self, input: &[u8]) -> [u8; 32] {
        A::sha256(input)
    }

    fn secp256k1_ecrecover(&self, sig: &[u8; 64], recid: u8, msg: &[u8; 32]) -> Result<[u8; 32], PrecompileHalt> {
        let key =
            bp_secp256k1::recover::<A::Secp256k1>(sig, recid, msg).ok_or(PrecompileHalt::Secp256k1RecoverFailed)?;
        let mut hash = key_hash(&key);
        hash[..12].fill(0);
        Ok(hash)
    }

    fn bn254_g1_add(&self, p1: &[u8], p2: &[u8]) -> Result<[u8; 64], PrecompileHalt> {
        bp_bn254::g1_add::<A::Bn254>(fixed(p1)?, fixed(p2)?).map_err(bn254_halt)
    }

    fn bn254_g1_mul(&self, point: &[u8], scalar: &[u8]) -> Result<[u8; 64], PrecompileHalt> {
        bp_bn254::g1_mul::<A::Bn254>(fixed(point)?, fixed(scalar)?).map_err(bn254_halt)
    }

    fn bn254_pairing_check(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool, PrecompileHalt> {
        let pairs = pairs.iter().map(|(g1, g2)| Ok((fixed(g1)?, fixed(g2)?))).collect::<Result<Vec<_>, _>>()?;
        bp_bn254::pairing_check::<A::Bn254>(&pairs).map_err(bn254_halt)
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

impl<A: Accelerators> CryptoProvider for Provider<A> {
    fn recover_signer_unchecked(&self, sig: &[u8; 65], msg: &[u8; 32]) -> Result<Address, RecoveryError> {
        let signature: &[u8; 64] = sig[..64].try_into().map_err(|_| RecoveryError::new())?;
        let key = bp_secp256k1::recover::<A::Secp256k1>(signature, sig[64], msg).ok_or_else(RecoveryError::new)?;
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
        if pubkey[0] != 0x04 || !bp_secp256k1::verify::<A::Secp256k1>(key, sig, msg) {
            return Err(RecoveryError::new());
        }
        Ok(Address::from_slice(&key_hash(key)[12..]))
    }
}
