//! Where batches come from: a directory of program inputs, or a JSON-RPC node being followed.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use bp_input::{ChainConfig, ProgramInput};
use bp_rpc_witness::RpcClient;

use crate::store::{Added, Continuity, Expected, NewBatch, Store, StoreError};
use bp_program::L2Commitments;

/// Why a source could not produce batches this round.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The input directory cannot be listed.
    #[error("reading {path}")]
    Dir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The node did not answer as needed.
    #[error(transparent)]
    Rpc(#[from] bp_rpc_witness::RpcWitnessError),
    /// Consecutive block inputs cannot be joined into one batch.
    #[error("joining blocks {first}..={last}")]
    Join {
        /// First block.
        first: u64,
        /// Last block.
        last: u64,
        /// Why.
        source: bp_witness::JoinError,
    },
    /// An input without blocks.
    #[error("the input has no blocks")]
    NoBlocks,
    /// L2 commitments given for an L1 input, or missing for an L2 one.
    #[error("{}", if *input_is_l2 {
        "an L2 input needs its expected L2 commitments"
    } else {
        "an L1 input has no L2 commitments"
    })]
    L2Commitments {
        /// Whether the input is an L2 batch.
        input_is_l2: bool,
    },
    /// The program refuses the input.
    #[error("the program refuses the input")]
    Program(#[source] bp_program::ProgramError),
    /// The block builder failed.
    #[error("block builder: {0}")]
    Builder(String),
}

impl SourceError {
    /// Whether polling again cannot cure it: the same blocks give the same refusal, so the
    /// source stops (and `/health` says so) instead of retrying forever.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::Program(_)
                | Self::Join { .. }
                | Self::NoBlocks
                | Self::L2Commitments { .. }
                | Self::Rpc(bp_rpc_witness::RpcWitnessError::UnknownChain(_))
        )
    }
}

/// A producer of batches, polled by the coordinator.
pub trait BatchSource: Send {
    /// For logs.
    fn describe(&self) -> String;
    /// Stores every batch that is ready now; returns how many were added.
    fn poll(&mut self, store: &Store) -> Result<usize, SourceError>;
}

/// Milliseconds since the Unix epoch: the clock of every stored time and expiry.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A batch record for `input`. What its proof must establish comes from the input's own
/// headers and chain configuration, and for an L2 batch from `l2`: its commitments as the
/// block builder that made it knows them (they need the blob and the executed state).
pub fn new_batch(source: String, input: &ProgramInput, l2: Option<L2Commitments>) -> Result<NewBatch, SourceError> {
    if input.l2.is_some() != l2.is_some() {
        return Err(SourceError::L2Commitments { input_is_l2: input.l2.is_some() });
    }
    let first = input.blocks.first().ok_or(SourceError::NoBlocks)?;
    let last = input.blocks.last().ok_or(SourceError::NoBlocks)?;
    let transactions = input.blocks.iter().flat_map(|b| b.body.transactions.iter());
    Ok(NewBatch {
        source,
        first_block: first.header.number,
        last_block: last.header.number,
        gas_used: input.blocks.iter().map(|b| b.header.gas_used).sum(),
        expected: Expected {
            initial_state_root: input.parent_header.state_root,
            final_state_root: last.header.state_root,
            parent_block_hash: input.parent_header.hash_slow(),
            last_block_hash: last.header.hash_slow(),
            chain_id: input.chain.chain_id,
            chain_config_hash: input.chain.hash(),
            tx_count: transactions.filter(|tx| tx.as_privileged().is_none()).count() as u64,
            l2,
        },
        input: input.to_binary(),
        blob_opening: None,
    })
}

/// Stores `batch`, saying so, and saying so louder when it does not continue the previous one.
fn add(store: &Store, batch: &NewBatch) -> Result<u64, SourceError> {
    let added = store.add_batch(batch, now_ms())?;
    if let Added::New { number, follows } = added {
        tracing::info!(
            batch = number,
            source = %batch.source,
            blocks = %format!("{}..={}", batch.first_block, batch.last_block),
            gas = batch.gas_used,
            input_bytes = batch.input.len(),
            "batch added"
        );
        if let Continuity::Gap { previous_last_block_hash } = follows {
            tracing::warn!(
                batch = number,
                source = %batch.source,
                parent = %batch.expected.parent_block_hash,
                previous_last_block = %previous_last_block_hash,
                "batch does not start where the previous batch ended (fine for independent L1 blocks)"
            );
        }
    }
    Ok(added.number())
}

/// Every file in a directory is one batch: any input format `blockprover execute` reads (plain,
/// .gz or .zst), taken in file-name order. New files are picked up on every poll; a file that
/// cannot be read is reported once (again if it changes) and skipped.
#[derive(Debug)]
pub struct DirSource {
    dir: PathBuf,
    chain: Option<ChainConfig>,
    max_input_bytes: u64,
    unreadable: HashMap<PathBuf, (u64, Option<SystemTime>)>,
}

impl DirSource {
    /// A source over `dir`; `chain` overrides the rules the inputs name or imply. Files of more
    /// than [`bp_formats::DEFAULT_MAX_INPUT_BYTES`] (decompressed) are refused.
    pub fn new(dir: &Path, chain: Option<ChainConfig>) -> Self {
        let max_input_bytes = bp_formats::DEFAULT_MAX_INPUT_BYTES;
        Self { dir: dir.to_path_buf(), chain, max_input_bytes, unreadable: HashMap::new() }
    }

    /// Refuses files of more than `limit` bytes, decompressed.
    pub fn with_max_input_bytes(mut self, limit: u64) -> Self {
        self.max_input_bytes = limit;
        self
    }
}

impl BatchSource for DirSource {
    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }

    fn poll(&mut self, store: &Store) -> Result<usize, SourceError> {
        let dir_err = |source| SourceError::Dir { path: self.dir.display().to_string(), source };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(dir_err)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or(".");
                // Hidden files and files still being written (`x.partial`, `x.tmp`) are not inputs yet.
                !name.starts_with('.') && !name.ends_with(".partial") && !name.ends_with(".tmp") && path.is_file()
            })
            .collect();
        files.sort();
        let mut added = 0;
        for path in files {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            let source = format!("file:{name}");
            if store.has_source(&source)? {
                continue;
            }
            let stamp = std::fs::metadata(&path).map(|m| (m.len(), m.modified().ok())).unwrap_or((0, None));
            if self.unreadable.get(&path) == Some(&stamp) {
                continue;
            }
            let loaded = match bp_formats::load(&path, self.chain.as_ref(), self.max_input_bytes) {
                Ok(loaded) => loaded,
                Err(e) => {
                    tracing::warn!(file = %path.display(), "not a program input, skipped: {e}");
                    self.unreadable.insert(path, stamp);
                    continue;
                }
            };
            let batch = match dir_batch(source, &loaded.input) {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::warn!(file = %path.display(), "skipped: {e}");
                    self.unreadable.insert(path, stamp);
                    continue;
                }
            };
            match add(store, &batch) {
                Ok(_) => added += 1,
                Err(SourceError::Store(e @ StoreError::Duplicate { .. })) => {
                    tracing::warn!(file = %path.display(), "skipped: {e}");
                    self.unreadable.insert(path, stamp);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(added)
    }
}

/// A directory's L2 input carries no record of its withdrawals, so it is executed once at
/// ingest to learn them; its state-diff hash must then match its own blob commitment.
fn dir_batch(source: String, input: &ProgramInput) -> Result<NewBatch, SourceError> {
    if input.l2.is_none() {
        return new_batch(source, input, None);
    }
    let output = bp_program::execute_input(input).map_err(SourceError::Program)?;
    new_batch(source, input, output.l2)
}

/// Follows a JSON-RPC node: once `blocks_per_batch` new blocks exist, their inputs are built
/// (`debug_executionWitness`, or `eth_getProof` with the prestate tracer) and joined into a
/// batch. Batches continue from the last stored block, so a restart neither skips nor repeats.
#[derive(Debug)]
pub struct RpcSource {
    client: RpcClient,
    chain: ChainConfig,
    blocks_per_batch: u64,
    from_block: Option<u64>,
}

impl RpcSource {
    /// `from_block`: where to start when the store has no batch yet (default: the block after
    /// the node's head at the first poll).
    pub fn new(client: RpcClient, chain: ChainConfig, blocks_per_batch: u64, from_block: Option<u64>) -> Self {
        Self { client, chain, blocks_per_batch: blocks_per_batch.max(1), from_block }
    }
}

impl BatchSource for RpcSource {
    fn describe(&self) -> String {
        format!("node {} ({} blocks per batch)", self.client.url(), self.blocks_per_batch)
    }

    fn poll(&mut self, store: &Store) -> Result<usize, SourceError> {
        let head = bp_rpc_witness::block_number(&self.client)?;
        let mut next = match (store.next_block()?, self.from_block) {
            (Some(next), _) => next,
            (None, Some(from)) => from,
            (None, None) => {
                self.from_block = Some(head + 1);
                tracing::info!(from_block = head + 1, "following the node from its next block");
                return Ok(0);
            }
        };
        let mut added = 0;
        while next + self.blocks_per_batch - 1 <= head {
            let last = next + self.blocks_per_batch - 1;
            let source = format!("rpc:{next}..={last}");
            if store.has_source(&source)? {
                next = last + 1;
                continue;
            }
            let mut inputs = Vec::new();
            for number in next..=last {
                let (input, report) = bp_rpc_witness::build_input(&self.client, number, &self.chain)?;
                tracing::debug!(block = number, path = ?report.path, accounts = report.accounts, "block input built");
                inputs.push(input);
            }
            let input =
                bp_witness::join_inputs(inputs).map_err(|source| SourceError::Join { first: next, last, source })?;
            add(store, &new_batch(source, &input, None)?)?;
            added += 1;
            next = last + 1;
        }
        Ok(added)
    }
}
