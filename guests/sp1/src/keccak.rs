//! Keccak-256 for `alloy_primitives::keccak256` (its `native-keccak` hook) on SP1's keccak-f
//! precompile: the trie and the EVM hash constantly, and a software permutation costs tens of
//! thousands of cycles. The precompile is a chip of SP1's core machine, so it is proved like
//! any instruction.

use bp_program::keccak_sponge::keccak256_with;

fn permute(state: &mut [u64; 25]) {
    sp1_zkvm::syscalls::syscall_keccak_permute(state);
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
