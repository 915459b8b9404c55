//! The guest's accelerators for bp-program's crypto providers: secp256k1 on SP1's curve and
//! 256-bit modular multiplication precompiles, BN254 on its BN254 field precompiles, SHA-256 on
//! its SHA-256 precompiles. The circuit checks each precompile's result; the hooks' answers
//! (inverses, square roots) are checked in the guest.

use bp_program::accelerated::Accelerators;

#[derive(Debug)]
pub(crate) enum Sp1 {}

impl Accelerators for Sp1 {
    type Secp256k1 = crate::secp256k1::Sp1;
    type Bn254 = crate::bn254::Sp1;

    fn sha256(input: &[u8]) -> [u8; 32] {
        crate::sha256::sha256(input)
    }
}
