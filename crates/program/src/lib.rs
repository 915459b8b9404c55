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
