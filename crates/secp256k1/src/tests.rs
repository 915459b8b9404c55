//! The recovery and verification code on a software backend, against k256.

use alloy_primitives::U256;
use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::PrimeField;

use super::*;

fn big(words: &Words) -> U256 {
    U256::from_limbs(core::array::from_fn(|i| u64::from(words[2 * i]) | u64::from(words[2 * i + 1]) << 32))
}

fn words(value: U256) -> Words {
    let limbs = value.as_limbs();
    core::array::from_fn(|i| (limbs[i / 2] >> (32 * (i % 2))) as u32)
}

/// Textbook affine arithmetic on U256's modular operations. With `UNREDUCED`, products may
/// come back unreduced (plus m when that fits), which the square root's chain must reduce
/// itself.
enum Textbook<const UNREDUCED: bool> {}

type Software = Textbook<false>;
type Unreduced = Textbook<true>;

impl<const UNREDUCED: bool> Textbook<UNREDUCED> {
    fn fp(value: U256) -> Words {
        words(value.reduce_mod(big(&P)))
    }

    /// The sum of two distinct, non-opposite points with slope `lambda`.
    fn chord(lambda: U256, [x1, y1]: [Words; 2], x2: &Words) -> Option<[Words; 2]> {
        let p = big(&P);
        let x3 = lambda.mul_mod(lambda, p).add_mod(p - big(&x1), p).add_mod(p - big(x2), p);
        let y3 = lambda.mul_mod(big(&x1).add_mod(p - x3, p), p).add_mod(p - big(&y1), p);
        Some([words(x3), Self::fp(y3)])
    }
}

impl<const UNREDUCED: bool> Backend for Textbook<UNREDUCED> {
    type Point = Option<[Words; 2]>;

    fn identity() -> Self::Point {
        None
    }

    fn point(x: &Words, y: &Words) -> Self::Point {
        Some([*x, *y])
    }

    fn coordinates(point: &Self::Point) -> Option<[Words; 2]> {
        *point
    }

    fn add_points(a: &Self::Point, b: &Self::Point, sum: &mut Self::Point) {
        *sum = Self::sum(a, b);
    }

    fn double(a: &Self::Point, doubled: &mut Self::Point) {
        *doubled = Self::doubled(a);
    }

    fn mul(a: &Words, b: &Words, m: &Words) -> Words {
        words(big(a).mul_mod(big(b), big(m)))
    }

    fn mul_unreduced(a: &Words, b: &Words, m: &Words) -> Words {
        let reduced = Self::mul(a, b, m);
        match add(&reduced, m) {
            (sum, false) if UNREDUCED => sum,
            _ => reduced,
        }
    }
}

impl<const UNREDUCED: bool> Textbook<UNREDUCED> {
    fn sum(a: &Option<[Words; 2]>, b: &Option<[Words; 2]>) -> Option<[Words; 2]> {
        let (Some(a), Some(b)) = (a, b) else { return a.or(*b) };
        if a == b {
            return Self::doubled(&Some(*a));
        }
        if a[0] == b[0] {
            return None;
        }
        let p = big(&P);
        let dx = big(&b[0]).add_mod(p - big(&a[0]), p);
        let dy = big(&b[1]).add_mod(p - big(&a[1]), p);
        let lambda = dy.mul_mod(dx.inv_mod(p).expect("x1 != x2"), p);
        Self::chord(lambda, *a, &b[0])
    }

    fn doubled(a: &Option<[Words; 2]>) -> Option<[Words; 2]> {
        let a = (*a)?;
        let p = big(&P);
        let x = big(&a[0]);
        let numerator = U256::from(3).mul_mod(x.mul_mod(x, p), p);
        let lambda = numerator.mul_mod(U256::from(2).mul_mod(big(&a[1]), p).inv_mod(p)?, p);
        Self::chord(lambda, a, &a[0])
    }
}

fn key(seed: u64) -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_be_bytes());
    bytes[31] = 1;
    SigningKey::from_bytes(&bytes.into()).expect("a valid scalar")
}

fn uncompressed(key: &VerifyingKey) -> [u8; 64] {
    key.to_encoded_point(false).as_bytes()[1..].try_into().expect("65-byte SEC 1 form")
}

fn prehash(seed: u64) -> [u8; 32] {
    let mut hash = [0u8; 32];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (i % 8 * 8)) as u8 ^ i as u8;
    }
    hash
}

fn split_signature(signature: &Signature) -> [u8; 64] {
    signature.to_bytes().into()
}

#[test]
fn recovers_what_k256_recovers() {
    for seed in 0..40u64 {
        let key = key(seed);
        let hash = prehash(seed);
        let (signature, id) = key.sign_prehash_recoverable(&hash).expect("signs");
        let expected = uncompressed(key.verifying_key());
        let bytes = split_signature(&signature);
        assert_eq!(recover::<Software>(&bytes, id.to_byte(), &hash), Some(expected), "seed {seed}");
        assert_eq!(recover::<Unreduced>(&bytes, id.to_byte(), &hash), Some(expected), "seed {seed}");

        // (r, n − s) with the other parity names the same key.
        let high_s = Signature::from_scalars(signature.r().to_repr(), (-*signature.s()).to_repr()).expect("scalars");
        let flipped = id.to_byte() ^ 1;
        assert_eq!(recover::<Software>(&split_signature(&high_s), flipped, &hash), Some(expected), "seed {seed}");

        // The other parity names another key, as k256 says.
        let other = VerifyingKey::recover_from_prehash(&hash, &signature, RecoveryId::from_byte(flipped).expect("id"))
            .map(|key| uncompressed(&key))
            .ok();
        assert_eq!(recover::<Software>(&bytes, flipped, &hash), other, "seed {seed}");
    }
}

#[test]
fn verifies_as_k256_verifies() {
    for seed in 0..20u64 {
        let key = key(seed);
        let hash = prehash(seed);
        let (signature, _) = key.sign_prehash_recoverable(&hash).expect("signs");
        let public = uncompressed(key.verifying_key());
        let bytes = split_signature(&signature);
        assert!(verify::<Software>(&public, &bytes, &hash));
        let high_s = Signature::from_scalars(signature.r().to_repr(), (-*signature.s()).to_repr()).expect("scalars");
        assert!(verify::<Software>(&public, &split_signature(&high_s), &hash));
        assert!(!verify::<Software>(&public, &bytes, &prehash(seed + 1000)));
        assert!(!verify::<Software>(&uncompressed(self::key(seed + 1).verifying_key()), &bytes, &hash));
        let mut off_curve = public;
        off_curve[63] ^= 1;
        assert!(!verify::<Software>(&off_curve, &bytes, &hash));
    }
}

fn be(words: &Words) -> [u8; 32] {
    to_be(words)
}

fn signature_of(r: &Words, s: &Words) -> [u8; 64] {
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&be(r));
    bytes[32..].copy_from_slice(&be(s));
    bytes
}

#[test]
fn rejects_signatures_that_name_no_key() {
    let hash = prehash(7);
    let (signature, id) = key(7).sign_prehash_recoverable(&hash).expect("signs");
    let good = split_signature(&signature);
    let (r, s) = (from_be(&good[..32]), from_be(&good[32..]));
    let recover = |r: &Words, s: &Words, id: u8| recover::<Software>(&signature_of(r, s), id, &hash);
    assert!(recover(&r, &s, id.to_byte()).is_some());

    assert_eq!(recover(&r, &s, 4), None, "recovery id above 3");
    assert_eq!(recover(&ZERO, &s, 0), None, "r = 0");
    assert_eq!(recover(&r, &ZERO, 0), None, "s = 0");
    assert_eq!(recover(&N, &s, 0), None, "r = n");
    assert_eq!(recover(&r, &N, 0), None, "s = n");
    assert_eq!(recover(&[u32::MAX; 8], &s, 0), None, "r above n");
    // x = r + n must stay below p: r ≥ p − n overflows it.
    let p_minus_n = sub(&P, &N).0;
    assert_eq!(recover(&p_minus_n, &s, 2), None, "r + n = p");
    assert_eq!(recover(&r, &s, 2), None, "r + n beyond p for a full-size r");

    // An x with no point: x³ + 7 is not a square.
    let not_on_curve = (1u32..)
        .map(|x| [x, 0, 0, 0, 0, 0, 0, 0])
        .find(|x| {
            let rhs = big(&curve_rhs::<Software>(x));
            let p = big(&P);
            rhs.pow_mod((p - U256::from(1)) >> 1, p) != U256::from(1)
        })
        .expect("half of all x");
    assert_eq!(recover(&not_on_curve, &s, 0), None, "x not on the curve");
    assert_eq!(recover(&not_on_curve, &s, 1), None, "x not on the curve, odd");
}

/// s R = z G makes Q the identity: no key.
#[test]
fn rejects_a_signature_whose_key_is_the_identity() {
    let k = U256::from(0x1234_5678_9abc_def0u64);
    let point = k256::ProjectivePoint::GENERATOR * k256::Scalar::from_repr(k.to_be_bytes::<32>().into()).unwrap();
    let encoded = point.to_affine().to_encoded_point(false);
    let x = from_be(encoded.x().expect("not the identity"));
    let y = from_be(encoded.y().expect("uncompressed"));
    assert!(less(&x, &N), "x below n, so r = x");
    let hash = prehash(3);
    let n = big(&N);
    let z = big(&reduced_hash(&hash));
    let s = z.mul_mod(k.inv_mod(n).expect("invertible"), n);
    let id = (y[0] & 1) as u8;
    assert_eq!(recover::<Software>(&signature_of(&x, &words(s)), id, &hash), None);
    // The same r and s with the other parity do name a key.
    assert!(recover::<Software>(&signature_of(&x, &words(s)), id ^ 1, &hash).is_some());
}

#[test]
fn three_is_not_a_square_mod_p() {
    let p = big(&P);
    assert_eq!(big(&NON_RESIDUE).pow_mod((p - U256::from(1)) >> 1, p), p - U256::from(1), "Euler's criterion");
}

#[test]
fn default_arithmetic_matches_u256() {
    for seed in 1..30u64 {
        for m in [P, N] {
            let a = words(U256::from_be_bytes(prehash(seed)).reduce_mod(big(&m)));
            let b = words(U256::from_be_bytes(prehash(seed + 99)).reduce_mod(big(&m)));
            assert_eq!(big(&Software::add(&a, &b, &m)), big(&a).add_mod(big(&b), big(&m)));
            assert_eq!(big(&Software::sub(&a, &b, &m)), big(&a).add_mod(big(&m) - big(&b), big(&m)));
            assert_eq!(big(&Software::inv(&a, &m)), big(&a).inv_mod(big(&m)).expect("prime modulus"));
        }
    }
    let top = sub(&P, &[1, 0, 0, 0, 0, 0, 0, 0]).0;
    assert_eq!(Software::add(&top, &top, &P), sub(&top, &[1, 0, 0, 0, 0, 0, 0, 0]).0, "a sum past 2²⁵⁶");
}
