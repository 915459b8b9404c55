//! Answers computed outside the proof by SP1's executor hooks, each checked here before use,
//! so a wrong answer makes the program panic (no proof), never accept a wrong result.
//!
//! An inversion or square root costs hundreds of modular products; checking an answer costs
//! one or two. The executor writes a hook's answer to the front of the input stream, where the
//! next read finds it.

use sp1_zkvm::io;
use sp1_zkvm::lib::io::{FD_FP_INV, FD_FP_SQRT};

use crate::limbs::Words;

/// The hooks' length prefix: 32-byte numbers.
const LEN: [u8; 4] = 32u32.to_be_bytes();

/// a⁻¹ mod m as the hook claims it (unchecked): `a` non-zero and below the prime m.
pub(crate) fn inverse(a: &Words, m: &Words) -> Words {
    let mut request = [0u8; 4 + 64];
    request[..4].copy_from_slice(&LEN);
    request[4..36].copy_from_slice(&to_be(a));
    request[36..].copy_from_slice(&to_be(m));
    io::write(FD_FP_INV, &request);
    answer_number()
}

/// What the hook claims of `a` mod m: `Ok(root)` with root² = a, or `Err(root)` with
/// root² = `nqr` · a (unchecked). `a` below m; `nqr` a non-residue mod m.
pub(crate) fn sqrt(a: &Words, m: &Words, nqr: &Words) -> Result<Words, Words> {
    let mut request = [0u8; 4 + 96];
    request[..4].copy_from_slice(&LEN);
    request[4..36].copy_from_slice(&to_be(a));
    request[36..68].copy_from_slice(&to_be(m));
    request[68..].copy_from_slice(&to_be(nqr));
    io::write(FD_FP_SQRT, &request);
    let status = io::read_vec();
    let root = answer_number();
    match status.as_slice() {
        [1] => Ok(root),
        [0] => Err(root),
        _ => panic!("the square root hook answered a status of {} bytes", status.len()),
    }
}

fn answer_number() -> Words {
    let bytes = io::read_vec();
    let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        panic!("a hook answered {} bytes, not 32", bytes.len());
    };
    let mut words = [0u32; 8];
    for (i, chunk) in bytes.rchunks_exact(4).enumerate() {
        words[i] = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

fn to_be(words: &Words) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (i, word) in words.iter().enumerate() {
        bytes[28 - 4 * i..32 - 4 * i].copy_from_slice(&word.to_be_bytes());
    }
    bytes
}
