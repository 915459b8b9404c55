//! Witness generation from a full state (the L2 case: "the node's own state").

use std::collections::BTreeMap;

use alloy_consensus::Header;
use alloy_primitives::{keccak256, map::B256Map, Address, Bytes, B256, U256};
use bp_input::{ChainConfig, EthBlock};
use bp_program::StateAccount;
use bp_trie::{MapSource, NodeSource, Trie};

use crate::{record::record, Generated};

/// One account of a genesis-style allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocAccount {
    /// Nonce.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Bytecode (empty for none).
    pub code: Bytes,
    /// Storage slots.
    pub storage: BTreeMap<U256, U256>,
}

/// A source that never has a node: building a trie from scratch needs none.
struct NoNodes;
impl NodeSource for NoNodes {
    fn node(&mut self, _: &B256) -> Option<Bytes> {
        None
    }
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

impl FullState {
    /// The state of `alloc`, with `genesis` as head. Fails if `genesis.state_root` differs.
    pub fn from_alloc(alloc: &BTreeMap<Address, AllocAccount>, genesis: Header) -> Result<Self, (B256, B256)> {
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
        self.execute_batch(blocks, chain, false)
    }

    /// [`Self::execute`], as an L2 batch when `l2` is set (privileged transactions allowed;
    /// the result carries no L2 commitments: they need the blob, the caller's to commit to).
    pub fn execute_batch(&mut self, blocks: &[EthBlock], chain: &ChainConfig, l2: bool) -> Option<Generated> {
        let (witness, outcome) = self.record_on_parent(blocks, chain, l2)?;
        let result = outcome.map(|advance| {
            for (hash, rlp) in advance.fresh {
                self.nodes.insert_hashed(hash, rlp.into());
            }
            for (hash, code) in advance.deployed {
                self.codes.entry(hash).or_insert(code);
            }
            for block in blocks {
                self.headers.insert(block.header.hash_slow(), block.header.clone());
            }
            if let Some(last) = blocks.last() {
                self.head = last.header.clone();
            }
            advance.output
        });
        Some(Generated { witness, result })
    }

    /// The witness of `blocks` on their parent (any known block), as [`Self::execute_batch`]
    /// records it, without advancing the state. `None` if the parent is unknown.
    pub fn witness_of(&self, blocks: &[EthBlock], chain: &ChainConfig, l2: bool) -> Option<Generated> {
        let (witness, outcome) = self.record_on_parent(blocks, chain, l2)?;
        Some(Generated { witness, result: outcome.map(|advance| advance.output) })
    }

    /// Runs `blocks` through the recorder on their parent's state. `None` if the parent is
    /// unknown.
    fn record_on_parent(
        &self,
        blocks: &[EthBlock],
        chain: &ChainConfig,
        l2: bool,
    ) -> Option<(bp_input::ExecutionWitness, Result<crate::record::Advance, bp_program::ProgramError>)> {
        let parent = self.headers.get(&blocks.first()?.header.parent_hash)?;
        let chain_headers = self.chain_to(parent, 0);
        Some(record(&self.nodes, &self.codes, &chain_headers, blocks, chain, l2))
    }

    /// The value under `key` in the trie of `root` (any state or storage root this state has
    /// held) and its Merkle proof, root node first, as `eth_getProof` gives it. `None` if a
    /// node on the path is not kept.
    pub fn prove(&self, root: B256, key: B256) -> Option<(Option<Vec<u8>>, Vec<Bytes>)> {
        let mut source = bp_trie::RecordingSource::new(&self.nodes);
        let value = Trie::from_root(root).get(key.as_slice(), &mut source).ok()?;
        // The touched nodes are the path; each one names the next by its hash.
        let mut path: Vec<Bytes> = source.touched_nodes();
        let mut ordered = Vec::with_capacity(path.len());
        let mut next = root;
        while let Some(at) = path.iter().position(|node| keccak256(node) == next) {
            let node = path.swap_remove(at);
            next = path
                .iter()
                .map(keccak256)
                .find(|hash| node.windows(32).any(|w| w == hash.as_slice()))
                .unwrap_or_default();
            ordered.push(node);
        }
        Some((value, ordered))
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
