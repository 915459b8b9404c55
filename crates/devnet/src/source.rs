//! The builder as a coordinator batch source.

use std::sync::{Arc, Mutex};

use bp_coordinator::{new_batch, now_ms, Added, BatchSource, BlobOpening, SourceError, Store};

use crate::Builder;

/// Builds one batch per poll until `target` batches exist, and hands every sealed batch to the
/// coordinator's store (again after a restart: adding a known batch is a no-op), with its blob
/// opening so that a settling coordinator can have it verified on L1.
#[derive(Debug)]
pub struct DevnetSource {
    builder: Arc<Mutex<Builder>>,
    target: usize,
    blocks_per_batch: u64,
    handed: usize,
}

impl DevnetSource {
    /// Builds batches of `blocks_per_batch` blocks with `builder` until `target` exist.
    pub fn new(builder: Arc<Mutex<Builder>>, target: usize, blocks_per_batch: u64) -> Self {
        Self { builder, target, blocks_per_batch, handed: 0 }
    }

    /// Hands over the batches someone else builds with `builder` (the devnet with an L1, whose
    /// deposits come from L1 transactions), building none itself.
    pub fn hand_over(builder: Arc<Mutex<Builder>>) -> Self {
        Self { builder, target: 0, blocks_per_batch: 0, handed: 0 }
    }
}

/// The store's name for a devnet batch.
pub fn source_name(first: u64, last: u64) -> String {
    format!("l2:{first}-{last}")
}

impl BatchSource for DevnetSource {
    fn describe(&self) -> String {
        if self.target == 0 {
            return "devnet builder (batches built with L1 deposits)".into();
        }
        format!("devnet builder ({} batches of {} blocks)", self.target, self.blocks_per_batch)
    }

    fn poll(&mut self, store: &Store) -> Result<usize, SourceError> {
        let mut builder = self.builder.lock().unwrap_or_else(|p| p.into_inner());
        if builder.sealed().len() < self.target && self.handed == builder.sealed().len() {
            if let Err(e) = builder.build_batch(self.blocks_per_batch) {
                return Err(SourceError::Builder(e.to_string()));
            }
        }
        let mut added = 0;
        for sealed in &builder.sealed()[self.handed..] {
            let name = source_name(sealed.first_block, sealed.last_block);
            let mut batch = new_batch(name, &sealed.input, sealed.expected.l2)?;
            batch.gas_used = sealed.gas_used;
            batch.blob_opening =
                Some(BlobOpening { commitment: sealed.blob.commitment, proof: sealed.blob.opening_proof });
            // A batch reloaded after a restart was stored before: only new ones are news.
            let Added::New { number, .. } = store.add_batch(&batch, now_ms())? else { continue };
            tracing::info!(
                batch = number,
                blocks = %format!("{}..={}", sealed.first_block, sealed.last_block),
                txs = sealed.transactions,
                deposits = sealed.deposits,
                withdrawals = sealed.withdrawals,
                gas = sealed.gas_used,
                state_diff_bytes = sealed.state_diff_bytes,
                "L2 batch sealed"
            );
            added += 1;
        }
        self.handed = builder.sealed().len();
        Ok(added)
    }
}
