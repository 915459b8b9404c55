//! The constants derived again from their definitions, and the precompiles on a software
//! backend against revm's (arkworks, what the native program runs): random and edge-case
//! points, scalars and pairings, valid and invalid.

use alloc::string::ToString;
use alloc::vec::Vec;

use alloy_primitives::ruint::Uint;
use alloy_primitives::U256;
use revm::precompile::bn254::{run_add, run_mul, run_pair};
use revm::precompile::PrecompileHalt;

use crate::curve::{self, g2_b, Point};
use crate::field::{Backend, Field, Fp, Fp12, Fp2, Words, FROBENIUS_GAMMA, P};
use crate::pairing::{ATE_LOOP_NAF, X};
use crate::{Error, R};

/// Arithmetic mod p on ruint's `U256`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Software {}

fn to_u256(words: &Words) -> U256 {
    U256::from_limbs(core::array::from_fn(|i| words[2 * i] as u64 | (words[2 * i + 1] as u64) << 32))
}

fn to_words(value: U256) -> Words {
    let limbs = value.as_limbs();
    core::array::from_fn(|i| (limbs[i / 2] >> (32 * (i % 2))) as u32)
}

fn p() -> U256 {
    to_u256(&P)
}

impl Backend for Software {
    fn add(a: &Words, b: &Words) -> Words {
        to_words(to_u256(a).add_mod(to_u256(b), p()))
    }
    fn sub(a: &Words, b: &Words) -> Words {
        to_words(to_u256(a).add_mod(p() - to_u256(b), p()))
    }
    fn mul(a: &Words, b: &Words) -> Words {
        to_words(to_u256(a).mul_mod(to_u256(b), p()))
    }
    fn inv(a: &Words) -> Words {
        to_words(to_u256(a).inv_mod(p()).expect("non-zero"))
    }
}

type F2 = Fp2<Software>;

fn fp2(c0: u64, c1: u64) -> F2 {
    Fp2::new(Fp::new(to_words(U256::from(c0))), Fp::new(to_words(U256::from(c1))))
}

/// a^exponent for an exponent of up to 768 bits.
fn pow(a: &F2, exponent: &Uint<768, 12>) -> F2 {
    let mut result = Fp2::one();
    for position in (0..exponent.bit_len()).rev() {
        result = result.square();
        if exponent.bit(position) {
            result = result * *a;
        }
    }
    result
}

#[test]
fn frobenius_coefficients_are_powers_of_xi() {
    let xi = fp2(9, 1);
    let p = Uint::<768, 12>::from(p());
    for power in 1..=3 {
        let p_power_minus_one = p.pow(Uint::from(power)) - Uint::from(1);
        for i in 1..=5 {
            let exponent = p_power_minus_one * Uint::from(i) / Uint::from(6);
            let [c0, c1] = FROBENIUS_GAMMA[power - 1][i - 1];
            assert_eq!(pow(&xi, &exponent), Fp2::from_words(c0, c1), "γ({power}, {i})");
        }
    }
}

#[test]
fn curve_constants_match_their_definitions() {
    assert_eq!(fp2(9, 1) * g2_b::<Software>(), fp2(3, 0), "ξ · b' = 3");
    let naf: i128 = ATE_LOOP_NAF.iter().rev().fold(0, |sum, &digit| 2 * sum + digit as i128);
    assert_eq!(naf, 6 * X as i128 + 2);
    assert!(ATE_LOOP_NAF.windows(2).all(|pair| pair[0] == 0 || pair[1] == 0), "non-adjacent");
    assert_eq!(
        to_u256(&R).to_string(),
        "21888242871839275222246405745257275088548364400416034343698204186575808495617"
    );
    let p_squared = Uint::<512, 8>::from(p()) * Uint::<512, 8>::from(p());
    let limbs: [u64; 8] =
        core::array::from_fn(|i| crate::P_SQUARED[2 * i] as u64 | (crate::P_SQUARED[2 * i + 1] as u64) << 32);
    assert_eq!(Uint::<512, 8>::from_limbs(limbs), p_squared);
    assert_eq!(p().to_string(), "21888242871839275222246405745257275088696311157297823662689037894645226208583");
}

/// splitmix64: reproducible test values without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_be_bytes());
        }
        out
    }
}

const G1_GENERATOR: [u8; 64] = {
    let mut bytes = [0u8; 64];
    bytes[31] = 1;
    bytes[63] = 2;
    bytes
};

/// G2's generator, `x.im ‖ x.re ‖ y.im ‖ y.re`.
fn g2_generator() -> [u8; 128] {
    let hex = "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2\
               1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed\
               090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b\
               12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa";
    hex::decode(hex).expect("hex").try_into().expect("128 bytes")
}

fn reference_add(a: &[u8; 64], b: &[u8; 64]) -> Result<[u8; 64], PrecompileHalt> {
    let input = [a.as_slice(), b.as_slice()].concat();
    run_add(&input, 150, 150).map(|out| out.bytes.as_ref().try_into().expect("64 bytes"))
}

fn reference_mul(point: &[u8; 64], scalar: &[u8; 32]) -> Result<[u8; 64], PrecompileHalt> {
    let input = [point.as_slice(), scalar.as_slice()].concat();
    run_mul(&input, 6000, 6000).map(|out| out.bytes.as_ref().try_into().expect("64 bytes"))
}

fn reference_pairing(pairs: &[([u8; 64], [u8; 128])]) -> Result<bool, PrecompileHalt> {
    let input: Vec<u8> = pairs.iter().flat_map(|(g1, g2)| [g1.as_slice(), g2.as_slice()].concat()).collect();
    run_pair(&input, 34_000, 45_000, u64::MAX).map(|out| out.bytes[31] == 1)
}

/// Same success and output as revm, and the matching error.
fn expected_error(halt: PrecompileHalt) -> Error {
    match halt {
        PrecompileHalt::Bn254FieldPointNotAMember => Error::NotAFieldElement,
        PrecompileHalt::Bn254AffineGFailedToCreate => Error::NotOnCurve,
        other => panic!("unexpected halt {other:?}"),
    }
}

fn assert_g1_add(a: &[u8; 64], b: &[u8; 64]) {
    let ours = crate::g1_add::<Software>(a, b);
    match reference_add(a, b) {
        Ok(sum) => assert_eq!(ours, Ok(sum), "add {}, {}", hex::encode(a), hex::encode(b)),
        Err(halt) => assert_eq!(ours, Err(expected_error(halt)), "add {}, {}", hex::encode(a), hex::encode(b)),
    }
}

fn assert_g1_mul(point: &[u8; 64], scalar: &[u8; 32]) -> [u8; 64] {
    let ours = crate::g1_mul::<Software>(point, scalar);
    match reference_mul(point, scalar) {
        Ok(product) => {
            assert_eq!(ours, Ok(product), "mul {} by {}", hex::encode(point), hex::encode(scalar));
            product
        }
        Err(halt) => {
            assert_eq!(ours, Err(expected_error(halt)), "mul {} by {}", hex::encode(point), hex::encode(scalar));
            [0; 64]
        }
    }
}

/// Ours against revm's; not-in-subgroup is one of revm's "failed to create" errors.
fn assert_pairing(pairs: &[([u8; 64], [u8; 128])]) -> Result<bool, Error> {
    let borrowed: Vec<(&[u8; 64], &[u8; 128])> = pairs.iter().map(|(a, b)| (a, b)).collect();
    let ours = crate::pairing_check::<Software>(&borrowed);
    match (reference_pairing(pairs), ours) {
        (Ok(expected), got) => assert_eq!(got, Ok(expected)),
        (Err(PrecompileHalt::Bn254AffineGFailedToCreate), Err(Error::NotInSubgroup)) => {}
        (Err(halt), got) => assert_eq!(got, Err(expected_error(halt))),
    }
    ours
}

fn negate_g1(point: &[u8; 64]) -> [u8; 64] {
    let mut out = *point;
    let y = to_u256(&crate::words_from_be(&point[32..]));
    let negated = if y.is_zero() { y } else { p() - y };
    out[32..].copy_from_slice(&crate::words_to_be(&to_words(negated)));
    out
}

fn scalar(value: U256) -> [u8; 32] {
    value.to_be_bytes()
}

fn g2_point(bytes: &[u8; 128]) -> Point<Fp2<Software>> {
    let fp = |at: usize| Fp::new(crate::words_from_be(&bytes[at..at + 32]));
    Point { x: Fp2::new(fp(32), fp(0)), y: Fp2::new(fp(96), fp(64)) }
}

fn g2_bytes(point: &Point<Fp2<Software>>) -> [u8; 128] {
    let mut out = [0u8; 128];
    for (at, fp) in [(0, point.x.c1()), (32, point.x.c0()), (64, point.y.c1()), (96, point.y.c0())] {
        out[at..at + 32].copy_from_slice(&crate::words_to_be(&fp.0));
    }
    out
}

fn g2_mul(point: &[u8; 128], k: u64) -> [u8; 128] {
    let product = curve::mul(Some(g2_point(point)), &to_words(U256::from(k))).expect("finite");
    g2_bytes(&product)
}

#[test]
fn g1_addition_and_multiplication_match_revm() {
    let mut rng = Rng(1);
    let r = to_u256(&R);
    let mut points = Vec::from([G1_GENERATOR, negate_g1(&G1_GENERATOR), [0; 64]]);
    for _ in 0..12 {
        points.push(assert_g1_mul(&G1_GENERATOR, &rng.bytes32()));
    }
    let special_scalars =
        [U256::ZERO, U256::from(1), U256::from(2), r - U256::from(1), r, r + U256::from(1), U256::MAX];
    for point in points.clone() {
        for k in special_scalars {
            assert_g1_mul(&point, &scalar(k));
        }
        assert_g1_mul(&point, &rng.bytes32());
    }
    for a in &points {
        for b in &points {
            assert_g1_add(a, b);
        }
        assert_g1_add(a, &negate_g1(a));
    }
}

#[test]
fn g1_rejections_match_revm() {
    let p_bytes = crate::words_to_be(&P);
    let mut x_is_p = G1_GENERATOR;
    x_is_p[..32].copy_from_slice(&p_bytes);
    let mut y_is_p = G1_GENERATOR;
    y_is_p[32..].copy_from_slice(&p_bytes);
    let mut off_curve = G1_GENERATOR;
    off_curve[63] = 3;
    let mut only_x = [0u8; 64];
    only_x[31] = 1;
    let all_ones = [0xFF; 64];
    for bad in [x_is_p, y_is_p, off_curve, only_x, all_ones] {
        assert!(crate::g1_add::<Software>(&bad, &G1_GENERATOR).is_err());
        assert_g1_add(&bad, &G1_GENERATOR);
        assert_g1_add(&G1_GENERATOR, &bad);
        assert_g1_mul(&bad, &scalar(U256::from(2)));
        assert_g1_mul(&bad, &scalar(U256::ZERO));
    }
    assert_eq!(crate::g1_add::<Software>(&x_is_p, &G1_GENERATOR), Err(Error::NotAFieldElement));
    assert_eq!(crate::g1_add::<Software>(&off_curve, &G1_GENERATOR), Err(Error::NotOnCurve));
}

#[test]
fn pairings_match_revm() {
    let mut rng = Rng(2);
    let g2 = g2_generator();
    let infinity_g2 = [0u8; 128];
    assert_eq!(assert_pairing(&[]), Ok(true));
    assert_eq!(assert_pairing(&[(G1_GENERATOR, infinity_g2)]), Ok(true));
    assert_eq!(assert_pairing(&[([0; 64], g2)]), Ok(true));
    assert_eq!(assert_pairing(&[(G1_GENERATOR, g2)]), Ok(false));
    // e(aP, bQ) · e(−abP, Q) = 1, with a third pair at infinity.
    for _ in 0..3 {
        let (a, b) = (rng.next() >> 1, rng.next() >> 1);
        let ap = assert_g1_mul(&G1_GENERATOR, &scalar(U256::from(a)));
        let bq = g2_mul(&g2, b);
        let ab = U256::from(a) * U256::from(b);
        let minus_abp = negate_g1(&assert_g1_mul(&G1_GENERATOR, &scalar(ab)));
        assert_eq!(assert_pairing(&[(ap, bq), (minus_abp, g2)]), Ok(true));
        assert_eq!(assert_pairing(&[(ap, bq), ([0; 64], g2), (minus_abp, g2)]), Ok(true));
        assert_eq!(assert_pairing(&[(ap, bq), (minus_abp, g2_mul(&g2, 2))]), Ok(false));
        assert_eq!(assert_pairing(&[(ap, bq), (ap, bq), (minus_abp, g2), (minus_abp, g2)]), Ok(true));
    }
}

/// A point on the twist: the first x = (k, 1) whose x³ + b' is a square.
fn twist_point(mut k: u64) -> Point<Fp2<Software>> {
    loop {
        let x = fp2(k, 1);
        let rhs = x.square() * x + g2_b();
        if let Some(y) = sqrt(&rhs) {
            return Point { x, y };
        }
        k += 1;
    }
}

/// A square root in Fp2 for p ≡ 3 (mod 4) (Adj and Rodríguez-Henríquez, algorithm 9).
fn sqrt(a: &F2) -> Option<F2> {
    let p = Uint::<768, 12>::from(p());
    let a1 = pow(a, &((p - Uint::from(3)) / Uint::from(4)));
    let alpha = a1.square() * *a;
    let a0 = pow(&alpha, &p) * alpha;
    if a0 == -Fp2::one() {
        return None;
    }
    let x0 = a1 * *a;
    let root = if alpha == -Fp2::one() {
        fp2(0, 1) * x0
    } else {
        pow(&(Fp2::one() + alpha), &((p - Uint::from(1)) / Uint::from(2))) * x0
    };
    (root.square() == *a).then_some(root)
}

#[test]
fn g2_rejections_match_revm() {
    let g2 = g2_generator();
    let mut rejected_by_subgroup = 0;
    for k in [1, 100, 1000] {
        let point = twist_point(k);
        assert!(point.is_on_curve(g2_b()));
        if assert_pairing(&[(G1_GENERATOR, g2_bytes(&point))]) == Err(Error::NotInSubgroup) {
            rejected_by_subgroup += 1;
        }
    }
    assert!(rejected_by_subgroup > 0, "random twist points are almost never in G2");

    let p_bytes = crate::words_to_be(&P);
    for at in [0, 32, 64, 96] {
        let mut coordinate_is_p = g2;
        coordinate_is_p[at..at + 32].copy_from_slice(&p_bytes);
        assert_eq!(assert_pairing(&[(G1_GENERATOR, coordinate_is_p)]), Err(Error::NotAFieldElement));
        // Checked even when the other point of the pair is infinity.
        assert_eq!(assert_pairing(&[([0; 64], coordinate_is_p)]), Err(Error::NotAFieldElement));
    }
    let mut off_twist = g2;
    off_twist[127] ^= 1;
    assert_eq!(assert_pairing(&[(G1_GENERATOR, off_twist)]), Err(Error::NotOnCurve));
    let mut off_curve_g1 = G1_GENERATOR;
    off_curve_g1[63] = 3;
    assert_eq!(assert_pairing(&[(off_curve_g1, [0; 128])]), Err(Error::NotOnCurve));
}

#[test]
fn final_exponentiation_kills_subfield_factors() {
    // An Fp6 element is killed by the easy part: the line scaling by 1/y_P relies on it.
    let f = Fp12 {
        c0: crate::field::Fp6 { c0: fp2(5, 7), c1: fp2(11, 13), c2: fp2(17, 19) },
        c1: crate::field::Fp6::zero(),
    };
    assert!(!f.is_one());
    assert!(crate::pairing::final_exponentiation(&f).is_one());
}

#[test]
fn cyclotomic_squaring_squares_in_the_cyclotomic_subgroup() {
    let f = Fp12 {
        c0: crate::field::Fp6 { c0: fp2(1, 2), c1: fp2(3, 4), c2: fp2(5, 6) },
        c1: crate::field::Fp6 { c0: fp2(7, 8), c1: fp2(9, 10), c2: fp2(11, 12) },
    };
    // f^((p⁶ − 1)(p² + 1)) lies in the subgroup; f itself does not.
    let easy = f.conjugate().mul(&f.inv());
    let g = easy.frobenius(2).mul(&easy);
    assert_eq!(g.cyclotomic_square(), g.square());
    assert_eq!(g.cyclotomic_square().cyclotomic_square(), g.square().square());
    assert_ne!(f.cyclotomic_square(), f.square());
}

#[test]
fn fp12_inverse_and_frobenius_are_consistent() {
    let f = Fp12 {
        c0: crate::field::Fp6 { c0: fp2(1, 2), c1: fp2(3, 4), c2: fp2(5, 6) },
        c1: crate::field::Fp6 { c0: fp2(7, 8), c1: fp2(9, 10), c2: fp2(11, 12) },
    };
    assert!(f.mul(&f.inv()).is_one());
    assert_eq!(f.square(), f.mul(&f));
    // The p-power Frobenius is a ring homomorphism and six of them give the conjugate.
    let g = f.square().mul(&f);
    assert_eq!(f.mul(&g).frobenius(1), f.frobenius(1).mul(&g.frobenius(1)));
    assert_eq!(f.frobenius(1).frobenius(1), f.frobenius(2));
    assert_eq!(f.frobenius(2).frobenius(1), f.frobenius(3));
    assert_eq!(f.frobenius(3).frobenius(3), f.conjugate());
}

#[test]
fn scalars_reduce_modulo_r() {
    assert_eq!(crate::reduce_mod_r(R), [0; 8]);
    // (2²⁵⁶ − 1) mod r = 2²⁵⁶ − 1 − 5r
    let expected =
        [0x4FFF_FFFA, 0xAC96_341C, 0x9F60_CD29, 0x36FC_7695, 0x7879_462E, 0x666E_A36F, 0x9A07_DF2F, 0x0E0A_77C1];
    assert_eq!(crate::reduce_mod_r([u32::MAX; 8]), expected);
}

#[test]
fn words_round_trip_big_endian() {
    let bytes: [u8; 32] = core::array::from_fn(|i| i as u8);
    let words = crate::words_from_be(&bytes);
    assert_eq!(words[7], 0x0001_0203);
    assert_eq!(words[0], 0x1C1D_1E1F);
    assert_eq!(crate::words_to_be(&words), bytes);
}
