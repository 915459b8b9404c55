//! Keccak-256 around a caller's keccak-f\[1600\]: zkVM guests hash through a precompile (an
//! accelerator circuit) instead of computing the permutation in software, and plug it in here.
//!
//! With the permutation accelerated, the sponge itself is a third of keccak's cost in a 32-bit
//! guest, where a byte-wise `u64::from_le_bytes` is eight loads: input that is 4-byte aligned
//! (the start of every allocation) is absorbed a word per load, and the final block is XORed
//! in place instead of being padded in a copy.

/// Bytes absorbed per permutation for a 256-bit output.
const RATE: usize = 136;

/// Keccak-256 of `input` (Keccak padding, as Ethereum uses, not SHA-3's), permuting with
/// `permute`.
pub fn keccak256_with(input: &[u8], mut permute: impl FnMut(&mut [u64; 25])) -> [u8; 32] {
    let mut state = [0u64; 25];
    let mut blocks = input.chunks_exact(RATE);
    for block in &mut blocks {
        absorb(&mut state, block);
        permute(&mut state);
    }
    // 0x01 after the message, 0x80 on the block's last byte (both on one byte when they meet).
    let rest = blocks.remainder();
    let mut lanes = rest.chunks_exact(8);
    for (lane, bytes) in state.iter_mut().zip(&mut lanes) {
        *lane ^= u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
    }
    let full = rest.len() / 8;
    let mut tail = [0u8; 8];
    tail[..lanes.remainder().len()].copy_from_slice(lanes.remainder());
    tail[rest.len() % 8] = 0x01;
    state[full] ^= u64::from_le_bytes(tail);
    state[RATE / 8 - 1] ^= 0x80 << 56;
    permute(&mut state);

    let mut digest = [0u8; 32];
    for (chunk, lane) in digest.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
    digest
}

/// XORs a full block (`RATE` bytes) into the state's first lanes.
fn absorb(state: &mut [u64; 25], block: &[u8]) {
    // SAFETY: every bit pattern is a valid u32; `align_to` only reinterprets the aligned middle.
    let (head, words, _) = unsafe { block.align_to::<u32>() };
    if head.is_empty() && words.len() >= RATE / 4 {
        for (lane, pair) in state.iter_mut().zip(words.chunks_exact(2)) {
            *lane ^= u64::from(u32::from_le(pair[0])) | u64::from(u32::from_le(pair[1])) << 32;
        }
    } else {
        for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
            *lane ^= u64::from_le_bytes(bytes.try_into().expect("8 bytes"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn matches_keccak256_at_every_padding_boundary() {
        let data: alloc::vec::Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        // Every offset, so that blocks are read both aligned and unaligned.
        for offset in 0..8 {
            for len in [0, 1, 7, 8, 9, 127, 128, 134, 135, 136, 137, 271, 272, 273, 590] {
                let input = &data[offset..offset + len];
                let ours = keccak256_with(input, keccak::f1600);
                assert_eq!(ours, keccak256(input).0, "offset {offset}, length {len}");
            }
        }
    }
}
