//! secp256k1 (bp-secp256k1's recovery and verification) on RISC Zero's bigint2 accelerator.
//!
//! Sender recovery in software (k256) costs about 12 M cycles a signature; here every field
//! multiplication, inversion and curve addition or doubling is one bigint2 call, checked by the
//! rv32im circuit itself (no recursion circuit needed, so it proves offline too). The checked
//! wrappers assert that each result is reduced, so a prover cannot pick another representative.

use bp_program::accelerated::Accelerators;
use bp_secp256k1::{Backend, Words};
use risc0_bigint2::ec::{AffinePoint, Secp256k1Curve, EC_256_WIDTH_WORDS};
use risc0_bigint2::field::{modadd_256, modinv_256, modsub_256};

use crate::crypto::Risc0;

/// secp256k1's arithmetic on bigint2.
#[derive(Debug)]
pub(crate) enum Bigint2 {}

impl Backend for Bigint2 {
    type Point = AffinePoint<EC_256_WIDTH_WORDS, Secp256k1Curve>;

    fn identity() -> Self::Point {
        Self::Point::IDENTITY
    }

    fn point(x: &Words, y: &Words) -> Self::Point {
        Self::Point::new_unchecked(*x, *y)
    }

    fn coordinates(point: &Self::Point) -> Option<[Words; 2]> {
        point.as_u32s().copied()
    }

    fn add_points(a: &Self::Point, b: &Self::Point, sum: &mut Self::Point) {
        a.add(b, sum);
    }

    fn double(a: &Self::Point, doubled: &mut Self::Point) {
        a.double(doubled);
    }

    fn mul(a: &Words, b: &Words, m: &Words) -> Words {
        <Risc0 as Accelerators>::mul_mod(a, b, m)
    }

    /// Skips bigint2's reducedness check (a comparison per call) in the square root's chain.
    fn mul_unreduced(a: &Words, b: &Words, m: &Words) -> Words {
        let mut out = [0; 8];
        risc0_bigint2::field::unchecked::modmul_256(a, b, m, &mut out);
        out
    }

    fn add(a: &Words, b: &Words, m: &Words) -> Words {
        let mut out = [0; 8];
        modadd_256(a, b, m, &mut out);
        out
    }

    fn sub(a: &Words, b: &Words, m: &Words) -> Words {
        let mut out = [0; 8];
        modsub_256(a, b, m, &mut out);
        out
    }

    fn inv(a: &Words, m: &Words) -> Words {
        let mut out = [0; 8];
        modinv_256(a, m, &mut out);
        out
    }
}
