//! The crypto providers a zkVM guest installs: revm's precompiles and alloy's transaction
//! sender recovery call these instead of their software defaults, so secp256k1 (senders and
//! the ecrecover precompile), BN254 (the add, multiplication and pairing precompiles), SHA-256
//! and modexp with a modulus and base of up to 256 bits run on the guest's accelerators
//! ([`Accelerators`]).
//!
//! Everything else (longer modexp, BLS12-381, KZG, blake2, P-256) keeps revm's pure-Rust code.

use alloc::{sync::Arc, vec::Vec};
use core::{fmt, marker::PhantomData};

use alloy_consensus::crypto::backend::{install_default_provider, CryptoProvider};
use alloy_consensus::crypto::RecoveryError;
use alloy_primitives::{keccak256, Address, U256};
use revm::precompile::{install_crypto, Crypto, PrecompileHalt};

/// What a guest's accelerators compute.
pub trait Accelerators: 'static {
    /// secp256k1's field, scalar and curve arithmetic.
    type Secp256k1: bp_secp256k1::Backend;
    /// BN254's base field arithmetic.
    type Bn254: bp_bn254::Backend;
    /// SHA-256.
    fn sha256(input: &[u8]) -> [u8; 32];
    /// a · b mod m, below m, for a modulus m above 1 and a, b below it.
    fn mul_mod(a: &Words, b: &Words, m: &Words) -> Words;
}

/// A 256-bit number as the accelerators take it (bp-secp256k1's: `u32` words, least first).
pub use bp_secp256k1::Words;

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

    fn modexp(&self, base: &[u8], exp: &[u8], modulus: &[u8]) -> Result<Vec<u8>, PrecompileHalt> {
        Ok(modexp_256(base, exp, modulus, A::mul_mod)
            .unwrap_or_else(|| aurora_engine_modexp::modexp(base, exp, modulus)))
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

/// base^exp mod m by squaring and multiplying on `mul` (two products an exponent bit at most),
/// when the base and the modulus fit 256 bits (leading zero bytes aside); `None` otherwise,
/// for revm's software modexp. The result is `modulus.len()` bytes, or none for a zero modulus:
/// what the software gives once the precompile pads it to the modulus' length.
fn modexp_256(
    base: &[u8],
    exp: &[u8],
    modulus: &[u8],
    mul: impl Fn(&Words, &Words, &Words) -> Words,
) -> Option<Vec<u8>> {
    let m = number(modulus)?;
    let base = number(base)?;
    if m.is_zero() {
        return Some(Vec::new());
    }
    let mut result = U256::ZERO;
    if m > U256::from(1) {
        let (m, base) = (words(m), words(base.reduce_mod(m)));
        let mut power = words(U256::from(1));
        let first_one = exp.iter().position(|b| *b != 0).unwrap_or(exp.len());
        let mut started = false;
        for byte in &exp[first_one..] {
            for bit in (0..8).rev() {
                if started {
                    power = mul(&power, &power, &m);
                }
                if byte >> bit & 1 == 1 {
                    power = mul(&power, &base, &m);
                    started = true;
                }
            }
        }
        result = from_words(&power);
    }
    let bytes = result.to_be_bytes::<32>();
    let mut out = alloc::vec![0u8; modulus.len()];
    let kept = modulus.len().min(32);
    out[modulus.len() - kept..].copy_from_slice(&bytes[32 - kept..]);
    Some(out)
}

/// A big-endian number of up to 256 significant bits.
fn number(bytes: &[u8]) -> Option<U256> {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    U256::try_from_be_slice(&bytes[first..])
}

fn words(value: U256) -> Words {
    let limbs = value.as_limbs();
    core::array::from_fn(|i| (limbs[i / 2] >> (32 * (i % 2))) as u32)
}

fn from_words(words: &Words) -> U256 {
    U256::from_limbs(core::array::from_fn(|i| u64::from(words[2 * i]) | u64::from(words[2 * i + 1]) << 32))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn software(a: &Words, b: &Words, m: &Words) -> Words {
        let (a, b, m) = (from_words(a), from_words(b), from_words(m));
        assert!(a < m && b < m && m > U256::from(1), "the accelerators' precondition");
        words(a.mul_mod(b, m))
    }

    /// What the precompile returns: the output left-padded to the modulus' length.
    fn padded(output: Vec<u8>, len: usize) -> Vec<u8> {
        let mut out = alloc::vec![0u8; len.saturating_sub(output.len())];
        out.extend(output);
        out
    }

    fn check(base: &[u8], exp: &[u8], modulus: &[u8]) {
        let expected = padded(aurora_engine_modexp::modexp(base, exp, modulus), modulus.len());
        match modexp_256(base, exp, modulus, software) {
            Some(got) => {
                assert_eq!(padded(got, modulus.len()), expected, "{base:02x?} ^ {exp:02x?} mod {modulus:02x?}")
            }
            None => assert!(
                modulus.iter().skip_while(|b| **b == 0).count() > 32
                    || base.iter().skip_while(|b| **b == 0).count() > 32
            ),
        }
    }

    #[test]
    fn modexp_matches_the_software() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut bytes = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect()
        };
        for len in [0usize, 1, 2, 8, 31, 32, 33, 40, 64] {
            for exp_len in [0usize, 1, 3, 32, 64] {
                let (base, exp, modulus) = (bytes(len), bytes(exp_len), bytes(len.max(1)));
                check(&base, &exp, &modulus);
            }
        }
        let p = [0xffu8; 32];
        let cases: [(&[u8], &[u8], &[u8]); 12] = [
            (&[], &[], &[]),
            (&[5], &[3], &[0]),
            (&[5], &[3], &[0, 0, 0]),
            (&[5], &[3], &[1]),
            (&[0], &[0], &[7]),
            (&[], &[], &[7]),
            (&[3], &[0, 0, 0, 0], &[0, 0, 7]),
            (&[2], &[1, 0], &[0x80]),
            (&p, &p, &p),
            (&[2], &[0xff; 40], &[0x10]),
            (
                &[0, 0, 0, 0, 9],
                &[2],
                &[
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 11,
                ],
            ),
            (&[1; 33], &[2], &[5]),
        ];
        for (base, exp, modulus) in cases {
            check(base, exp, modulus);
        }
        assert_eq!(modexp_256(&[1; 33], &[2], &[5], software), None, "a base past 256 bits is the software's");
        assert_eq!(modexp_256(&[2], &[2], &[1; 33], software), None, "so is a modulus past 256 bits");
    }
}
