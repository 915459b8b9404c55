//! Keccak-256 for `alloy_primitives::keccak256` (its `native-keccak` hook). The permutation
//! is the zkVM's keccak accelerator when the host asks for it (a software keccak-f costs tens
//! of thousands of cycles, and the trie and the EVM hash constantly), RustCrypto's `keccak`
//! otherwise.

use core::sync::atomic::{AtomicBool, Ordering};

static ACCELERATED: AtomicBool = AtomicBool::new(false);

/// Chooses the permutation for the rest of the run.
pub fn set_accelerated(on: bool) {
    ACCELERATED.store(on, Ordering::Relaxed);
}

fn permute(state: &mut [u64; 25]) {
    if ACCELERATED.load(Ordering::Relaxed) {
        risc0_zkvm::guest::env::risc0_keccak_update(state);
    } else {
        ::keccak::f1600(state);
    }
}

/// Bytes absorbed per permutation for a 256-bit output.
const RATE: usize = 136;

/// # Safety
/// `bytes` points to `len` readable bytes and `output` to 32 writable bytes (the hook's
/// contract in alloy-primitives).
#[no_mangle]
pub unsafe extern "C" fn native_keccak256(bytes: *const u8, len: usize, output: *mut u8) {
    let input = core::slice::from_raw_parts(bytes, len);
    let digest = keccak256(input);
    core::ptr::copy_nonoverlapping(digest.as_ptr(), output, digest.len());
}

fn keccak256(input: &[u8]) -> [u8; 32] {
    let mut state = [0u64; 25];
    let mut blocks = input.chunks_exact(RATE);
    for block in &mut blocks {
        absorb(&mut state, block);
        permute(&mut state);
    }
    // Keccak padding (not SHA-3's): 0x01 after the message, 0x80 on the block's last byte.
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
