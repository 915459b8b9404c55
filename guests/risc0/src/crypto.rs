//! The guest's accelerators for bp-program's crypto providers: secp256k1 and BN254 on the
//! bigint2 accelerator, SHA-256 on the SHA accelerator. Both are part of the rv32im circuit:
//! results are proved, not trusted.

use bp_program::accelerated::Accelerators;
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
}
