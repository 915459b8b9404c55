//! Keccak-256 around a caller's keccak-f\[1600\]: zkVM guests hash through a precompile (an
//! accelerator circuit) instead of computing the permutation in software, and plug it in here.
//!
//! With the permutation accelerated, the sponge itself is a third of keccak's cost in a 32-bit
//! guest, where a byte-wise `u64::from_le_bytes` is eight loads. Input is absorbed a 32-bit
//! word per load whatever its alignment (an unaligned one is stitched from two aligned loads:
//! the guest reads trie nodes and codes in place, inside its input, at any offset), and the
//! final block is XORed in place instead of being padded in a copy.

/// Bytes absorbed per permutation for a 256-bit output.
const RATE: usize = 136;

/// Keccak-256 of `input` (Keccak padding, as Ethereum uses, not SHA-3's), permuting with
/// `permute`.
pub fn keccak256_with(input: &[u8], mut permute: impl FnMut(&mut [u64; 25])) -> [u8; 32] {
    let mut state = [0u64; 25];
    let mut blocks = input.chunks_exact(RATE);
    for block in &mut blocks {
        xor_in(&mut state, block);
        permute(&mut state);
    }
    // 0x01 after the message, 0x80 on the block's last byte (both on one byte when they meet).
    let rest = blocks.remainder();
    xor_in(&mut state, rest);
    state[rest.len() / 8] ^= 0x01 << (8 * (rest.len() % 8));
    state[RATE / 8 - 1] ^= 0x80 << 56;
    permute(&mut state);

    let mut digest = [0u8; 32];
    for (chunk, lane) in digest.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
    digest
}

/// XORs `bytes` (at most `RATE`) into the state from its first byte on.
#[cfg(target_endian = "little")]
fn xor_in(state: &mut [u64; 25], bytes: &[u8]) {
    debug_assert!(bytes.len() <= RATE);
    // SAFETY: a lane is two u32 words in memory (little-endian: the low one first), `u32`'s
    // alignment divides `u64`'s and the sizes agree; `state` is borrowed for the whole view.
    let words = unsafe { &mut *(state as *mut [u64; 25]).cast::<[u32; 50]>() };
    // SAFETY: every bit pattern is a valid u32; `align_to` only reinterprets the aligned middle.
    let (head, middle, tail) = unsafe { bytes.align_to::<u32>() };
    if head.is_empty() {
        match <&[u32; RATE / 4]>::try_from(middle) {
            // A full block: a fixed count, so the loop unrolls.
            Ok(block) => words.iter_mut().zip(block).for_each(|(word, value)| *word ^= value),
            Err(_) => middle.iter().zip(words.iter_mut()).for_each(|(value, word)| *word ^= value),
        }
        words[middle.len()] ^= partial_word(tail);
    } else if middle.is_empty() {
        // Too short to reach an aligned word: at most six bytes.
        for (index, chunk) in bytes.chunks(4).enumerate() {
            words[index] ^= partial_word(chunk);
        }
    } else {
        // Word i of the input ends aligned word i - 1 and starts aligned word i.
        let up = 8 * head.len() as u32;
        let down = 32 - up;
        let mut carry = partial_word(head);
        let mut stitch = |word: &mut u32, value: u32| {
            *word ^= carry | value << up;
            carry = value >> down;
        };
        match <&[u32; RATE / 4 - 1]>::try_from(middle) {
            Ok(block) => words.iter_mut().zip(block).for_each(|(word, value)| stitch(word, *value)),
            Err(_) => middle.iter().zip(words.iter_mut()).for_each(|(value, word)| stitch(word, *value)),
        }
        // The tail completes the last stitched word and may spill into one more.
        let last = u64::from(carry) | u64::from(partial_word(tail)) << up;
        words[middle.len()] ^= last as u32;
        words[middle.len() + 1] ^= (last >> 32) as u32;
    }
}

/// Big-endian targets (none of ours) take the byte-wise path.
#[cfg(not(target_endian = "little"))]
fn xor_in(state: &mut [u64; 25], bytes: &[u8]) {
    for (index, byte) in bytes.iter().enumerate() {
        state[index / 8] ^= u64::from(*byte) << (8 * (index % 8));
    }
}

/// Up to four bytes as a little-endian word, zero-padded (byte by byte: a `copy_from_slice`
/// of a variable length is a `memcpy` call, dearer than the bytes).
fn partial_word(bytes: &[u8]) -> u32 {
    bytes.iter().rev().fold(0, |word, &byte| word << 8 | u32::from(byte))
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
            for len in
                [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 127, 128, 131, 132, 133, 134, 135, 136, 137, 271, 272, 273, 590]
            {
                let input = &data[offset..offset + len];
                let ours = keccak256_with(input, keccak::f1600);
                assert_eq!(ours, keccak256(input).0, "offset {offset}, length {len}");
            }
        }
    }
}
