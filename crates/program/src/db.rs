//! The state as revm sees it, answered from pruned tries, witness bytecodes and ancestor
//! headers; and the write-back of each block's changes into those tries.

use alloc::{collections::BTreeMap, vec::Vec};
use alloy_consensus::Header;
use alloy_primitives::{keccak256, map::AddressMap, map::B256Map, map::B256Set, Address, Bytes, B256, U256};
use alloy_rlp::Decodable;
use bp_trie::{NodeSource, Trie};
use revm::{
    bytecode::Bytecode,
    database::BundleState,
    primitives::{StorageKey, StorageValue, KECCAK_EMPTY},
    state::AccountInfo,
    Database,
};

use crate::{StateAccount, StateError};

/// Block hashes established by a chain of headers ending at the batch's parent.
#[derive(Debug, Clone, Default)]
pub struct Ancestors {
    hashes: BTreeMap<u64, B256>,
}

impl Ancestors {
    /// Links `headers` (any order, duplicates allowed) to `parent` by parent hashes. Only
    /// headers on the unbroken chain ending at `parent` count; the others are ignored.
    pub fn new(parent: &Header, parent_hash: B256, headers: &[Header]) -> Self {
        let by_hash: B256Map<&Header> = headers.iter().map(|h| (h.hash_slow(), h)).collect();
        let mut hashes = BTreeMap::new();
        hashes.insert(parent.number, parent_hash);
        let mut current = parent;
        while let Some(number) = current.number.checked_sub(1) {
            hashes.insert(number, current.parent_hash);
            match by_hash.get(&current.parent_hash) {
                Some(header) if header.number == number => current = header,
                _ => break,
            }
        }
        Self { hashes }
    }

    /// Records the hash of a block executed in this batch.
    pub fn push(&mut self, number: u64, hash: B256) {
        self.hashes.insert(number, hash);
    }

    fn get(&self, number: u64) -> Option<B256> {
        self.hashes.get(&number).copied()
    }
}

/// revm's database over a witness. Every answer comes from authenticated data or is an error.
#[derive(Debug)]
pub struct WitnessDb<S> {
    /// Where trie nodes known only by hash are found.
    pub source: S,
    /// The state trie, updated after each block.
    pub state_trie: Trie,
    /// Storage tries of the accounts seen so far.
    pub storage_tries: AddressMap<Trie>,
    /// Bytecodes by hash: the witness codes plus those deployed during the batch.
    pub codes: B256Map<Bytes>,
    ancestors: Ancestors,
    /// Hashes of the bytecodes execution loaded.
    pub codes_used: B256Set,
    /// Lowest block number whose hash execution asked for.
    pub oldest_block_hash_used: Option<u64>,
    /// First witness failure seen, kept because revm reports database errors as text.
    pub failure: Option<StateError>,
}

impl<S: NodeSource> WitnessDb<S> {
    /// A database rooted at `state_root`. `codes` are keyed by the caller-computed keccak256.
    pub fn new(source: S, state_root: B256, codes: B256Map<Bytes>, ancestors: Ancestors) -> Self {
        Self {
            source,
            state_trie: Trie::from_root(state_root),
            storage_tries: AddressMap::default(),
            codes,
            ancestors,
            codes_used: B256Set::default(),
            oldest_block_hash_used: None,
            failure: None,
        }
    }

    /// Records a block of this batch for later `BLOCKHASH` lookups.
    pub fn push_block_hash(&mut self, number: u64, hash: B256) {
        self.ancestors.push(number, hash);
    }

    /// Adds a bytecode deployed during the batch.
    pub fn insert_code(&mut self, hash: B256, code: Bytes) {
        self.codes.insert(hash, code);
    }

    fn fail<T>(&mut self, error: StateError) -> Result<T, StateError> {
        self.failure.get_or_insert_with(|| error.clone());
        Err(error)
    }

    fn read_account(&mut self, address: Address) -> Result<Option<StateAccount>, StateError> {
        let leaf = match self.state_trie.get(keccak256(address).as_slice(), &mut self.source) {
            Ok(leaf) => leaf,
            Err(e) => return self.fail(e.into()),
        };
        let Some(leaf) = leaf else {
            self.storage_tries.entry(address).or_default();
            return Ok(None);
        };
        let account = match StateAccount::decode(&mut leaf.as_slice()) {
            Ok(account) => account,
            Err(_) => return self.fail(StateError::InvalidAccount(address)),
        };
        self.storage_tries.entry(address).or_insert_with(|| Trie::from_root(account.storage_root));
        Ok(Some(account))
    }

    /// Makes sure the storage trie of `address` is known (revm reads an account before its
    /// storage, so this normally finds it already there).
    fn ensure_storage_trie(&mut self, address: Address) -> Result<(), StateError> {
        if !self.storage_tries.contains_key(&address) {
            self.read_account(address)?;
        }
        Ok(())
    }

    /// Writes one block's changes into the tries. Keys are visited in hashed order, insertions
    /// before deletions, so that the nodes touched (and hence the witness) are deterministic and
    /// a branch that gains a child before losing one does not collapse needlessly.
    pub fn apply(&mut self, bundle: BundleState) -> Result<(), StateError> {
        let mut accounts: Vec<_> =
            bundle.state.into_iter().map(|(address, account)| (keccak256(address), address, account)).collect();
        accounts.sort_unstable_by_key(|(hashed, _, _)| *hashed);
        for (hash, code) in bundle.contracts {
            self.codes.insert(hash, code.original_bytes());
        }

        let mut removed = Vec::new();
        for (hashed, address, account) in accounts {
            let destroyed = account.status.was_destroyed();
            let Some(info) = account.info else {
                self.storage_tries.insert(address, Trie::new());
                removed.push(hashed);
                continue;
            };
            if destroyed {
                self.storage_tries.insert(address, Trie::new());
            }
            let mut slots: Vec<(B256, U256)> = account
                .storage
                .iter()
                .filter(|(_, slot)| destroyed || slot.is_changed())
                .map(|(key, slot)| (keccak256(key.to_be_bytes::<32>()), slot.present_value))
                .collect();
            slots.sort_unstable_by_key(|(hashed, value)| (value.is_zero(), *hashed));
            self.ensure_storage_trie(address)?;
            let storage_root = {
                let trie = self.storage_tries.get_mut(&address).expect("ensured above");
                let source = &mut self.source;
                for (key, value) in slots {
                    let result = if value.is_zero() {
                        trie.remove(key.as_slice(), source)
                    } else {
                        trie.insert(key.as_slice(), alloy_rlp::encode(value), source)
                    };
                    if let Err(e) = result {
                        self.failure.get_or_insert_with(|| e.clone().into());
                        return Err(e.into());
                    }
                }
                trie.hash()
            };
            let leaf =
                StateAccount { nonce: info.nonce, balance: info.balance, storage_root, code_hash: info.code_hash };
            if let Err(e) = self.state_trie.insert(hashed.as_slice(), alloy_rlp::encode(leaf), &mut self.source) {
                return self.fail(e.into());
            }
        }
        for hashed in removed {
            if let Err(e) = self.state_trie.remove(hashed.as_slice(), &mut self.source) {
                return self.fail(e.into());
            }
        }
        Ok(())
    }

    /// Whether the account currently has a non-empty storage trie.
    pub fn has_storage(&mut self, address: Address) -> Result<bool, StateError> {
        self.ensure_storage_trie(address)?;
        let trie = self.storage_tries.get_mut(&address).expect("ensured above");
        Ok(trie.hash() != bp_trie::EMPTY_ROOT)
    }

    /// Current state root.
    pub fn state_root(&mut self) -> B256 {
        self.state_trie.hash()
    }
}

impl<S: NodeSource> Database for WitnessDb<S> {
    type Error = StateError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        Ok(self.read_account(address)?.map(|account| AccountInfo {
            balance: account.balance,
            nonce: account.nonce,
            code_hash: account.code_hash,
            account_id: None,
            code: None,
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, StateError> {
        if code_hash == KECCAK_EMPTY {
            return Ok(Bytecode::default());
        }
        match self.codes.get(&code_hash) {
            Some(code) => {
                self.codes_used.insert(code_hash);
                Ok(Bytecode::new_raw(code.clone()))
            }
            None => self.fail(StateError::MissingCode(code_hash)),
        }
    }

    fn storage(&mut self, address: Address, index: StorageKey) -> Result<StorageValue, StateError> {
        let key = keccak256(index.to_be_bytes::<32>());
        self.ensure_storage_trie(address)?;
        let trie = self.storage_tries.get_mut(&address).expect("ensured above");
        let leaf = trie.get(key.as_slice(), &mut self.source);
        let leaf = match leaf {
            Ok(leaf) => leaf,
            Err(e) => return self.fail(e.into()),
        };
        match leaf {
            None => Ok(U256::ZERO),
            Some(rlp) => match U256::decode(&mut rlp.as_slice()) {
                Ok(value) => Ok(value),
                Err(_) => self.fail(StateError::InvalidStorage { address, slot: key }),
            },
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, StateError> {
        self.oldest_block_hash_used = Some(self.oldest_block_hash_used.map_or(number, |oldest| oldest.min(number)));
        match self.ancestors.get(number) {
            Some(hash) => Ok(hash),
            None => self.fail(StateError::MissingBlockHash(number)),
        }
    }
}
