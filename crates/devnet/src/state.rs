//! The builder's own state: every account in memory, the state root computed with alloy-trie
//! (not the program's trie), and revm's database interface over it.

use std::collections::BTreeMap;

use alloy_primitives::{keccak256, map::B256Map, Address, Bytes, B256, U256};
use alloy_trie::{root::storage_root_unhashed, TrieAccount, KECCAK_EMPTY};
use revm::{
    bytecode::Bytecode,
    database::BundleState,
    database_interface::DBErrorMarker,
    primitives::{StorageKey, StorageValue},
    state::AccountInfo,
    Database,
};

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DevAccount {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Hash of the code.
    pub code_hash: B256,
    /// Non-zero slots only.
    pub storage: BTreeMap<U256, U256>,
}

/// What the builder's state cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevStateError {
    /// A block hash it does not keep.
    #[error("the devnet state has no hash for block {0}")]
    UnknownBlockHash(u64),
    /// An account's code hash with no code stored for it.
    #[error("the devnet state has no code for hash {0}")]
    MissingCode(B256),
}
impl DBErrorMarker for DevStateError {}

/// The whole L2 state.
#[derive(Debug, Clone, Default)]
pub struct DevState {
    /// Every account.
    pub accounts: BTreeMap<Address, DevAccount>,
    /// Every bytecode by hash.
    pub codes: B256Map<Bytes>,
    /// Hashes of every block built.
    pub block_hashes: BTreeMap<u64, B256>,
}

impl DevState {
    /// Adds an account (genesis).
    pub fn insert(&mut self, address: Address, balance: U256, code: Bytes, storage: BTreeMap<U256, U256>) {
        let code_hash = if code.is_empty() { KECCAK_EMPTY } else { keccak256(&code) };
        if !code.is_empty() {
            self.codes.insert(code_hash, code);
        }
        let storage = storage.into_iter().filter(|(_, v)| !v.is_zero()).collect();
        self.accounts
            .insert(address, DevAccount { balance, nonce: u64::from(code_hash != KECCAK_EMPTY), code_hash, storage });
    }

    /// Writes a block's changes (as revm's bundle reports them).
    pub fn apply(&mut self, bundle: &BundleState) {
        for (hash, code) in &bundle.contracts {
            self.codes.insert(*hash, code.original_bytes());
        }
        for (address, account) in &bundle.state {
            let Some(info) = &account.info else {
                self.accounts.remove(address);
                continue;
            };
            let entry = self.accounts.entry(*address).or_default();
            if account.status.was_destroyed() {
                entry.storage.clear();
            }
            entry.balance = info.balance;
            entry.nonce = info.nonce;
            entry.code_hash = info.code_hash;
            for (slot, value) in &account.storage {
                if value.present_value.is_zero() {
                    entry.storage.remove(slot);
                } else {
                    entry.storage.insert(*slot, value.present_value);
                }
            }
        }
    }

    /// The state root, by alloy-trie.
    pub fn state_root(&self) -> B256 {
        alloy_trie::root::state_root_unhashed(self.accounts.iter().map(|(address, account)| {
            let storage = account.storage.iter().map(|(k, v)| (B256::from(k.to_be_bytes::<32>()), *v));
            let trie_account = TrieAccount {
                nonce: account.nonce,
                balance: account.balance,
                storage_root: storage_root_unhashed(storage),
                code_hash: account.code_hash,
            };
            (*address, trie_account)
        }))
    }
}

/// The same reads by reference, for calls against the state that must not change it.
impl revm::DatabaseRef for DevState {
    type Error = DevStateError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        Ok(self.accounts.get(&address).map(|a| AccountInfo {
            balance: a.balance,
            nonce: a.nonce,
            code_hash: a.code_hash,
            account_id: None,
            code: None,
        }))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        self.codes
            .get(&code_hash)
            .map(|code| bp_program::bytecode(code.clone()))
            .ok_or(DevStateError::MissingCode(code_hash))
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<StorageValue, Self::Error> {
        Ok(self.accounts.get(&address).and_then(|a| a.storage.get(&index).copied()).unwrap_or_default())
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Self::Error> {
        self.block_hashes.get(&number).copied().ok_or(DevStateError::UnknownBlockHash(number))
    }
}

impl Database for DevState {
    type Error = DevStateError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        revm::DatabaseRef::basic_ref(self, address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        revm::DatabaseRef::code_by_hash_ref(self, code_hash)
    }

    fn storage(&mut self, address: Address, index: StorageKey) -> Result<StorageValue, Self::Error> {
        revm::DatabaseRef::storage_ref(self, address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        revm::DatabaseRef::block_hash_ref(self, number)
    }
}

impl bp_program::StorageOracle for DevState {
    fn has_storage_before_block(&mut self, address: Address) -> Option<bool> {
        Some(self.accounts.get(&address).is_some_and(|a| !a.storage.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_found_empty_or_missing_never_made_up() {
        let mut state = DevState::default();
        let code = Bytes::from_static(&[0x60, 0x00, 0x00]);
        state.insert(Address::repeat_byte(1), U256::ZERO, code.clone(), BTreeMap::new());
        assert_eq!(state.code_by_hash(keccak256(&code)).map(|c| c.original_bytes()), Ok(code));
        assert_eq!(state.code_by_hash(KECCAK_EMPTY), Ok(Bytecode::default()));
        let unknown = B256::repeat_byte(7);
        assert_eq!(state.code_by_hash(unknown), Err(DevStateError::MissingCode(unknown)));
        assert_eq!(state.block_hash(3), Err(DevStateError::UnknownBlockHash(3)));
    }
}
