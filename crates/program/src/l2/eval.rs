//! The proof of equivalence between the state diff the program rebuilt and the blob posted on
//! L1: the program evaluates the blob's polynomial at a Fiat–Shamir point and outputs the point
//! and the value; the L1 contract checks them with the point-evaluation precompile (0x0a)
//! against the versioned hash of the blob actually posted. Two different blobs' polynomials
//! (degree below 4096) agree on fewer than 4096 of the ~2^255 points, and the point is fixed
//! only once both the commitment and the data are (docs/l2.md).
//!
//! Why not `verify_blob_kzg_proof` in the program: that is a pairing in software, 96 % of a
//! devnet batch's cycles in a zkVM. The evaluation needs no pairing, and most of a state diff's
//! blob is zero padding: only the non-zero field elements contribute to the barycentric sum, and
//! only their roots of unity are computed (one small exponentiation each) instead of all 4096.

use alloc::vec::Vec;
use alloy_primitives::{keccak256, B256};
use ark_bls12_381::Fr;
use ark_ff::{batch_inversion, BigInteger, Field, One, PrimeField, Zero};

use super::blob::{KzgError, BLOB_BYTES};

/// Field elements in a blob.
const WIDTH: usize = 4096;
/// `log2(WIDTH)`.
const WIDTH_BITS: u32 = 12;
/// EIP-4844's `PRIMITIVE_ROOT_OF_UNITY`.
const PRIMITIVE_ROOT: u64 = 7;

/// The point at which the program evaluates the blob holding `data`, whose commitment has
/// `versioned_hash`: `keccak256(versioned_hash ‖ keccak256(data))` reduced modulo the BLS12-381
/// scalar field order, big-endian. The blob is `data` packed (deterministically), so hashing
/// the data binds the blob without hashing its 128 KiB.
pub fn evaluation_point(versioned_hash: &B256, data: &[u8]) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(versioned_hash.as_slice());
    preimage[32..].copy_from_slice(keccak256(data).as_slice());
    B256::from(scalar_bytes(Fr::from_be_bytes_mod_order(keccak256(preimage).as_slice())))
}

/// The blob's polynomial, in evaluation form over the bit-reversed 4096th roots of unity (as
/// EIP-4844 defines it), at `z`: `p(z) = (z^W − 1)/W · Σ pᵢ·ωᵢ/(z − ωᵢ)` over the non-zero
/// `pᵢ`, or `pᵢ` if `z = ωᵢ`. Refuses a blob element or a `z` not below the field order.
pub fn evaluate_blob(blob: &[u8; BLOB_BYTES], z: &B256) -> Result<B256, KzgError> {
    let z = canonical(z.as_slice())
        .ok_or_else(|| KzgError::Invalid("the evaluation point is not a field element".into()))?;
    let omega = omega();
    let mut terms: Vec<(Fr, Fr)> = Vec::new();
    for (i, element) in blob.chunks_exact(32).enumerate() {
        if element.iter().all(|b| *b == 0) {
            continue;
        }
        let value = canonical(element)
            .ok_or_else(|| KzgError::Invalid(alloc::format!("blob field element {i} is not below the modulus")))?;
        let root = root_of_unity(omega, i);
        if root == z {
            return Ok(B256::from(scalar_bytes(value)));
        }
        terms.push((value, root));
    }
    // If z is the root of a zero element, z^W − 1 vanishes and so does the result, as it must.
    let mut denominators: Vec<Fr> = terms.iter().map(|(_, root)| z - root).collect();
    batch_inversion(&mut denominators);
    let sum =
        terms.iter().zip(&denominators).fold(Fr::zero(), |acc, ((value, root), inverse)| acc + *value * root * inverse);
    let width_inverse = Fr::from(WIDTH as u64).inverse().unwrap_or_else(Fr::zero);
    Ok(B256::from(scalar_bytes(sum * (z.pow([WIDTH as u64]) - Fr::one()) * width_inverse)))
}

/// `ω^bitreverse(i)`, the root of unity of blob position `i`.
fn root_of_unity(omega: Fr, i: usize) -> Fr {
    let reversed = (i as u32).reverse_bits() >> (32 - WIDTH_BITS);
    omega.pow([u64::from(reversed)])
}

/// `ω = PRIMITIVE_ROOT^((r − 1)/W)`, a primitive 4096th root of unity.
fn omega() -> Fr {
    let mut modulus_minus_one = Fr::MODULUS;
    modulus_minus_one.sub_with_borrow(&<Fr as PrimeField>::BigInt::from(1u64));
    Fr::from(PRIMITIVE_ROOT).pow(modulus_minus_one >> WIDTH_BITS)
}

/// A 32-byte big-endian value as a field element, if it is below the modulus.
fn canonical(bytes: &[u8]) -> Option<Fr> {
    let value = Fr::from_be_bytes_mod_order(bytes);
    (scalar_bytes(value) == bytes).then_some(value)
}

fn scalar_bytes(value: Fr) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&value.into_bigint().to_bytes_be());
    bytes
}

#[cfg(all(test, feature = "native-crypto"))]
mod tests {
    use super::*;
    use crate::l2::{commit_blob, open_blob, pack_blob, versioned_hash, BLOB_CAPACITY};

    /// Our sparse barycentric evaluation against c-kzg's `compute_kzg_proof`, which evaluates
    /// the same polynomial independently.
    #[test]
    fn agrees_with_c_kzg() {
        let sparse = pack_blob(b"a state diff, evaluated by two implementations").expect("fits");
        let data: Vec<u8> = (0..BLOB_CAPACITY).map(|i| (i * 7 + i / 255) as u8).collect();
        let dense = pack_blob(&data).expect("fits");
        let empty = pack_blob(&[]).expect("fits");
        for blob in [&sparse, &dense, &empty] {
            let (commitment, _) = commit_blob(blob).expect("commits");
            let z = evaluation_point(&versioned_hash(&commitment), b"data");
            let ours = evaluate_blob(blob, &z).expect("evaluates");
            let (_, theirs) = open_blob(blob, &z).expect("c-kzg opens");
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn at_a_root_of_unity_the_value_is_the_element() {
        let blob = pack_blob(&[5u8; 100]).expect("fits");
        for i in [0usize, 1, 2, 3, 4000] {
            let z = B256::from(scalar_bytes(root_of_unity(omega(), i)));
            let expected = B256::from_slice(&blob[i * 32..(i + 1) * 32]);
            assert_eq!(evaluate_blob(&blob, &z).expect("evaluates"), expected, "position {i}");
            let (_, theirs) = open_blob(&blob, &z).expect("c-kzg opens");
            assert_eq!(theirs, expected);
        }
    }

    #[test]
    fn refuses_non_field_elements() {
        let mut blob = pack_blob(b"x").expect("fits");
        blob[32..64].fill(0xff);
        assert!(matches!(evaluate_blob(&blob, &B256::ZERO), Err(KzgError::Invalid(_))));
        let blob = pack_blob(b"x").expect("fits");
        assert!(matches!(evaluate_blob(&blob, &B256::repeat_byte(0xff)), Err(KzgError::Invalid(_))));
    }

    #[test]
    fn the_point_depends_on_commitment_and_data() {
        let a = evaluation_point(&B256::repeat_byte(1), b"data");
        assert_ne!(a, evaluation_point(&B256::repeat_byte(2), b"data"));
        assert_ne!(a, evaluation_point(&B256::repeat_byte(1), b"datb"));
        assert!(canonical(a.as_slice()).is_some(), "a field element");
    }

    #[test]
    fn roots_are_a_bit_reversed_subgroup() {
        let omega = omega();
        assert_eq!(root_of_unity(omega, 0), Fr::one());
        // Bit reversal puts ω^(W/2) = −1 second.
        assert_eq!(root_of_unity(omega, 1), -Fr::one());
        assert_eq!(root_of_unity(omega, 2048).pow([WIDTH as u64]), Fr::one());
        assert_ne!(root_of_unity(omega, 2048).pow([WIDTH as u64 / 2]), Fr::one(), "ω is primitive");
    }
}
