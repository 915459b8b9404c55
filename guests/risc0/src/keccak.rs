//! Keccak-256 for `alloy_primitives::keccak256` (its `native-keccak` hook). The permutation
//! is the zkVM's keccak accelerator when the host asks for it (a software keccak-f costs tens
//! of thousands of cycles, and the trie and the EVM hash constantly), RustCrypto's `keccak`
//! otherwise.

use core::sync::atomic::{AtomicBool, Ordering};

use bp_program::keccak_sponge::keccak256_with;

static ACCELERATED: AtomicBool = AtomicBool::new(false);

/// Chooses the permutation for the rest of the run.
pub(crate) fn set_accelerated(on: bool) {
    ACCELERATED.store(on, Ordering::Relaxed);
}

fn permute(state: &mut [u64; 25]) {
    if ACCELERATED.load(Ordering::Relaxed) {
        risc0_zkvm::guest::env::risc0_keccak_update(state);
    } else {
        ::keccak::f1600(state);
    }
}

/// # Safety
/// `bytes` points to `len` readable bytes and `output` to 32 writable bytes (the hook's
/// contract in alloy-primitives).
#[no_mangle]
pub(crate) unsafe extern "C" fn native_keccak256(bytes: *const u8, len: usize, output: *mut u8) {
    let input = core::slice::from_raw_parts(bytes, len);
    let digest = keccak256_with(input, permute);
    core::ptr::copy_nonoverlapping(digest.as_ptr(), output, digest.len());
}
