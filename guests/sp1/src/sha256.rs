//! SHA-256 (the precompile 0x02, and the blob versioned hashes) on SP1's SHA-256 syscalls: the
//! message schedule and the compression of each 64-byte block are one call each. The syscalls
//! keep each 32-bit word in a 64-bit slot.

use sp1_zkvm::syscalls::{syscall_sha256_compress, syscall_sha256_extend};

/// FIPS 180-4 §5.3.3.
const INITIAL: [u64; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

#[repr(C, align(8))]
struct Schedule([u64; 64]);

#[repr(C, align(8))]
struct State([u64; 8]);

pub(crate) fn sha256(input: &[u8]) -> [u8; 32] {
    let mut state = State(INITIAL);
    let mut schedule = Schedule([0; 64]);
    let mut compress = |block: &[u8; 64]| {
        for (slot, word) in schedule.0.iter_mut().zip(block.as_chunks::<4>().0) {
            *slot = u64::from(u32::from_be_bytes(*word));
        }
        syscall_sha256_extend(&mut schedule.0);
        syscall_sha256_compress(&mut schedule.0, &mut state.0);
    };

    let (blocks, rest) = input.as_chunks::<64>();
    blocks.iter().for_each(&mut compress);
    // The rest, 0x80, zeros, and the length in bits: one block, or two when fewer than nine
    // bytes are left after the rest.
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let end = if rest.len() < 56 { 64 } else { 128 };
    tail[end - 8..end].copy_from_slice(&((input.len() as u64) * 8).to_be_bytes());
    tail[..end].as_chunks::<64>().0.iter().for_each(&mut compress);

    let mut digest = [0u8; 32];
    for (bytes, word) in digest.as_chunks_mut::<4>().0.iter_mut().zip(state.0) {
        *bytes = (word as u32).to_be_bytes();
    }
    digest
}
