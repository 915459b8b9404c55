//! `verify_blob_kzg_proof` of the EIP-4844 polynomial-commitments spec in pure Rust, for zkVM
//! guests (c-kzg is C): the Fiat-Shamir challenge, the blob polynomial evaluated at it in
//! evaluation form, and revm's arkworks `verify_kzg_proof` for the pairing check. Verification
//! needs only `[τ]₂` of the trusted setup, which revm carries. Natively the result is compared
//! with c-kzg's (tests below).

use alloc::vec::Vec;
use ark_bls12_381::Fr;
use ark_ff::{batch_inversion, BigInteger, Field, One, PrimeField, Zero};
use bp_input::Bytes48;

use super::blob::{KzgError, BLOB_BYTES};

/// Field elements in a blob.
const WIDTH: usize = 4096;
/// `log2(WIDTH)`.
const WIDTH_BITS: u32 = 12;
/// The spec's `FIAT_SHAMIR_PROTOCOL_DOMAIN`.
const CHALLENGE_DOMAIN: &[u8; 16] = b"FSBLOBVERIFY_V1_";
/// The spec's `PRIMITIVE_ROOT_OF_UNITY`.
const PRIMITIVE_ROOT: u64 = 7;

/// Checks `verify_blob_kzg_proof(blob, commitment, proof)` against the Ethereum trusted setup.
pub fn verify_blob_arkworks(blob: &[u8; BLOB_BYTES], commitment: &Bytes48, proof: &Bytes48) -> Result<(), KzgError> {
    let polynomial = blob_to_polynomial(blob)?;
    let z = challenge(blob, commitment);
    let y = evaluate(&polynomial, z);
    let ok = revm::precompile::kzg_point_evaluation::arkworks::verify_kzg_proof(
        &commitment.0,
        &scalar_bytes(z),
        &scalar_bytes(y),
        &proof.0,
    );
    ok.then_some(()).ok_or(KzgError::Mismatch)
}

/// Every 32-byte big-endian element must be below the modulus (`blob_to_polynomial`).
fn blob_to_polynomial(blob: &[u8; BLOB_BYTES]) -> Result<Vec<Fr>, KzgError> {
    blob.chunks_exact(32)
        .enumerate()
        .map(|(i, element)| {
            let value = Fr::from_be_bytes_mod_order(element);
            if scalar_bytes(value) != element {
                return Err(KzgError::Invalid(alloc::format!("blob field element {i} is not below the modulus")));
            }
            Ok(value)
        })
        .collect()
}

/// `compute_challenge`: sha256(domain ‖ WIDTH as 16 big-endian bytes ‖ blob ‖ commitment) mod r.
/// Hashed through revm's crypto provider, which a zkVM guest points at its SHA-256 accelerator
/// (the blob is 2048 compression blocks).
fn challenge(blob: &[u8; BLOB_BYTES], commitment: &Bytes48) -> Fr {
    let mut preimage = Vec::with_capacity(CHALLENGE_DOMAIN.len() + 16 + BLOB_BYTES + commitment.0.len());
    preimage.extend_from_slice(CHALLENGE_DOMAIN);
    preimage.extend_from_slice(&(WIDTH as u128).to_be_bytes());
    preimage.extend_from_slice(blob);
    preimage.extend_from_slice(commitment.as_slice());
    Fr::from_be_bytes_mod_order(&revm::precompile::crypto().sha256(&preimage))
}

/// `evaluate_polynomial_in_evaluation_form` over the bit-reversed roots of unity:
/// `p(z) = (z^W − 1)/W · Σ pᵢ·ωᵢ/(z − ωᵢ)`, or `pᵢ` if `z = ωᵢ`.
fn evaluate(polynomial: &[Fr], z: Fr) -> Fr {
    let roots = roots_of_unity_bit_reversed();
    if let Some(i) = roots.iter().position(|root| *root == z) {
        return polynomial[i];
    }
    let mut denominators: Vec<Fr> = roots.iter().map(|root| z - root).collect();
    batch_inversion(&mut denominators);
    let sum = polynomial
        .iter()
        .zip(&roots)
        .zip(&denominators)
        .fold(Fr::zero(), |acc, ((p, root), inverse)| acc + *p * root * inverse);
    let width = Fr::from(WIDTH as u64);
    let width_inverse = width.inverse().unwrap_or_else(Fr::zero);
    sum * (z.pow([WIDTH as u64]) - Fr::one()) * width_inverse
}

/// `bit_reversal_permutation(compute_roots_of_unity(WIDTH))`, with
/// `ω = PRIMITIVE_ROOT^((r − 1)/WIDTH)`.
fn roots_of_unity_bit_reversed() -> Vec<Fr> {
    let mut modulus_minus_one = Fr::MODULUS;
    modulus_minus_one.sub_with_borrow(&<Fr as PrimeField>::BigInt::from(1u64));
    let exponent = modulus_minus_one >> WIDTH_BITS;
    let omega = Fr::from(PRIMITIVE_ROOT).pow(exponent);
    let mut powers = Vec::with_capacity(WIDTH);
    let mut power = Fr::one();
    for _ in 0..WIDTH {
        powers.push(power);
        power *= omega;
    }
    (0..WIDTH).map(|i| powers[(i as u32).reverse_bits() as usize >> (32 - WIDTH_BITS)]).collect()
}

fn scalar_bytes(value: Fr) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&value.into_bigint().to_bytes_be());
    bytes
}

#[cfg(all(test, feature = "native-crypto"))]
mod tests {
    use super::*;
    use crate::l2::{commit_blob, pack_blob, verify_blob};

    #[test]
    fn agrees_with_c_kzg() {
        let blob = pack_blob(b"a state diff, checked by two implementations").expect("fits");
        let (commitment, proof) = commit_blob(&blob).expect("commits");
        verify_blob(&blob, &commitment, &proof).expect("c-kzg accepts");
        verify_blob_arkworks(&blob, &commitment, &proof).expect("arkworks accepts");

        // A full blob of varied elements (the first byte zero keeps each below the modulus).
        let data: Vec<u8> = (0..super::super::blob::BLOB_CAPACITY).map(|i| (i * 7 + i / 255) as u8).collect();
        let full = pack_blob(&data).expect("fits");
        let (full_commitment, full_proof) = commit_blob(&full).expect("commits");
        verify_blob_arkworks(&full, &full_commitment, &full_proof).expect("arkworks accepts a full blob");

        assert_eq!(verify_blob_arkworks(&full, &commitment, &proof), Err(KzgError::Mismatch));
        assert_eq!(verify_blob_arkworks(&blob, &full_commitment, &proof), Err(KzgError::Mismatch));
        assert_eq!(verify_blob_arkworks(&blob, &commitment, &full_proof), Err(KzgError::Mismatch));
        let mut bad_point = commitment;
        bad_point[7] ^= 0x55;
        assert!(verify_blob_arkworks(&blob, &bad_point, &proof).is_err());
    }

    #[test]
    fn refuses_non_canonical_elements() {
        let mut blob = pack_blob(b"x").expect("fits");
        blob[32..64].fill(0xff);
        let (commitment, proof) = commit_blob(&pack_blob(b"x").expect("fits")).expect("commits");
        assert!(matches!(verify_blob_arkworks(&blob, &commitment, &proof), Err(KzgError::Invalid(_))));
    }

    #[test]
    fn roots_are_a_bit_reversed_subgroup() {
        let roots = roots_of_unity_bit_reversed();
        assert_eq!(roots[0], Fr::one());
        // Bit reversal puts ω^(W/2) = −1 second.
        assert_eq!(roots[1], -Fr::one());
        assert_eq!(roots[2].pow([WIDTH as u64 / 4 * 2]), Fr::one());
        assert_eq!(roots[2048].pow([WIDTH as u64]), Fr::one());
        assert_ne!(roots[2048].pow([WIDTH as u64 / 2]), Fr::one(), "ω is primitive");
    }
}
