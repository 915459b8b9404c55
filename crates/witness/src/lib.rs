//! Witness generation from a full state (the L2 case: "the node's own state").
//!
//! The full state is kept as every trie node by hash. To build a batch's witness the program
//! itself runs against that complete node set through a [`RecordingSource`], so the witness is
//! exactly the set of nodes the program resolves — including the sibling a deletion collapses
//! into — and cannot drift from what the stateless run needs.

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{keccak256, map::B256Map, Address, Bytes, B256, U256};
use alloy_rlp::Encodable;
use bp_input::{ChainConfig, EthBlock, ExecutionWitness};
use bp_program::{execute_batch, Ancestors, NoProbe, ProgramError, ProgramOutput, StateAccount, WitnessDb};
use bp_trie::{MapSource, NodeSource, RecordingSource, Trie, EMPTY_ROOT};

/// One account of a genesis-style allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocAccount {
    pub nonce: u64,
    pub balance: U256,
    pub code: Bytes,
    pub storage: BTreeMap<U256, U256>,
}

/// A source that never has a node: building a trie from scratch needs none.
struct NoNodes;
impl NodeSource for NoNodes {
    fn node(&mut self, _: &B256) -> Option<Bytes> {
        None
    }
}

/// What a successful recording run leaves behind, detached from the borrowed node set.
struct Advance {
    output: ProgramOutput,
    fresh: Vec<(B256, Vec<u8>)>,
    codes_used: Vec<B256>,
    oldest_block_hash_used: Option<u64>,
    codes: Vec<(B256, Bytes)>,
}

/// A chain's complete state at its head: all trie nodes, all codes, all headers.
#[derive(Debug, Clone)]
pub struct FullState {
    nodes: MapSource,
    codes: B256Map<Bytes>,
    /// Every known header by hash: side chains share the content-addressed nodes and codes.
    headers: B256Map<Header>,
    head: Header,
}

/// A witness, and what the program said when it was recorded.
#[derive(Debug)]
pub struct Generated {
    /// The recorded witness (on failure: what was touched up to the failure, all codes and headers).
    pub witness: ExecutionWitness,
    /// The program's verdict on the full state.
    pub result: Result<ProgramOutput, ProgramError>,
}

impl FullState {
    /// The state of `alloc`, with `genesis` as head. Fails if `genesis.state_root` differs.
    pub fn from_alloc(
        alloc: &BTreeMap<Address, AllocAccount>,
        genesis: Header,
    ) -> Result<Self, (B256, B256)> {
        let mut nodes = MapSource::new();
        let mut codes = B256Map::default();
        let mut state = Trie::new();
        for (address, account) in alloc {
            let mut storage = Trie::new();
            for (slot, value) in &account.storage {
                if !value.is_zero() {
                    let key = keccak256(slot.to_be_bytes::<32>());
                    storage.insert(key.as_slice(), alloy_rlp::encode(value), &mut NoNodes).expect("in memory");
                }
            }
            let storage_root = storage.hash();
            storage.for_each_node(|hash, rlp| nodes.insert_hashed(hash, rlp.into()));
            let code_hash = keccak256(&account.code);
            if !account.code.is_empty() {
                codes.insert(code_hash, account.code.clone());
            }
            let leaf = StateAccount { nonce: account.nonce, balance: account.balance, storage_root, code_hash };
            state.insert(keccak256(address).as_slice(), alloy_rlp::encode(leaf), &mut NoNodes).expect("in memory");
        }
        let root = state.hash();
        if root != genesis.state_root {
            return Err((root, genesis.state_root));
        }
        state.for_each_node(|hash, rlp| nodes.insert_hashed(hash, rlp.into()));
        let mut headers = B256Map::default();
        headers.insert(genesis.hash_slow(), genesis.clone());
        Ok(Self { nodes, codes, headers, head: genesis })
    }

    /// The current head header.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// The header of a known block.
    pub fn header(&self, hash: &B256) -> Option<&Header> {
        self.headers.get(hash)
    }

    /// Executes `blocks` on their parent (any known block, not only the head) through the
    /// program, recording the witness; on success the head becomes the last block.
    /// Returns `None` if the parent is unknown.
    pub fn execute(&mut self, blocks: &[EthBlock], chain: &ChainConfig) -> Option<Generated> {
        let parent_hash = blocks.first()?.header.parent_hash;
        let parent = self.headers.get(&parent_hash)?.clone();
        let chain_headers = self.chain_to(&parent, 0);
        let ancestors = Ancestors::new(&parent, parent_hash, &chain_headers);
        let (state, outcome) = {
            let mut recorder = RecordingSource::new(&self.nodes);
            let db = WitnessDb::new(&mut recorder, parent.state_root, self.codes.clone(), ancestors);
            let outcome = execute_batch(blocks, &parent, chain, db, &mut NoProbe).map(|mut batch| {
                let mut fresh = Vec::new();
                batch.db.state_trie.for_each_node(|h, rlp| fresh.push((h, rlp)));
                for trie in batch.db.storage_tries.values_mut() {
                    trie.for_each_node(|h, rlp| fresh.push((h, rlp)));
                }
                Advance {
                    output: batch.output,
                    fresh,
                    codes_used: batch.db.codes_used.iter().copied().collect(),
                    oldest_block_hash_used: batch.db.oldest_block_hash_used,
                    codes: batch.db.codes.into_iter().collect(),
                }
            });
            let mut state = recorder.touched_nodes();
            // The parent root belongs in every witness, even if nothing was read.
            if parent.state_root != EMPTY_ROOT && !recorder.touched().contains(&parent.state_root) {
                state.extend(self.nodes.get(&parent.state_root).cloned());
            }
            (state, outcome)
        };

        match outcome {
            Ok(advance) => {
                let mut codes: Vec<B256> =
                    advance.codes_used.into_iter().filter(|h| self.codes.contains_key(h)).collect();
                codes.sort_unstable();
                let oldest = advance.oldest_block_hash_used.unwrap_or(parent.number);
                let witness = ExecutionWitness {
                    state,
                    codes: codes.iter().map(|h| self.codes[h].clone()).collect(),
                    headers: encode_all(&self.chain_to(&parent, oldest.saturating_add(1).min(parent.number))),
                    keys: Vec::new(),
                };
                for (hash, rlp) in advance.fresh {
                    self.nodes.insert_hashed(hash, rlp.into());
                }
                for (hash, code) in advance.codes {
                    self.codes.entry(hash).or_insert(code);
                }
                for block in blocks {
                    self.headers.insert(block.header.hash_slow(), block.header.clone());
                }
                if let Some(last) = blocks.last() {
                    self.head = last.header.clone();
                }
                Some(Generated { witness, result: Ok(advance.output) })
            }
            Err(error) => {
                let mut codes: Vec<_> = self.codes.iter().collect();
                codes.sort_unstable_by_key(|(h, _)| **h);
                let witness = ExecutionWitness {
                    state,
                    codes: codes.into_iter().map(|(_, c)| c.clone()).collect(),
                    headers: encode_all(&chain_headers),
                    keys: Vec::new(),
                };
                Some(Generated { witness, result: Err(error) })
            }
        }
    }

    /// Headers from `parent` back to block number `oldest`, following parent hashes.
    fn chain_to(&self, parent: &Header, oldest: u64) -> Vec<Header> {
        let mut out = vec![parent.clone()];
        let mut current = parent;
        while current.number > oldest {
            match self.headers.get(&current.parent_hash) {
                Some(header) => {
                    out.push(header.clone());
                    current = header;
                }
                None => break,
            }
        }
        out
    }
}

fn encode_all(headers: &[Header]) -> Vec<Bytes> {
    headers
        .iter()
        .map(|h| {
            let mut out = Vec::new();
            h.encode(&mut out);
            Bytes::from(out)
        })
        .collect()
}
