use alloc::string::String;
use alloy_primitives::B256;

/// Why a trie operation failed. Every variant is fatal for a proof: the input is incomplete or
/// malformed, and no answer derived from it could be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrieError {
    /// The walk reached a node known only by its hash, and the source does not hold it.
    #[error("trie node {hash} at path 0x{path} is missing from the witness")]
    MissingNode {
        /// Hash of the missing node.
        hash: B256,
        /// Nibble path from the trie root to the node, in hex (one character per nibble).
        path: String,
    },
    /// A node's bytes are not a valid trie node.
    #[error("invalid trie node {hash}: {reason}")]
    InvalidNode {
        /// Hash of the node (of its RLP), or zero for an inline node.
        hash: B256,
        /// What is wrong with it.
        reason: &'static str,
    },
}
