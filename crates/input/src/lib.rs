//! What the blocks execution program reads: the blocks, the first block's parent header, the
//! execution witness and the chain configuration. Nothing here executes anything.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod chain;
mod codec;
mod l2;
mod witness;

pub use chain::{default_blob_params, ChainConfig, ChainConfigError, MAINNET_DEPOSIT_CONTRACT};
pub use codec::{
    decode_block, BlockDecodeError, CodecError, MAGIC as BINARY_MAGIC, OLDEST_VERSION as OLDEST_BINARY_VERSION,
    VERSION as BINARY_VERSION,
};
pub use l2::{
    BlockTx, BlockTxType, Bytes48, L2Input, PrivilegedTx, L2_BRIDGE_ADDRESS, MESSENGER_ADDRESS, PRIVILEGED_TX_TYPE,
};
pub use witness::ExecutionWitness;

use alloc::vec::Vec;
use alloy_consensus::{Block, Header};
use serde::{Deserialize, Serialize};

/// A block with its typed transactions (Ethereum's, plus privileged ones on an L2).
pub type EthBlock = Block<BlockTx>;

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
    /// Present for an L2 batch: the state-diff blob commitment and proof. Privileged
    /// transactions are only valid in an L2 batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2: Option<L2Input>,
}
