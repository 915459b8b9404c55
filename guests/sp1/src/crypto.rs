//! The guest's accelerators for bp-program's crypto providers: secp256k1 on SP1's curve and
//! 256-bit modular multiplication precompiles, BN254 on its BN254 field precompiles, SHA-256 on
//! its SHA-256 precompiles, modexp's products on the 256-bit modular multiplication precompile.
//! The circuit checks each precompile's result; the hooks' answers (inverses, square roots) are
//! checked in the guest.

use bp_program::accelerated::{Accelerators, Words};

#[derive(Debug)]
pub(crate) enum Sp1 {}

impl Accelerators for Sp1 {
    type Secp256k1 = crate::secp256k1::Sp1;
    type Bn254 = crate::bn254::Sp1;

    fn sha256(input: &[u8]) -> [u8; 32] {
        crate::sha256::sha256(input)
    }

    fn mul_mod(a: &Words, b: &Words, m: &Words) -> Words {
        crate::limbs::mul_mod(a, b, m)
    }
}
