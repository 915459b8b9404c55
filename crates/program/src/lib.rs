//! The blocks execution program.
//!
//! Given a batch of blocks, the first block's parent header and an execution witness, it
//! authenticates the witness against the parent state root, executes every block with revm
//! under its fork's rules, checks each header against its parent and against the execution
//! results, applies the state changes to the pruned tries and checks every resulting state
//! root. It performs no I/O and needs only `alloc`, so the same code runs in a zkVM guest.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod account;
mod collision;
pub mod cycles;
mod db;
mod error;
mod execute;
mod header;
pub mod keccak_sponge;
pub mod l2;

pub use account::StateAccount;
pub use collision::StorageOracle;
pub use db::{Ancestors, WitnessDb};
pub use error::{BlockError, HeaderError, L2Error, ProgramError, StateError};
pub use execute::{
    execute_batch, execute_input, execute_input_with_probe, run_block, BatchResult, BlockReceipt, BlockResult, NoProbe,
    Phase, Probe,
};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

/// What the program proves about a batch: its public outputs.
///
/// For an L1 batch the three L2 commitments are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramOutput {
    /// State root of the first block's parent: the state the witness was checked against.
    pub initial_state_root: B256,
    /// State root after the last block, equal to the last header's.
    pub final_state_root: B256,
    /// Root of the sorted-pair Merkle tree of the batch's withdrawals (zero if none).
    pub withdrawals_root: B256,
    /// Count-prefixed hash of the batch's deposit hashes (zero if none).
    pub deposits_hash: B256,
    /// EIP-4844 versioned hash of the state-diff blob's commitment (zero for an L1 batch).
    pub state_diff_hash: B256,
    /// Hash of the last block.
    pub last_block_hash: B256,
    /// Chain id the blocks were executed under.
    pub chain_id: u64,
    /// Number of non-privileged transactions in all blocks.
    pub tx_count: u64,
}

/// Size of [`ProgramOutput::to_public_bytes`]: eight 32-byte words.
pub const PUBLIC_OUTPUT_BYTES: usize = 8 * 32;

impl ProgramOutput {
    /// The public outputs as a proof commits them: eight big-endian 32-byte words, in order
    /// initial state root, final state root, withdrawals root, deposits hash, state-diff
    /// versioned hash, last block hash, chain id, non-privileged transactions. A fixed layout,
    /// so a verifier (or an L1 contract) reads it without a decoder.
    pub fn to_public_bytes(&self) -> [u8; PUBLIC_OUTPUT_BYTES] {
        let mut out = [0u8; PUBLIC_OUTPUT_BYTES];
        let words: [B256; 8] = [
            self.initial_state_root,
            self.final_state_root,
            self.withdrawals_root,
            self.deposits_hash,
            self.state_diff_hash,
            self.last_block_hash,
            word(self.chain_id),
            word(self.tx_count),
        ];
        for (chunk, w) in out.chunks_exact_mut(32).zip(words) {
            chunk.copy_from_slice(w.as_slice());
        }
        out
    }

    /// Reads [`Self::to_public_bytes`]; `None` if the length is wrong or a number word does not
    /// fit in 64 bits.
    pub fn from_public_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != PUBLIC_OUTPUT_BYTES {
            return None;
        }
        let w = |i: usize| B256::from_slice(&bytes[i * 32..(i + 1) * 32]);
        let number = |i: usize| {
            let w = w(i);
            w[..24].iter().all(|b| *b == 0).then(|| u64::from_be_bytes(w[24..].try_into().expect("8 bytes")))
        };
        Some(Self {
            initial_state_root: w(0),
            final_state_root: w(1),
            withdrawals_root: w(2),
            deposits_hash: w(3),
            state_diff_hash: w(4),
            last_block_hash: w(5),
            chain_id: number(6)?,
            tx_count: number(7)?,
        })
    }
}

fn word(n: u64) -> B256 {
    let mut w = B256::ZERO;
    w[24..].copy_from_slice(&n.to_be_bytes());
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_bytes_layout() {
        let output = ProgramOutput {
            initial_state_root: B256::repeat_byte(1),
            final_state_root: B256::repeat_byte(2),
            withdrawals_root: B256::repeat_byte(3),
            deposits_hash: B256::repeat_byte(4),
            state_diff_hash: B256::repeat_byte(5),
            last_block_hash: B256::repeat_byte(6),
            chain_id: 0x0102,
            tx_count: 9,
        };
        let bytes = output.to_public_bytes();
        for i in 0..6u8 {
            assert!(bytes[i as usize * 32..(i as usize + 1) * 32].iter().all(|b| *b == i + 1));
        }
        assert_eq!(&bytes[6 * 32 + 30..7 * 32], &[1, 2]);
        assert_eq!(bytes[8 * 32 - 1], 9);
        assert_eq!(ProgramOutput::from_public_bytes(&bytes), Some(output));
        let mut wide = bytes;
        wide[6 * 32] = 1;
        assert_eq!(ProgramOutput::from_public_bytes(&wide), None);
        assert_eq!(ProgramOutput::from_public_bytes(&bytes[1..]), None);
    }
}
