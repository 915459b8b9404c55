//! BN254 for the precompiles 0x06–0x08 (bp-bn254's curve and pairing code) on RISC Zero's
//! bigint2 accelerator: each Fp product, sum, difference and inverse, and each Fp2 product, sum
//! and difference, is one call that the rv32im circuit checks. The checked wrappers assert
//! that every result is below p, so equal words are equal field elements.

use bp_bn254::{Backend, Words, P, P_SQUARED};
use risc0_bigint2::field::{
    extfield_deg2_add_256, extfield_deg2_sub_256, extfield_xxone_mul_256, modadd_256, modinv_256, modmul_256,
    modsub_256,
};

/// Arithmetic modulo BN254's base field prime on bigint2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bigint2 {}

impl Backend for Bigint2 {
    fn add(a: &Words, b: &Words) -> Words {
        let mut out = [0; 8];
        modadd_256(a, b, &P, &mut out);
        out
    }

    fn sub(a: &Words, b: &Words) -> Words {
        let mut out = [0; 8];
        modsub_256(a, b, &P, &mut out);
        out
    }

    fn mul(a: &Words, b: &Words) -> Words {
        let mut out = [0; 8];
        modmul_256(a, b, &P, &mut out);
        out
    }

    fn inv(a: &Words) -> Words {
        let mut out = [0; 8];
        modinv_256(a, &P, &mut out);
        out
    }

    /// Fp2 = Fp[u]/(u² + 1): bigint2's "xxone" product is exactly this ring's.
    fn fp2_mul(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        let mut out = [[0; 8]; 2];
        extfield_xxone_mul_256(a, b, &P, &P_SQUARED, &mut out);
        out
    }

    fn fp2_add(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        let mut out = [[0; 8]; 2];
        extfield_deg2_add_256(a, b, &P, &mut out);
        out
    }

    fn fp2_sub(a: &[Words; 2], b: &[Words; 2]) -> [Words; 2] {
        let mut out = [[0; 8]; 2];
        extfield_deg2_sub_256(a, b, &P, &mut out);
        out
    }
}
