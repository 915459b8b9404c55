//! One recording run of the program over known pre-state.

use alloy_consensus::Header;
use alloy_primitives::{keccak256, map::B256Map, Bytes, B256};
use alloy_rlp::Encodable;
use bp_input::{ChainConfig, EthBlock, ExecutionWitness};
use bp_program::{execute_batch, Ancestors, NoProbe, ProgramError, ProgramOutput, WitnessDb};
use bp_trie::{MapSource, RecordingSource, EMPTY_ROOT};

/// What a successful run leaves behind besides the witness.
pub(crate) struct Advance {
    pub output: ProgramOutput,
    /// Nodes of the post-state tries that are in memory (new and changed ones).
    pub fresh: Vec<(B256, Vec<u8>)>,
    /// Bytecodes deployed by the batch.
    pub deployed: Vec<(B256, Bytes)>,
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
    let ancestors = Ancestors::new(parent, parent_hash, chain_headers);
    let mut recorder = RecordingSource::new(nodes);
    let db = WitnessDb::new(&mut recorder, parent.state_root, codes.clone(), ancestors);
    let outcome = execute_batch(blocks, parent, chain, l2, db, &mut NoProbe).map(|mut batch| {
        let mut fresh = Vec::new();
        batch.db.state_trie.for_each_node(|h, rlp| fresh.push((h, rlp)));
        for trie in batch.db.storage_tries.values_mut() {
            trie.for_each_node(|h, rlp| fresh.push((h, rlp)));
        }
        let mut used: Vec<B256> = batch.db.codes_used.iter().filter(|h| codes.contains_key(*h)).copied().collect();
        used.sort_unstable();
        let deployed = batch.db.codes.into_iter().filter(|(h, _)| !codes.contains_key(h)).collect();
        let oldest = batch.db.oldest_block_hash_used.unwrap_or(parent.number);
        (Advance { output: batch.output, fresh, deployed }, used, oldest)
    });
    let mut state = recorder.touched_nodes();
    // The parent root belongs in every witness, even if nothing was read.
    if parent.state_root != EMPTY_ROOT && !recorder.touched().contains(&parent.state_root) {
        state.extend(nodes.get(&parent.state_root).cloned());
    }
    match outcome {
        Ok((advance, used, oldest)) => {
            // Headers from the parent back to the child of the oldest BLOCKHASH target.
            let keep = parent.number.saturating_sub(oldest.saturating_add(1).min(parent.number));
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
