//! A Merkle-Patricia trie that may be *pruned*: subtrees it was not given stay as hashes.
//!
//! The trie is built from a root hash and a [`NodeSource`] (the witness). Nodes are resolved
//! lazily, by hash, the first time an operation walks through them, so every node ever used is
//! authenticated by the hash chain from the root. An operation that needs a node the source
//! lacks fails with [`TrieError::MissingNode`], naming the node's hash and its path: a pruned
//! trie never answers "absent" for something it cannot see.
//!
//! Deletions restructure the trie exactly as a full trie would (a branch left with one child
//! collapses into a leaf or extension, extensions merge), which may require resolving the lone
//! remaining sibling; that lookup goes through the same source and fails the same way.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod error;
mod nibbles;
mod node;
mod source;
mod trie;

pub use error::TrieError;
pub use nibbles::{bytes_to_nibbles, hex_prefix_decode, hex_prefix_encode};
pub use node::{decode_node, DecodedNode, NodeChild};
pub use source::{MapSource, NodeSource, RecordingSource};
pub use trie::Trie;

/// Root hash of the empty trie: `keccak256(rlp(""))`.
pub const EMPTY_ROOT: alloy_primitives::B256 =
    alloy_primitives::b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");
