//! The public outputs: what a proof of the program establishes, as fixed 32-byte words.
//!
//! This is the one definition of the layout. Backends commit [`ProgramOutput::to_public_bytes`],
//! the coordinator stores and compares those bytes, and an L1 contract rebuilds the same words
//! from what it knows (docs/l2.md has the table and a vector).

use alloy_primitives::{B256, U256};
use serde::{Deserialize, Serialize};

/// What the program proves about an L2 batch beyond the state transition. (Its default, all
/// zero, is what the L2 words of an L1 batch hold.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct L2Commitments {
    /// Root of the sorted-pair Merkle tree of the batch's withdrawals (zero if none).
    pub withdrawals_root: B256,
    /// Count-prefixed hash of the batch's deposit hashes (zero if none).
    pub deposits_hash: B256,
    /// EIP-4844 versioned hash of the state-diff blob's commitment (never zero: its first byte
    /// is the version, 0x01).
    pub state_diff_hash: B256,
    /// The point at which the program evaluated the blob's polynomial: `keccak256(versioned
    /// hash ‖ keccak256(state diff))` modulo the BLS12-381 scalar field order.
    pub blob_z: B256,
    /// The blob's polynomial at `blob_z`, which the L1 contract checks against the posted blob
    /// with the point-evaluation precompile.
    pub blob_y: B256,
}

/// What the program proves about a batch: its public outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramOutput {
    /// State root of the first block's parent: the state the witness was checked against.
    pub initial_state_root: B256,
    /// State root after the last block, equal to the last header's.
    pub final_state_root: B256,
    /// Hash of the first block's parent header. Consecutive batches chain by block hash as well
    /// as by state root, and every field of the parent the blocks were checked against
    /// (number, timestamp, gas limit, base fee, blob gas, ancestry) is bound by it.
    pub parent_block_hash: B256,
    /// Hash of the last block.
    pub last_block_hash: B256,
    /// Chain id the blocks were executed under.
    pub chain_id: u64,
    /// `keccak256` of the canonical encoding of the whole chain configuration the blocks were
    /// executed under (fork activations, blob schedule, deposit contract, chain id):
    /// [`bp_input::ChainConfig::hash`].
    pub chain_config_hash: B256,
    /// Number of non-privileged transactions in all blocks.
    pub tx_count: u64,
    /// The L2 commitments; `None` for a batch executed as L1 blocks. (In JSON its fields sit
    /// beside the others, absent for an L1 batch.)
    #[serde(flatten)]
    pub l2: Option<L2Commitments>,
}

/// Number of 32-byte words in the public outputs.
pub const OUTPUT_WORDS: usize = 13;

/// Size of [`ProgramOutput::to_public_bytes`].
pub const PUBLIC_OUTPUT_BYTES: usize = OUTPUT_WORDS * 32;

/// A word of the public outputs, in layout order: its index is its position. The one list of
/// the words; the L1 contract's `wordName` is checked against it (crates/l1/tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum OutputWord {
    /// The first block's parent's state root.
    InitialStateRoot,
    /// The last block's state root.
    FinalStateRoot,
    /// The first block's parent's hash.
    ParentBlockHash,
    /// The last block's hash.
    LastBlockHash,
    /// The chain id.
    ChainId,
    /// The chain configuration hash.
    ChainConfigHash,
    /// The non-privileged transaction count.
    TxCount,
    /// The batch kind (L1 0, L2 1).
    BatchKind,
    /// The withdrawals root.
    WithdrawalsRoot,
    /// The deposits hash.
    DepositsHash,
    /// The state-diff blob's versioned hash.
    StateDiffHash,
    /// The blob evaluation point.
    BlobZ,
    /// The blob evaluation.
    BlobY,
}

impl OutputWord {
    /// Every word, in layout order.
    pub const ALL: [OutputWord; OUTPUT_WORDS] = [
        Self::InitialStateRoot,
        Self::FinalStateRoot,
        Self::ParentBlockHash,
        Self::LastBlockHash,
        Self::ChainId,
        Self::ChainConfigHash,
        Self::TxCount,
        Self::BatchKind,
        Self::WithdrawalsRoot,
        Self::DepositsHash,
        Self::StateDiffHash,
        Self::BlobZ,
        Self::BlobY,
    ];

    /// Its position in the layout.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Its name in reports, the CLI and the L1 contract's revert reasons.
    pub const fn name(self) -> &'static str {
        match self {
            Self::InitialStateRoot => "initial state root",
            Self::FinalStateRoot => "final state root",
            Self::ParentBlockHash => "parent block hash",
            Self::LastBlockHash => "last block hash",
            Self::ChainId => "chain id",
            Self::ChainConfigHash => "chain config hash",
            Self::TxCount => "transaction count",
            Self::BatchKind => "batch kind",
            Self::WithdrawalsRoot => "withdrawals root",
            Self::DepositsHash => "deposits hash",
            Self::StateDiffHash => "state diff hash",
            Self::BlobZ => "blob evaluation point",
            Self::BlobY => "blob evaluation",
        }
    }
}

impl core::fmt::Display for OutputWord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Two outputs that differ, at their first differing word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the {word} is {got}, expected {expected}")]
pub struct WordMismatch {
    /// The word.
    pub word: OutputWord,
    /// Its value in the output compared.
    pub got: B256,
    /// Its value in the output compared against.
    pub expected: B256,
}

/// The `batch kind` word of an L1 batch.
pub const BATCH_KIND_L1: u64 = 0;
/// The `batch kind` word of an L2 batch.
pub const BATCH_KIND_L2: u64 = 1;

/// Public output bytes that are not a [`ProgramOutput`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutputDecodeError {
    /// The byte string is not [`PUBLIC_OUTPUT_BYTES`] long.
    #[error("public outputs are {got} bytes, expected {PUBLIC_OUTPUT_BYTES}")]
    Length {
        /// The length given.
        got: usize,
    },
    /// A number word does not fit in 64 bits.
    #[error("the {word} word does not fit in 64 bits")]
    NumberTooLarge {
        /// Which word.
        word: OutputWord,
    },
    /// The batch kind word is neither L1 (0) nor L2 (1).
    #[error("batch kind {0} is neither L1 (0) nor L2 (1)")]
    BatchKind(u64),
    /// An L1 batch with a non-zero L2 word.
    #[error("an L1 batch has a non-zero {word} word")]
    L2WordInL1Batch {
        /// Which word.
        word: OutputWord,
    },
}

fn number_word(n: u64) -> B256 {
    B256::from(U256::from(n))
}

impl ProgramOutput {
    /// The `batch kind` word's value.
    pub fn batch_kind(&self) -> u64 {
        if self.l2.is_some() {
            BATCH_KIND_L2
        } else {
            BATCH_KIND_L1
        }
    }

    /// The words in layout order ([`OutputWord`]); numbers are big-endian, the L2 words
    /// of an L1 batch zero.
    pub fn words(&self) -> [B256; OUTPUT_WORDS] {
        let l2 = self.l2.unwrap_or_default();
        [
            self.initial_state_root,
            self.final_state_root,
            self.parent_block_hash,
            self.last_block_hash,
            number_word(self.chain_id),
            self.chain_config_hash,
            number_word(self.tx_count),
            number_word(self.batch_kind()),
            l2.withdrawals_root,
            l2.deposits_hash,
            l2.state_diff_hash,
            l2.blob_z,
            l2.blob_y,
        ]
    }

    /// Reads [`Self::words`], refusing words no run of the program commits.
    pub fn from_words(words: &[B256; OUTPUT_WORDS]) -> Result<Self, OutputDecodeError> {
        let number = |i: usize| {
            let value = U256::from_be_bytes(words[i].0);
            u64::try_from(value).map_err(|_| OutputDecodeError::NumberTooLarge { word: OutputWord::ALL[i] })
        };
        let l2 = match number(7)? {
            BATCH_KIND_L1 => {
                if let Some(i) = (8..OUTPUT_WORDS).find(|i| !words[*i].is_zero()) {
                    return Err(OutputDecodeError::L2WordInL1Batch { word: OutputWord::ALL[i] });
                }
                None
            }
            BATCH_KIND_L2 => Some(L2Commitments {
                withdrawals_root: words[8],
                deposits_hash: words[9],
                state_diff_hash: words[10],
                blob_z: words[11],
                blob_y: words[12],
            }),
            other => return Err(OutputDecodeError::BatchKind(other)),
        };
        Ok(Self {
            initial_state_root: words[0],
            final_state_root: words[1],
            parent_block_hash: words[2],
            last_block_hash: words[3],
            chain_id: number(4)?,
            chain_config_hash: words[5],
            tx_count: number(6)?,
            l2,
        })
    }

    /// The public outputs as a proof commits them: [`Self::words`] concatenated. A fixed layout,
    /// so a verifier (or an L1 contract) reads it without a decoder.
    pub fn to_public_bytes(&self) -> [u8; PUBLIC_OUTPUT_BYTES] {
        let mut out = [0u8; PUBLIC_OUTPUT_BYTES];
        for (chunk, word) in out.chunks_exact_mut(32).zip(self.words()) {
            chunk.copy_from_slice(word.as_slice());
        }
        out
    }

    /// Reads [`Self::to_public_bytes`].
    pub fn from_public_bytes(bytes: &[u8]) -> Result<Self, OutputDecodeError> {
        if bytes.len() != PUBLIC_OUTPUT_BYTES {
            return Err(OutputDecodeError::Length { got: bytes.len() });
        }
        let mut words = [B256::ZERO; OUTPUT_WORDS];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(32)) {
            *word = B256::from_slice(chunk);
        }
        Self::from_words(&words)
    }

    /// The first word in which `self` (got) differs from `expected`.
    pub fn first_difference(&self, expected: &Self) -> Option<WordMismatch> {
        let (got, expected) = (self.words(), expected.words());
        OutputWord::ALL.into_iter().find(|w| got[w.index()] != expected[w.index()]).map(|word| WordMismatch {
            word,
            got: got[word.index()],
            expected: expected[word.index()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l2_output() -> ProgramOutput {
        ProgramOutput {
            initial_state_root: B256::repeat_byte(1),
            final_state_root: B256::repeat_byte(2),
            parent_block_hash: B256::repeat_byte(3),
            last_block_hash: B256::repeat_byte(4),
            chain_id: 0x0102,
            chain_config_hash: B256::repeat_byte(6),
            tx_count: 9,
            l2: Some(L2Commitments {
                withdrawals_root: B256::repeat_byte(8),
                deposits_hash: B256::repeat_byte(9),
                state_diff_hash: B256::repeat_byte(10),
                blob_z: B256::repeat_byte(11),
                blob_y: B256::repeat_byte(12),
            }),
        }
    }

    #[test]
    fn layout_and_round_trip() {
        let output = l2_output();
        let bytes = output.to_public_bytes();
        let word = |i: usize| &bytes[i * 32..(i + 1) * 32];
        for (i, fill) in [(0, 1u8), (1, 2), (2, 3), (3, 4), (5, 6), (8, 8), (9, 9), (10, 10), (11, 11), (12, 12)] {
            assert!(word(i).iter().all(|b| *b == fill), "word {i}");
        }
        assert_eq!(word(4)[30..], [1, 2]);
        assert!(word(4)[..30].iter().all(|b| *b == 0));
        assert_eq!(word(6)[31], 9);
        assert_eq!(word(7)[31], 1);
        assert_eq!(ProgramOutput::from_public_bytes(&bytes), Ok(output));

        let l1 = ProgramOutput { l2: None, ..output };
        let l1_bytes = l1.to_public_bytes();
        assert!(l1_bytes[7 * 32..].iter().all(|b| *b == 0), "kind 0 and zero L2 words");
        assert_eq!(ProgramOutput::from_public_bytes(&l1_bytes), Ok(l1));
    }

    #[test]
    fn refuses_what_no_run_commits() {
        let bytes = l2_output().to_public_bytes();
        assert_eq!(ProgramOutput::from_public_bytes(&bytes[1..]), Err(OutputDecodeError::Length { got: 415 }));
        let mut wide = bytes;
        wide[4 * 32] = 1;
        assert_eq!(
            ProgramOutput::from_public_bytes(&wide),
            Err(OutputDecodeError::NumberTooLarge { word: OutputWord::ChainId })
        );
        let mut kind = bytes;
        kind[8 * 32 - 1] = 2;
        assert_eq!(ProgramOutput::from_public_bytes(&kind), Err(OutputDecodeError::BatchKind(2)));
        let mut l1_with_l2_word = bytes;
        l1_with_l2_word[8 * 32 - 1] = 0;
        assert_eq!(
            ProgramOutput::from_public_bytes(&l1_with_l2_word),
            Err(OutputDecodeError::L2WordInL1Batch { word: OutputWord::WithdrawalsRoot })
        );
    }

    #[test]
    fn first_difference_names_the_word() {
        let a = l2_output();
        assert_eq!(a.first_difference(&a), None);
        let b = ProgramOutput { tx_count: 10, ..a };
        let mismatch = WordMismatch { word: OutputWord::TxCount, got: number_word(9), expected: number_word(10) };
        assert_eq!(a.first_difference(&b), Some(mismatch));
        let l1 = ProgramOutput { l2: None, ..a };
        assert_eq!(a.first_difference(&l1).map(|m| m.word), Some(OutputWord::BatchKind));
    }

    #[test]
    fn words_are_in_layout_order() {
        for (i, word) in OutputWord::ALL.into_iter().enumerate() {
            assert_eq!(word.index(), i);
        }
        assert_eq!(OutputWord::BlobY.index(), OUTPUT_WORDS - 1);
    }
}
