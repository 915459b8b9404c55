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
mod db;
mod error;
mod execute;
mod header;

pub use account::StateAccount;
pub use db::{Ancestors, WitnessDb};
pub use error::{BlockError, HeaderError, ProgramError, StateError};
pub use execute::{execute_batch, execute_input, execute_input_with_probe, BatchResult, NoProbe, Phase, Probe};

use alloy_primitives::B256;
use serde::{Deserialize, Serialize};

/// What the program proves about a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramOutput {
    /// State root of the first block's parent: the state the witness was checked against.
    pub initial_state_root: B256,
    /// State root after the last block, equal to the last header's.
    pub final_state_root: B256,
    /// Hash of the last block.
    pub last_block_hash: B256,
    /// Chain id the blocks were executed under.
    pub chain_id: u64,
    /// Gas used by all blocks.
    pub gas_used: u64,
    /// Number of transactions in all blocks.
    pub tx_count: u64,
}

/// Size of [`ProgramOutput::to_public_bytes`]: six 32-byte words.
pub const PUBLIC_OUTPUT_BYTES: usize = 6 * 32;

impl ProgramOutput {
    /// The public outputs as a proof commits them: six big-endian 32-byte words, in order
    /// initial state root, final state root, last block hash, chain id, gas used, transactions.
    /// A fixed layout, so a verifier (or an L1 contract) reads it without a decoder.
    pub fn to_public_bytes(&self) -> [u8; PUBLIC_OUTPUT_BYTES] {
        let mut out = [0u8; PUBLIC_OUTPUT_BYTES];
        let words: [B256; 6] = [
            self.initial_state_root,
            self.final_state_root,
            self.last_block_hash,
            word(self.chain_id),
            word(self.gas_used),
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
            last_block_hash: w(2),
            chain_id: number(3)?,
            gas_used: number(4)?,
            tx_count: number(5)?,
        })
    }
}

fn word(n: u64) -> B256 {
    let mut w = B256::ZERO;
    w[24..].copy_from_slice(&n.to_be_bytes());
    w
}
