//! Joining single-block inputs into one batch input.
//!
//! Block N+1's witness is against the state after block N. Every node it needs is either one
//! block N changed (the program has rebuilt it in memory by then) or one block N left alone (then
//! it is also a node of the batch's initial state, with the same hash). So the union of the
//! blocks' witnesses covers the batch; one recording run over the joined blocks cuts it to what
//! the batch resolves against its initial state.

use alloy_consensus::Header;
use alloy_primitives::{map::B256Map, B256};
use alloy_rlp::Decodable;
use bp_input::ProgramInput;
use bp_trie::MapSource;

use crate::{
    record::{hash_codes, record},
    BuildError,
};

/// Why inputs cannot be joined.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// Nothing to join.
    #[error("no inputs to join")]
    Empty,
    /// An input that does not start right after the previous one ends.
    #[error("input {index} does not continue the previous one (block {number} after block {previous})")]
    NotConsecutive {
        /// Position of the input.
        index: usize,
        /// Its first block.
        number: u64,
        /// The previous input's last block.
        previous: u64,
    },
    /// An input without blocks.
    #[error("input {index} has no blocks")]
    NoBlocks {
        /// Position of the input.
        index: usize,
    },
    /// An input under other chain rules than the first (compared by configuration hash).
    #[error("input {index} is for chain configuration {got}, the first for {expected}")]
    ChainMismatch {
        /// Position of the input.
        index: usize,
        /// The first input's configuration hash.
        expected: B256,
        /// This input's.
        got: B256,
    },
    /// An L2 batch input.
    #[error(
        "input {index} is an L2 batch: its blob commits to its own blocks' state diff, so L2 batches are built \
         whole, not joined"
    )]
    L2 {
        /// Position of the input.
        index: usize,
    },
    /// The joined batch does not execute.
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// Joins consecutive single- or multi-block inputs into one input, whose witness is exactly what
/// the joined batch resolves. The program runs on it before it is returned.
pub fn join_inputs(inputs: Vec<ProgramInput>) -> Result<ProgramInput, JoinError> {
    let first = inputs.first().ok_or(JoinError::Empty)?;
    let parent = first.parent_header.clone();
    let chain = first.chain.clone();
    let mut nodes = MapSource::new();
    let mut codes = Vec::new();
    let mut headers: B256Map<Header> = B256Map::default();
    let mut blocks = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        if input.l2.is_some() {
            return Err(JoinError::L2 { index });
        }
        if input.chain != chain {
            return Err(JoinError::ChainMismatch { index, expected: chain.hash(), got: input.chain.hash() });
        }
        let number = input.blocks.first().ok_or(JoinError::NoBlocks { index })?.header.number;
        let previous = blocks.last().map_or(parent.number, |b: &bp_input::EthBlock| b.header.number);
        if number != previous + 1 {
            return Err(JoinError::NotConsecutive { index, number, previous });
        }
        for node in input.witness.state {
            nodes.insert(node);
        }
        codes.extend(input.witness.codes);
        for rlp in &input.witness.headers {
            if let Ok(header) = Header::decode(&mut rlp.as_ref()) {
                headers.insert(header.hash_slow(), header);
            }
        }
        blocks.extend(input.blocks);
    }
    // The parent, then its ancestors newest to oldest, as far as they link.
    let mut chain_headers = vec![parent.clone()];
    let mut wanted: B256 = parent.parent_hash;
    while let Some(header) = headers.remove(&wanted) {
        wanted = header.parent_hash;
        chain_headers.push(header);
    }
    let (witness, outcome) = record(&nodes, &hash_codes(codes), &chain_headers, &blocks, &chain, false);
    outcome.map_err(BuildError::Program)?;
    Ok(ProgramInput { blocks, parent_header: parent, witness, chain, l2: None })
}
