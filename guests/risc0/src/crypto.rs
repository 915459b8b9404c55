//! The guest's accelerators for bp-program's crypto providers: secp256k1, BN254 and modexp's
//! products on the bigint2 accelerator, SHA-256 on the SHA accelerator. Both are part of the
//! rv32im circuit: results are proved, not trusted.

use bp_program::accelerated::{Accelerators, Words};
use risc0_zkvm::sha::{Impl as Sha, Sha256};

#[derive(Debug)]
pub(crate) enum Risc0 {}

impl Accelerators for Risc0 {
    type Secp256k1 = crate::secp256k1::Bigint2;
    type Bn254 = crate::bn254::Bigint2;

    fn sha256(input: &[u8]) -> [u8; 32] {
        let digest = Sha::hash_bytes(input);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_bytes());
        out
    }

    /// bigint2's checked product: the wrapper asserts that the result is below m.
    fn mul_mod(a: &Words, b: &Words, m: &Words) -> Words {
        let mut out = [0; 8];
        risc0_bigint2::field::modmul_256(a, b, m, &mut out);
        out
    }
}
