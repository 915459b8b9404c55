//! BN254 (alt_bn128) for the EVM's precompiles 0x06 (add), 0x07 (scalar multiplication) and
//! 0x08 (pairing check), written over a pluggable [`Backend`] for arithmetic modulo the base
//! field's prime.
//!
//! Why not arkworks, which revm uses natively: in a zkVM a 256-bit modular multiplication in
//! software costs about a thousand RV32 instructions, while RISC Zero's bigint2 accelerator
//! (and SP1's field syscalls) do one in a single call whose result the circuit checks. A
//! pairing is some ten thousand such products, so the backend, not the curve code, decides
//! the cost. With [`Backend`] supplied by the guest, every product and inversion is one call;
//! natively the tests run the same code on a software backend and compare it with revm's.
//!
//! Field elements are `[u32; 8]`, least significant word first (the accelerators' layout),
//! always reduced below p: the backend returns reduced values and decoding rejects a
//! coordinate at or above p, so equality of words is equality of field elements.
//!
//! - [`g1_add`], [`g1_mul`]: affine arithmetic with one inversion per step (inversion is one
//!   accelerator call, so projective coordinates would only add multiplications).
//! - [`pairing_check`]: optimal ate Miller loop with affine line steps, shared squarings for
//!   all pairs, and the final exponentiation of Fuentes-Castañeda et al. (as arkworks).
//! - G2 membership: on the twist and in the order-r subgroup (ψ(P) = [6x²]P, eprint 2022/352
//!   §4.3, as arkworks); G1 has cofactor 1, so being on the curve suffices.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod curve;
mod field;
mod pairing;

pub use field::{Backend, Words, P, P_SQUARED};

use curve::{Point, G1, G2};
use field::{Field, Fp, Fp2};

/// The order r of G1 and G2.
pub const R: Words =
    [0xF000_0001, 0x43E1_F593, 0x79B9_7091, 0x2833_E848, 0x8181_585D, 0xB850_45B6, 0xE131_A029, 0x3064_4E72];

/// Why an input is not a point the precompiles accept (all three make the call fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A coordinate is not below the base field's prime.
    #[error("a coordinate is not a field element (not below p)")]
    NotAFieldElement,
    /// The point is not on the curve (G1) or its twist (G2), nor the all-zero point at infinity.
    #[error("the point is not on the curve")]
    NotOnCurve,
    /// The G2 point is on the twist but not in the order-r subgroup.
    #[error("the G2 point is not in the order-r subgroup")]
    NotInSubgroup,
}

/// Precompile 0x06: the sum of two G1 points, each `x ‖ y` big-endian (all zero: infinity).
pub fn g1_add<B: Backend>(a: &[u8; 64], b: &[u8; 64]) -> Result<[u8; 64], Error> {
    let a = decode_g1::<B>(a)?;
    let b = decode_g1::<B>(b)?;
    Ok(encode_g1(curve::add(a, b)))
}

/// Precompile 0x07: `scalar` (big-endian, any 256-bit value) times a G1 point.
pub fn g1_mul<B: Backend>(point: &[u8; 64], scalar: &[u8; 32]) -> Result<[u8; 64], Error> {
    let point = decode_g1::<B>(point)?;
    // The point's order is r, so the scalar counts modulo r.
    let scalar = reduce_mod_r(words_from_be(scalar));
    Ok(encode_g1(curve::mul(point, &scalar)))
}

/// Precompile 0x08: whether the product of e(P, Q) over the pairs (a G1 point `x ‖ y` and a G2
/// point `x.im ‖ x.re ‖ y.im ‖ y.re`, big-endian) is one. Every point is checked, even one
/// paired with infinity; a pair with infinity contributes one, and no pairs give true.
pub fn pairing_check<B: Backend>(pairs: &[(&[u8; 64], &[u8; 128])]) -> Result<bool, Error> {
    let mut points = alloc::vec::Vec::with_capacity(pairs.len());
    for (g1, g2) in pairs {
        let p = decode_g1::<B>(g1)?;
        let q = decode_g2::<B>(g2)?;
        if let (Some(p), Some(q)) = (p, q) {
            points.push((p, q));
        }
    }
    Ok(pairing::product_is_one(&points))
}

fn decode_g1<B: Backend>(bytes: &[u8; 64]) -> Result<Option<G1<B>>, Error> {
    let x = fp_from_be::<B>(&bytes[..32])?;
    let y = fp_from_be::<B>(&bytes[32..])?;
    if x.is_zero() && y.is_zero() {
        return Ok(None);
    }
    let point = Point { x, y };
    if !point.is_on_curve(curve::g1_b()) {
        return Err(Error::NotOnCurve);
    }
    Ok(Some(point))
}

fn decode_g2<B: Backend>(bytes: &[u8; 128]) -> Result<Option<G2<B>>, Error> {
    // Each Fp2 coordinate is written imaginary part first.
    let fp2 = |at: usize| -> Result<Fp2<B>, Error> {
        let im = fp_from_be::<B>(&bytes[at..at + 32])?;
        let re = fp_from_be::<B>(&bytes[at + 32..at + 64])?;
        Ok(Fp2::new(re, im))
    };
    let x = fp2(0)?;
    let y = fp2(64)?;
    if x.is_zero() && y.is_zero() {
        return Ok(None);
    }
    let point = Point { x, y };
    if !point.is_on_curve(curve::g2_b()) {
        return Err(Error::NotOnCurve);
    }
    if !curve::in_g2_subgroup(&point) {
        return Err(Error::NotInSubgroup);
    }
    Ok(Some(point))
}

fn encode_g1<B: Backend>(point: Option<G1<B>>) -> [u8; 64] {
    let mut out = [0u8; 64];
    if let Some(point) = point {
        out[..32].copy_from_slice(&words_to_be(&point.x.0));
        out[32..].copy_from_slice(&words_to_be(&point.y.0));
    }
    out
}

fn fp_from_be<B: Backend>(bytes: &[u8]) -> Result<Fp<B>, Error> {
    let words = words_from_be(bytes);
    if !less(&words, &P) {
        return Err(Error::NotAFieldElement);
    }
    Ok(Fp::new(words))
}

/// A value below 2²⁵⁶ reduced modulo r: r > 2²⁵³, so at most five subtractions.
fn reduce_mod_r(mut value: Words) -> Words {
    while !less(&value, &R) {
        let mut borrow = false;
        for (word, r) in value.iter_mut().zip(R) {
            let (partial, b1) = word.overflowing_sub(r);
            let (difference, b2) = partial.overflowing_sub(borrow as u32);
            *word = difference;
            borrow = b1 || b2;
        }
    }
    value
}

/// a < b as 256-bit numbers.
fn less(a: &Words, b: &Words) -> bool {
    a.iter().rev().lt(b.iter().rev())
}

/// Up to 32 big-endian bytes as words.
fn words_from_be(bytes: &[u8]) -> Words {
    let mut words = [0u32; 8];
    for (word, chunk) in words.iter_mut().zip(bytes.rchunks_exact(4)) {
        *word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

fn words_to_be(words: &Words) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (chunk, word) in bytes.rchunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests;
