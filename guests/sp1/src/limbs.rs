//! 256-bit numbers as SP1's syscalls take them: `u64` limbs, least significant first, at an
//! 8-byte-aligned address (the executor refuses others). The shared crates use `[u32; 8]`
//! words in the same order, so a conversion is a re-pairing of words, not a byte shuffle.

/// Eight-byte-aligned limbs: `K` = 4 for one number, 8 for two in a row (a point, an Fp2
/// element, or a factor followed by its modulus).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(8))]
pub(crate) struct Limbs<const K: usize>(pub(crate) [u64; K]);

pub(crate) use bp_secp256k1::Words;

/// a · b mod m on the 256-bit modular multiplication precompile, whose output the circuit
/// range-checks below m (m non-zero).
pub(crate) fn mul_mod(a: &Words, b: &Words, m: &Words) -> Words {
    let mut product = Limbs::from_words(a);
    let factor_and_modulus = Limbs::pair(b, m);
    // a is replaced by a · b mod m, read from b and m in a row.
    sp1_zkvm::syscalls::syscall_uint256_mulmod(&mut product.0, factor_and_modulus.0.as_ptr().cast());
    product.words()
}

impl Limbs<4> {
    pub(crate) fn from_words(words: &Words) -> Self {
        Self(core::array::from_fn(|i| u64::from(words[2 * i]) | u64::from(words[2 * i + 1]) << 32))
    }

    pub(crate) fn words(&self) -> Words {
        core::array::from_fn(|i| (self.0[i / 2] >> (32 * (i % 2))) as u32)
    }
}

impl Limbs<8> {
    pub(crate) fn pair(low: &Words, high: &Words) -> Self {
        let (low, high) = (Limbs::from_words(low).0, Limbs::from_words(high).0);
        Self(core::array::from_fn(|i| if i < 4 { low[i] } else { high[i - 4] }))
    }

    pub(crate) fn halves(&self) -> [Words; 2] {
        let half = |start: usize| Limbs::<4>(core::array::from_fn(|i| self.0[start + i])).words();
        [half(0), half(4)]
    }
}
