//! Witnesses from `eth_getProof`: what a remote node can tell about the pre-state.
//!
//! The proofs of every touched account and slot at the parent block give the pruned tries. They
//! are not always enough: when execution deletes a key and its branch is left with one child,
//! the trie collapses, and the program must see that lone sibling to know how (a leaf or an
//! extension merges its path upwards, a branch becomes an extension's child). The proofs only
//! show the sibling's hash. Two cases:
//!
//! 1. The sibling is a leaf (or an extension). After the block, the exclusion proof of the
//!    deleted key runs into the merged node, whose path is the sibling's with the collapsed
//!    nibbles in front. Removing those nibbles gives back the sibling: the candidate whose hash
//!    is the missing one is the node ([`recover_collapse_siblings`]).
//! 2. The sibling is a branch. The post-state shows only an extension pointing at its hash; the
//!    node itself must come from a node's database (`debug_dbGet`), through a
//!    [`PreStateFetcher`], or the build fails naming the node.
//!
//! Nothing found here is trusted: the program authenticates every node by its hash.

use alloy_consensus::Header;
use alloy_primitives::{keccak256, map::B256Set, Address, Bytes, B256};
use bp_input::{ChainConfig, EthBlock, ExecutionWitness};
use bp_program::{ProgramError, ProgramOutput, StateError};
use bp_trie::{decode_node, hex_prefix_decode, hex_prefix_encode, DecodedNode, MapSource, NodeChild, TrieError};
use serde::{Deserialize, Serialize};

use crate::record::{hash_codes, record};

/// One `eth_getProof` result; only the proof nodes are used, values are read from the tries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountProof {
    /// The account.
    pub address: Address,
    /// RLP nodes from the state root towards the account's leaf.
    pub account_proof: Vec<Bytes>,
    /// The account's code hash as the node reports it (informative; the trie is authoritative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<B256>,
    /// One proof per requested slot.
    #[serde(default)]
    pub storage_proof: Vec<StorageProof>,
}

/// A slot's proof inside an [`AccountProof`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageProof {
    /// RLP nodes from the storage root towards the slot's leaf.
    pub proof: Vec<Bytes>,
}

impl AccountProof {
    fn nodes(&self) -> impl Iterator<Item = &Bytes> {
        self.account_proof.iter().chain(self.storage_proof.iter().flat_map(|s| s.proof.iter()))
    }
}

/// Where nodes and headers the proofs lack can be fetched (a node's `debug_dbGet`, RPC headers).
pub trait PreStateFetcher {
    /// The RLP of the trie node with this hash, if it can be had.
    fn node(&mut self, hash: B256) -> Option<Bytes>;
    /// The header of block `number` of the chain being proved, if it can be had.
    fn header(&mut self, number: u64) -> Option<Header>;
}

/// A fetcher that has nothing: the proofs must suffice.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFetch;

impl PreStateFetcher for NoFetch {
    fn node(&mut self, _: B256) -> Option<Bytes> {
        None
    }
    fn header(&mut self, _: u64) -> Option<Header> {
        None
    }
}

/// Why a witness could not be built from proofs.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A node neither the proofs nor the fetcher provide (case 2 without `debug_dbGet`).
    #[error(
        "trie node {hash} at path 0x{path} is in neither the proofs nor the fetched nodes \
         (a deletion collapses onto it; fetch it with debug_dbGet from a node that keeps it)"
    )]
    MissingNode {
        /// The node's hash.
        hash: B256,
        /// Its path (nibbles, hex).
        path: String,
    },
    /// A header older than the parent that `BLOCKHASH` needs and the fetcher cannot provide.
    #[error("the hash of block {0} is needed and no header for it can be fetched")]
    MissingHeader(u64),
    /// The fetched header does not link to the known chain.
    #[error("fetched header {0} does not link to its child")]
    HeaderMismatch(u64),
    /// The program rejected the blocks for another reason.
    #[error(transparent)]
    Program(#[from] ProgramError),
}

/// A built witness, with how it was completed.
#[derive(Debug)]
pub struct ProofWitness {
    /// The witness: exactly the nodes, codes and headers the program resolved.
    pub witness: ExecutionWitness,
    /// The program's outputs on it.
    pub output: ProgramOutput,
    /// Collapse siblings recovered from post-state proofs (case 1).
    pub recovered: usize,
    /// Nodes that had to be fetched (case 2), by hash.
    pub fetched: Vec<B256>,
    /// Headers fetched for `BLOCKHASH`.
    pub fetched_headers: usize,
}

/// Collects proofs, codes and headers, then cuts the witness by running the program.
#[derive(Debug, Clone)]
pub struct ProofWitnessBuilder {
    nodes: MapSource,
    post: Vec<Bytes>,
    codes: Vec<Bytes>,
    /// The parent first, then its ancestors, newest to oldest.
    headers: Vec<Header>,
}

impl ProofWitnessBuilder {
    /// A builder for blocks whose first parent is `parent`.
    pub fn new(parent: Header) -> Self {
        Self { nodes: MapSource::new(), post: Vec::new(), codes: Vec::new(), headers: vec![parent] }
    }

    /// Adds a proof against the parent's state root.
    pub fn add_pre_proof(&mut self, proof: &AccountProof) {
        for node in proof.nodes() {
            self.nodes.insert(node.clone());
        }
    }

    /// Adds a proof against the last block's state root (used for case 1).
    pub fn add_post_proof(&mut self, proof: &AccountProof) {
        self.post.extend(proof.nodes().cloned());
    }

    /// Adds a trie node from any other source (e.g. `debug_dbGet`).
    pub fn add_node(&mut self, node: Bytes) {
        self.nodes.insert(node);
    }

    /// Adds a bytecode.
    pub fn add_code(&mut self, code: Bytes) {
        self.codes.push(code);
    }

    /// Builds the witness for `blocks`. Collapse siblings are first recovered from the
    /// post-state proofs; whatever is still missing is asked of `fetcher`, one node at a time,
    /// re-running the program until it succeeds or a node cannot be had.
    pub fn build(
        mut self,
        blocks: &[EthBlock],
        chain: &ChainConfig,
        fetcher: &mut dyn PreStateFetcher,
    ) -> Result<ProofWitness, BuildError> {
        let recovered = recover_collapse_siblings(&mut self.nodes, &self.post);
        let codes = hash_codes(self.codes.iter().cloned());
        let mut fetched = Vec::new();
        let mut fetched_headers = 0;
        loop {
            let (witness, outcome) = record(&self.nodes, &codes, &self.headers, blocks, chain, false);
            let error = match outcome {
                Ok(advance) => {
                    return Ok(ProofWitness { witness, output: advance.output, recovered, fetched, fetched_headers })
                }
                Err(error) => error,
            };
            match &error {
                ProgramError::Witness(StateError::Trie(TrieError::MissingNode { hash, path })) => {
                    if fetched.contains(hash) {
                        return Err(error.into());
                    }
                    let node = fetcher
                        .node(*hash)
                        .filter(|n| keccak256(n) == *hash)
                        .ok_or_else(|| BuildError::MissingNode { hash: *hash, path: path.clone() })?;
                    self.nodes.insert(node);
                    fetched.push(*hash);
                }
                ProgramError::Witness(StateError::MissingBlockHash(number)) => {
                    let oldest = self.headers.last().expect("the parent is always there");
                    if *number >= oldest.number {
                        return Err(error.into());
                    }
                    // Fetch the gap down to the wanted block, linking each by hash.
                    while self.headers.last().expect("non-empty").number > *number {
                        let child = self.headers.last().expect("non-empty");
                        let wanted = child.number - 1;
                        let header = fetcher.header(wanted).ok_or(BuildError::MissingHeader(wanted))?;
                        if header.hash_slow() != child.parent_hash {
                            return Err(BuildError::HeaderMismatch(wanted));
                        }
                        self.headers.push(header);
                        fetched_headers += 1;
                    }
                }
                _ => return Err(error.into()),
            }
        }
    }
}

/// Case 1: adds to `nodes` every node that a known node references by hash, that is missing,
/// and that is obtained from a leaf or extension of `post` by removing leading path nibbles.
/// Returns how many were added.
pub fn recover_collapse_siblings(nodes: &mut MapSource, post: &[Bytes]) -> usize {
    let wanted = missing_children(nodes);
    if wanted.is_empty() {
        return 0;
    }
    let mut added = 0;
    let mut seen = B256Set::default();
    for node in post {
        if !seen.insert(keccak256(node)) {
            continue;
        }
        for candidate in shortened(node) {
            let hash = keccak256(&candidate);
            if wanted.contains(&hash) && nodes.get(&hash).is_none() {
                nodes.insert_hashed(hash, candidate.into());
                added += 1;
            }
        }
    }
    added
}

/// Hashes referenced by nodes of `nodes` that `nodes` does not hold.
fn missing_children(nodes: &MapSource) -> B256Set {
    let mut referenced = B256Set::default();
    let mut stack = Vec::new();
    for (hash, rlp) in nodes.iter() {
        if let Ok(node) = decode_node(rlp, *hash) {
            stack.push(node);
        }
        while let Some(node) = stack.pop() {
            let mut visit = |child: NodeChild, stack: &mut Vec<DecodedNode>| match child {
                NodeChild::Hash(h) => {
                    referenced.insert(h);
                }
                NodeChild::Inline(inner) => stack.push(*inner),
                NodeChild::Empty => {}
            };
            match node {
                DecodedNode::Leaf { .. } => {}
                DecodedNode::Extension { child, .. } => visit(child, &mut stack),
                DecodedNode::Branch { children, .. } => {
                    for child in children.into_iter() {
                        visit(child, &mut stack);
                    }
                }
            }
        }
    }
    referenced.into_iter().filter(|h| nodes.get(h).is_none()).collect()
}

/// The node re-encoded with 1, 2, … leading path nibbles removed (leaves may end with an empty
/// path, extensions keep at least one nibble). Anything else yields nothing.
fn shortened(rlp: &[u8]) -> Vec<Vec<u8>> {
    let Some([path_item, second]) = two_items(rlp) else { return Vec::new() };
    let Ok(path_bytes) = alloy_rlp::Header::decode_bytes(&mut &path_item[..], false) else { return Vec::new() };
    let Some((nibbles, is_leaf)) = hex_prefix_decode(path_bytes) else { return Vec::new() };
    let keep_at_least = if is_leaf { 0 } else { 1 };
    (1..=nibbles.len().saturating_sub(keep_at_least))
        .map(|cut| {
            let path = hex_prefix_encode(&nibbles[cut..], is_leaf);
            let mut payload = Vec::with_capacity(path.len() + second.len() + 3);
            alloy_rlp::Encodable::encode(&path.as_slice(), &mut payload);
            payload.extend_from_slice(second);
            let mut out = Vec::with_capacity(payload.len() + 3);
            alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
            out.extend_from_slice(&payload);
            out
        })
        .collect()
}

/// The raw encodings of the two items of a two-item RLP list.
fn two_items(rlp: &[u8]) -> Option<[&[u8]; 2]> {
    let mut buf = rlp;
    let outer = alloy_rlp::Header::decode(&mut buf).ok()?;
    if !outer.list || outer.payload_length != buf.len() {
        return None;
    }
    let mut items = [&buf[..0]; 2];
    for item in &mut items {
        let start = buf;
        let header = alloy_rlp::Header::decode(&mut buf).ok()?;
        let len = start.len() - buf.len() + header.payload_length;
        *item = start.get(..len)?;
        buf = start.get(len..)?;
    }
    buf.is_empty().then_some(items)
}
