//! Keccak-256 around a caller's keccak-f\[1600\]: zkVM guests hash through a precompile (an
//! accelerator circuit) instead of computing the permutation in software, and plug it in here.

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
    let mut last = [0u8; RATE];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] ^= 0x01;
    last[RATE - 1] ^= 0x80;
    absorb(&mut state, &last);
    permute(&mut state);

    let mut digest = [0u8; 32];
    for (chunk, lane) in digest.chunks_exact_mut(8).zip(state) {
        chunk.copy_from_slice(&lane.to_le_bytes());
    }
    digest
}

fn absorb(state: &mut [u64; 25], block: &[u8]) {
    for (lane, word) in state.iter_mut().zip(block.chunks_exact(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        *lane ^= u64::from_le_bytes(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn matches_keccak256_at_every_padding_boundary() {
        let data: alloc::vec::Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [0, 1, 135, 136, 137, 271, 272, 273, 600] {
            let ours = keccak256_with(&data[..len], keccak::f1600);
            assert_eq!(ours, keccak256(&data[..len]).0, "length {len}");
        }
    }
}
