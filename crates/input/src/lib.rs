//! What the blocks execution program reads: the blocks, the first block's parent header, the
//! execution witness and the chain configuration. Nothing here executes anything.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod chain;
mod codec;
mod witness;

pub use chain::{default_blob_params, ChainConfig, ChainConfigError, MAINNET_DEPOSIT_CONTRACT};
pub use codec::{CodecError, MAGIC as BINARY_MAGIC, VERSION as BINARY_VERSION};
pub use witness::ExecutionWitness;

use alloc::vec::Vec;
use alloy_consensus::{Block, Header, TxEnvelope};
use serde::{Deserialize, Serialize};

/// An Ethereum block with its typed transactions.
pub type EthBlock = Block<TxEnvelope>;

/// Everything the program needs to execute and check a batch of consecutive blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramInput {
    /// Consecutive blocks, oldest first; the first one's parent is `parent_header`.
    pub blocks: Vec<EthBlock>,
    /// Header of the block before `blocks[0]`; its state root is the initial state root.
    pub parent_header: Header,
    /// Pre-state trie nodes, bytecodes and ancestor headers the batch touches.
    pub witness: ExecutionWitness,
    /// Chain id, fork activations and blob schedule.
    pub chain: ChainConfig,
}
