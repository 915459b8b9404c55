//! The L2 node's parts: the [`Mempool`] users send transactions to, the [`Sequencer`] that
//! builds blocks of them (and of the L1's deposits) on the devnet builder and seals batches,
//! and the L2 JSON-RPC ([`rpc`]) that wallets and foundry's `cast` talk to.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod claim;
pub mod eth;
pub mod l1;
pub mod pool;
pub mod rpc;
pub mod run;

use std::sync::Arc;

use bp_devnet::{BuilderError, DepositFeed, DEPOSIT_GAS_PER_BLOCK, GAS_LIMIT};
use bp_input::BlockTx;

pub use eth::{Chain, RpcError, Settlement};
pub use l1::{Connected, L1Deposits, L1File, L1Keys, L1Target, NodeL1Error, Settler};
pub use pool::{Mempool, PoolError};
pub use run::{sequence, NodeError, NodeStatus};

/// Gas a block gives users' transactions: what deposits do not take. A full block can still
/// write more state diff than one blob holds (about 175 gas a byte at the cheapest); such a
/// block is refused by the builder ([`BuilderError::StateDiffTooLarge`]).
pub const TX_GAS_PER_BLOCK: u64 = GAS_LIMIT - DEPOSIT_GAS_PER_BLOCK;

/// What one block step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Produced {
    /// The new block's number.
    pub block: u64,
    /// Users' transactions in it.
    pub transactions: usize,
    /// Deposits in it.
    pub deposits: usize,
    /// The batch sealed in this step, if one was.
    pub sealed: Option<usize>,
}

/// Builds blocks from the mempool and a deposit feed, and seals batches.
#[derive(Debug)]
pub struct Sequencer {
    chain: Arc<Chain>,
    blocks_per_batch: u64,
}

impl Sequencer {
    /// A sequencer on `chain` sealing a batch every `blocks_per_batch` blocks.
    pub fn new(chain: Arc<Chain>, blocks_per_batch: u64) -> Self {
        Self { chain, blocks_per_batch: blocks_per_batch.max(1) }
    }

    /// The chain it builds.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// Builds the next block at `timestamp` (at least its parent's + 1) from the deposits
    /// `feed` gives and the mempool's transactions, and seals the open batch once it has its
    /// blocks. A transaction the block refuses (it became invalid after it was admitted) is
    /// dropped from the pool and the block is built without it.
    pub fn produce(&self, feed: &mut dyn DepositFeed, timestamp: u64) -> Result<Produced, BuilderError> {
        let mut builder = self.chain.builder.lock().unwrap_or_else(|p| p.into_inner());
        let head = builder.head().clone();
        let number = head.number + 1;
        let timestamp = timestamp.max(head.timestamp + 1);
        let deposits = feed.deposits(number, builder.deposits_made()).map_err(BuilderError::Deposits)?;
        let base_fee = eth::next_base_fee(&head);
        let mut selected = {
            let pool = self.chain.pool.lock().unwrap_or_else(|p| p.into_inner());
            pool.select(builder.state(), base_fee, TX_GAS_PER_BLOCK)
        };
        let block_txs = |selected: &[pool::PoolTx]| -> Vec<BlockTx> {
            deposits
                .iter()
                .cloned()
                .map(BlockTx::Privileged)
                .chain(selected.iter().map(|t| BlockTx::Ethereum(t.envelope.clone())))
                .collect()
        };
        let mut sealed = loop {
            match builder.push_block(block_txs(&selected), timestamp) {
                Ok(sealed) => break sealed,
                Err(BuilderError::Block { error, .. }) if !selected.is_empty() => {
                    // Drop the last transaction and try again: one refused transaction costs
                    // a rebuild per transaction after it, and only then.
                    let dropped = selected.pop().expect("not empty");
                    tracing::warn!(hash = %dropped.hash, %error, "a block refused a pooled transaction; dropped");
                    self.chain.pool.lock().unwrap_or_else(|p| p.into_inner()).remove(&dropped.hash);
                }
                Err(e) => return Err(e),
            }
        };
        if sealed.is_none() && builder.open_blocks() as u64 >= self.blocks_per_batch {
            sealed = Some(builder.seal_open()?);
        }
        // Indexed under the same lock and before pruned from the pool: a block is never visible
        // without its receipts, nor a transaction being mined missing from both the pool and
        // its block (wallets such as cast poll by hash and give up on a null).
        self.chain.index_blocks(&builder);
        self.chain.pool.lock().unwrap_or_else(|p| p.into_inner()).prune(builder.state());
        drop(builder);
        Ok(Produced { block: number, transactions: selected.len(), deposits: deposits.len(), sealed })
    }
}
