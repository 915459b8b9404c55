use alloc::vec::Vec;
use alloy_primitives::Bytes;
use serde::{Deserialize, Serialize};

/// The pre-state a batch touches, in the shape of `debug_executionWitness`.
///
/// Nothing in it is trusted: nodes and codes are found by their keccak256 hashes, computed by
/// the program, and headers are linked to the parent header by their hashes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionWitness {
    /// RLP trie nodes of the state trie and of every storage trie the batch touches.
    pub state: Vec<Bytes>,
    /// Bytecodes of the contracts the batch runs or reads.
    pub codes: Vec<Bytes>,
    /// RLP ancestor headers (parent included) reaching back to the oldest `BLOCKHASH` target.
    pub headers: Vec<Bytes>,
    /// Preimages of hashed trie keys (addresses and slots); informative only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<Bytes>,
}

impl ExecutionWitness {
    /// Total bytes of nodes, codes and headers: the witness size that proving pays for.
    pub fn byte_size(&self) -> usize {
        let sum = |v: &[Bytes]| v.iter().map(|b| b.len()).sum::<usize>();
        sum(&self.state) + sum(&self.codes) + sum(&self.headers) + sum(&self.keys)
    }
}
