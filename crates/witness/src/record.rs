//! One recording run of the program over known pre-state.

use alloy_consensus::Header;
use alloy_primitives::{
    keccak256,
    map::{B256Map, B256Set},
    Bytes, B256,
};
use alloy_rlp::Encodable;
use bp_input::{ChainConfig, EthBlock, ExecutionWitness};
use bp_program::{
    execute_batch, l2::L2Batch, Ancestors, NoProbe, ProgramError, ProgramOutput, WitnessDb, WitnessSource,
};
use bp_trie::{MapSource, NodeSource, RecordingSource, EMPTY_ROOT};

/// What a successful run leaves behind besides the witness.
pub(crate) struct Advance {
    /// The outputs (without L2 commitments, which need the batch's blob).
    pub output: ProgramOutput,
    /// Nodes of the post-state tries that are in memory (new and changed ones).
    pub fresh: Vec<(B256, Vec<u8>)>,
    /// Bytecodes deployed by the batch.
    pub deployed: Vec<(B256, Bytes)>,
}

/// The program's source over a complete state, noting what the run asks for: every node (by
/// its inner [`RecordingSource`]), every bytecode, and the oldest ancestor whose hash is read.
#[derive(Debug)]
struct Recorder<'a> {
    nodes: RecordingSource<'a>,
    codes: &'a B256Map<Bytes>,
    ancestors: Ancestors,
    codes_used: B256Set,
    oldest_block_hash: Option<u64>,
}

impl NodeSource for Recorder<'_> {
    fn node(&mut self, hash: &B256) -> Option<Bytes> {
        self.nodes.node(hash)
    }
}

impl WitnessSource for Recorder<'_> {
    fn code(&mut self, hash: &B256) -> Option<Bytes> {
        let code = self.codes.get(hash).cloned();
        if code.is_some() {
            self.codes_used.insert(*hash);
        }
        code
    }

    fn block_hash(&mut self, number: u64) -> Option<B256> {
        self.oldest_block_hash = Some(self.oldest_block_hash.map_or(number, |oldest| oldest.min(number)));
        self.ancestors.get(number)
    }
}

/// Runs `blocks` on `parent` against `nodes`/`codes`, recording what the program resolves.
/// `chain_headers` are the known ancestors, `parent` first, newest to oldest; `l2` runs the
/// blocks as an L2 batch (privileged transactions allowed).
pub(crate) fn record(
    nodes: &MapSource,
    codes: &B256Map<Bytes>,
    chain_headers: &[Header],
    blocks: &[EthBlock],
    chain: &ChainConfig,
    l2: bool,
) -> (ExecutionWitness, Result<Advance, ProgramError>) {
    let parent = &chain_headers[0];
    let parent_hash = blocks.first().map_or_else(|| parent.hash_slow(), |b| b.header.parent_hash);
    let mut recorder = Recorder {
        nodes: RecordingSource::new(nodes),
        codes,
        ancestors: Ancestors::new(parent, parent_hash, chain_headers),
        codes_used: B256Set::default(),
        oldest_block_hash: None,
    };
    let db = WitnessDb::new(&mut recorder, parent.state_root);
    let l2 = l2.then(L2Batch::default);
    let outcome = execute_batch(blocks, parent, chain, l2, db, &mut NoProbe).map(|mut batch| {
        let mut fresh = Vec::new();
        batch.db.for_each_node(|h, rlp| fresh.push((h, rlp)));
        let deployed = batch.db.deployed_codes().iter().map(|(h, c)| (*h, c.clone())).collect();
        Advance { output: batch.output, fresh, deployed }
    });
    let mut state = recorder.nodes.touched_nodes();
    // The parent root belongs in every witness, even if nothing was read.
    if parent.state_root != EMPTY_ROOT && !recorder.nodes.touched().contains(&parent.state_root) {
        state.extend(nodes.get(&parent.state_root).cloned());
    }
    match outcome {
        Ok(advance) => {
            let mut used: Vec<B256> = recorder.codes_used.into_iter().collect();
            used.sort_unstable();
            // Headers from the parent back to the oldest BLOCKHASH target (its own header
            // establishes its hash; Ancestors).
            let oldest = recorder.oldest_block_hash.unwrap_or(parent.number).min(parent.number);
            let keep = parent.number - oldest;
            let witness = ExecutionWitness {
                state,
                codes: used.iter().map(|h| codes[h].clone()).collect(),
                headers: encode_all(chain_headers.iter().take(keep as usize + 1)),
                keys: Vec::new(),
            };
            (witness, Ok(advance))
        }
        Err(error) => {
            let mut all: Vec<_> = codes.iter().collect();
            all.sort_unstable_by_key(|(h, _)| **h);
            let witness = ExecutionWitness {
                state,
                codes: all.into_iter().map(|(_, c)| c.clone()).collect(),
                headers: encode_all(chain_headers.iter()),
                keys: Vec::new(),
            };
            (witness, Err(error))
        }
    }
}

fn encode_all<'a>(headers: impl Iterator<Item = &'a Header>) -> Vec<Bytes> {
    headers
        .map(|h| {
            let mut out = Vec::new();
            h.encode(&mut out);
            Bytes::from(out)
        })
        .collect()
}

/// Codes keyed by their hash.
pub(crate) fn hash_codes(codes: impl IntoIterator<Item = Bytes>) -> B256Map<Bytes> {
    codes.into_iter().filter(|c| !c.is_empty()).map(|c| (keccak256(&c), c)).collect()
}
