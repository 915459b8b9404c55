//! The node's block loop: on every tick, the deposits the bridge has confirmed, one block of
//! them and of the mempool, and the commit of every batch sealed and not yet on L1.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use bp_devnet::BuilderError;
use tokio_util::sync::CancellationToken;

use crate::{
    l1::{L1Deposits, NodeL1Error, Settler},
    Sequencer,
};

/// Why the block loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The builder refused a block without a transaction to drop (a deposit out of order, a
    /// store that cannot be written).
    #[error("building block {block}: {error}")]
    Builder {
        /// The block being built.
        block: u64,
        /// Why.
        error: BuilderError,
    },
    /// L1 refused for good (a contract's revert, a bad configuration).
    #[error("L1: {0}")]
    L1(#[from] NodeL1Error),
    /// The block-building task ended without an answer.
    #[error("the block builder stopped: {0}")]
    Stopped(String),
}

/// What the node has done, for `/metrics`.
#[derive(Debug, Default)]
pub struct NodeStatus {
    /// The newest block.
    pub head: AtomicU64,
    /// Batches sealed.
    pub sealed: AtomicU64,
    /// The newest batch committed on L1, as far as this node knows.
    pub committed: AtomicU64,
    /// Deposits included in blocks.
    pub deposits: AtomicU64,
    /// Users' transactions included in blocks (this run).
    pub transactions: AtomicU64,
    /// L1 calls that failed and were retried.
    pub l1_errors: AtomicU64,
}

impl NodeStatus {
    /// Prometheus lines: the block loop's gauges.
    pub fn render(&self) -> String {
        let lines = [
            ("blockprover_node_head_block", "The newest L2 block.", &self.head),
            ("blockprover_node_batches_sealed", "L2 batches sealed.", &self.sealed),
            ("blockprover_node_batches_committed", "The newest batch committed on L1.", &self.committed),
            ("blockprover_node_deposits_included", "L1 deposits included in L2 blocks.", &self.deposits),
            ("blockprover_node_transactions_included", "Users' transactions included (this run).", &self.transactions),
            ("blockprover_node_l1_errors_total", "L1 calls that failed and were retried.", &self.l1_errors),
        ];
        let mut out = String::new();
        for (name, help, value) in lines {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Builds a block every `block_time` until `stop` is cancelled: with `settler`, the bridge's
/// confirmed deposits go in first and every sealed batch is committed; without, the chain has
/// users' transactions only. An L1 that cannot be reached is retried on the next tick (the
/// chain goes on without new deposits); a refusal stops the loop.
pub async fn sequence(
    sequencer: Arc<Sequencer>,
    mut settler: Option<Settler>,
    block_time: Duration,
    stop: CancellationToken,
) -> Result<(), NodeError> {
    let status = &sequencer.chain().status;
    let (chain_id, sealed) = {
        let builder = sequencer.chain().builder.lock().unwrap_or_else(|p| p.into_inner());
        (builder.chain().chain_id, builder.sealed().len())
    };
    status.sealed.store(sealed as u64, Ordering::Relaxed);
    let mut feed = L1Deposits::new(chain_id);
    // Batches this run knows are on L1; 0 makes the first tick ask the proposer.
    let mut committed = None;
    let mut ticker = tokio::time::interval(block_time);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = ticker.tick() => {}
        }
        if let Some(settler) = settler.as_mut() {
            match settler.poll_deposits().await {
                Ok(found) => feed.extend(found),
                Err(e) if e.is_transient() => {
                    status.l1_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, "reading the bridge's deposits; the block goes without new ones");
                }
                Err(e) => return Err(NodeL1Error::L1(e).into()),
            }
        }
        let timestamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
        let building = sequencer.clone();
        let (produced, returned) = tokio::task::spawn_blocking(move || {
            let produced = building.produce(&mut feed, timestamp);
            (produced, feed)
        })
        .await
        .map_err(|e| NodeError::Stopped(e.to_string()))?;
        feed = returned;
        let head = {
            let builder = sequencer.chain().builder.lock().unwrap_or_else(|p| p.into_inner());
            builder.head().number
        };
        let produced = produced.map_err(|error| NodeError::Builder { block: head + 1, error })?;
        status.head.store(produced.block, Ordering::Relaxed);
        status.deposits.fetch_add(produced.deposits as u64, Ordering::Relaxed);
        status.transactions.fetch_add(produced.transactions as u64, Ordering::Relaxed);
        if produced.transactions + produced.deposits > 0 {
            tracing::info!(
                block = produced.block,
                txs = produced.transactions,
                deposits = produced.deposits,
                "L2 block built"
            );
        }
        // The coordinator's source logs each sealed batch as it queues it.
        if let Some(index) = produced.sealed {
            status.sealed.store(index as u64 + 1, Ordering::Relaxed);
        }
        let Some(settler) = settler.as_ref() else { continue };
        let sealed = status.sealed.load(Ordering::Relaxed);
        if committed.is_some_and(|committed| committed >= sealed) {
            continue;
        }
        match settler.commit_sealed(&sequencer.chain().builder).await {
            Ok(sent) => {
                committed = Some(sealed);
                if let Some((batch, _)) = sent.last() {
                    status.committed.store(*batch, Ordering::Relaxed);
                } else {
                    status.committed.store(sealed, Ordering::Relaxed);
                }
            }
            Err(NodeL1Error::L1(e)) if e.is_transient() => {
                status.l1_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "committing on L1; retried on the next block");
            }
            Err(e) => return Err(e.into()),
        }
    }
}
