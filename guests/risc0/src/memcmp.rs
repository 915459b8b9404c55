//! `memcmp` a word at a time when both operands are word-aligned. The one linked otherwise
//! (compiler_builtins', weak) compares byte by byte, seven instructions a byte, and hash-map
//! lookups compare 32-byte hashes and 20-byte addresses all the time: a million and a half
//! cycles of a mainnet block. Hashes in the trie and in hash-map buckets are word-aligned.

/// # Safety
/// `a` and `b` point to `n` readable bytes each (the C contract).
#[no_mangle]
pub(crate) unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    if (a as usize | b as usize) % 4 == 0 {
        // Equal words are skipped; the first unequal one is ordered byte by byte below.
        while i + 4 <= n && a.add(i).cast::<u32>().read() == b.add(i).cast::<u32>().read() {
            i += 4;
        }
    }
    while i < n {
        let (x, y) = (*a.add(i), *b.add(i));
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}
