use alloy_primitives::{B256, U256};
use alloy_rlp::{RlpDecodable, RlpEncodable};

/// An account as stored in the state trie: `rlp([nonce, balance, storageRoot, codeHash])`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct StateAccount {
    /// Transaction count, or contract creations for contracts.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Root of the account's storage trie.
    pub storage_root: B256,
    /// keccak256 of the account's code.
    pub code_hash: B256,
}
