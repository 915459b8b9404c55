//! The state as revm sees it, answered from pruned tries, witness bytecodes and ancestor
//! headers; and the write-back of each block's changes into those tries.

use alloc::{collections::BTreeMap, vec::Vec};
use alloy_consensus::Header;
use alloy_primitives::{keccak256, map::AddressMap, map::B256Map, Address, Bytes, B256, U256};
use alloy_rlp::Decodable;
use bp_input::ExecutionWitness;
use bp_trie::{MapSource, NodeSource, Trie, EMPTY_ROOT};
use revm::{
    bytecode::Bytecode,
    database::BundleState,
    primitives::{StorageKey, StorageValue, KECCAK_EMPTY},
    state::AccountInfo,
    Database,
};

use crate::{parallel, ProgramError, StateAccount, StateError};

/// Block hashes established by a chain of headers ending at the batch's parent.
#[derive(Debug, Clone, Default)]
pub struct Ancestors {
    hashes: BTreeMap<u64, B256>,
}

impl Ancestors {
    /// Links `headers` (any order, duplicates allowed) to `parent` by parent hashes. Only
    /// headers on the unbroken chain ending at `parent` count; the others are ignored. A block's
    /// hash is established only by its own header (and the parent's by `parent_hash`), not by its
    /// child's parent hash: the value would be the same, but EIP-8025's stateless validation
    /// (and reth's) wants the header of every `BLOCKHASH` target in the witness, and an input
    /// that lacks it is refused alike on every path.
    pub fn new(parent: &Header, parent_hash: B256, headers: &[Header]) -> Self {
        let by_hash: B256Map<&Header> = headers.iter().map(|h| (h.hash_slow(), h)).collect();
        let mut hashes = BTreeMap::new();
        hashes.insert(parent.number, parent_hash);
        let mut current = parent;
        while let Some(number) = current.number.checked_sub(1) {
            match by_hash.get(&current.parent_hash) {
                Some(header) if header.number == number => {
                    hashes.insert(number, current.parent_hash);
                    current = header;
                }
                _ => break,
            }
        }
        Self { hashes }
    }

    /// The hash of block `number`, if the chain establishes it.
    pub fn get(&self, number: u64) -> Option<B256> {
        self.hashes.get(&number).copied()
    }
}

/// What the witness database knows only by hash or by number: trie nodes (through
/// [`NodeSource`]), bytecodes and the hashes of the batch's ancestors. The program's source is
/// [`VerifiedWitness`]; a witness recorder wraps a full state and notes what is asked.
pub trait WitnessSource: NodeSource {
    /// The bytecode whose keccak256 is `hash`, if known.
    fn code(&mut self, hash: &B256) -> Option<Bytes>;
    /// The hash of ancestor block `number`, if established.
    fn block_hash(&mut self, number: u64) -> Option<B256>;
}

impl<T: WitnessSource + ?Sized> WitnessSource for &mut T {
    fn code(&mut self, hash: &B256) -> Option<Bytes> {
        (**self).code(hash)
    }
    fn block_hash(&mut self, number: u64) -> Option<B256> {
        (**self).block_hash(number)
    }
}

/// Witness nodes per thread worth hashing in parallel (a node is about a microsecond, a thread
/// tens of them); codes are about sixteen times longer.
const HASHES_PER_THREAD: usize = 256;

/// An execution witness as the program trusts it: nodes and codes keyed by the keccak256 the
/// program computed itself, ancestor hashes linked to the parent header by parent hashes.
#[derive(Debug, Clone)]
pub struct VerifiedWitness {
    nodes: MapSource,
    codes: B256Map<Bytes>,
    ancestors: Ancestors,
}

impl VerifiedWitness {
    /// Hashes every node and code of `witness` and links its headers to `parent`. The node of
    /// the parent's state root must be present (unless the state is empty).
    pub fn new(witness: &ExecutionWitness, parent: &Header) -> Result<Self, ProgramError> {
        let nodes = hash_nodes(&witness.state);
        let root = parent.state_root;
        if root != EMPTY_ROOT && nodes.get(&root).is_none() {
            return Err(ProgramError::MissingStateRoot(root));
        }
        let hashes = parallel::map(&witness.codes, HASHES_PER_THREAD / 16, |_, code| keccak256(code));
        let codes = hashes.zip(witness.codes.iter().cloned()).collect();
        let headers = witness
            .headers
            .iter()
            .enumerate()
            .map(|(index, rlp)| {
                Header::decode(&mut rlp.as_ref()).map_err(|_| ProgramError::InvalidAncestorHeader { index })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ancestors = Ancestors::new(parent, parent.hash_slow(), &headers);
        Ok(Self { nodes, codes, ancestors })
    }
}

/// The witness nodes keyed by their hashes. Hashing is most of the work and independent per
/// node, so natively it runs on all cores.
#[cfg(feature = "std")]
fn hash_nodes(nodes: &[Bytes]) -> MapSource {
    let mut source = MapSource::new();
    for (hash, node) in parallel::map(nodes, HASHES_PER_THREAD, |_, node| keccak256(node)).zip(nodes) {
        source.insert_hashed(hash, node.clone());
    }
    source
}

/// In a guest, in one pass: the loop above measured 0.4 M cycles more on a mainnet block.
#[cfg(not(feature = "std"))]
fn hash_nodes(nodes: &[Bytes]) -> MapSource {
    MapSource::from_nodes(nodes.iter().cloned())
}

impl NodeSource for VerifiedWitness {
    fn node(&mut self, hash: &B256) -> Option<Bytes> {
        self.nodes.node(hash)
    }
}

impl WitnessSource for VerifiedWitness {
    fn code(&mut self, hash: &B256) -> Option<Bytes> {
        self.codes.get(hash).cloned()
    }
    fn block_hash(&mut self, number: u64) -> Option<B256> {
        self.ancestors.get(number)
    }
}

/// revm's database over a witness. Every answer comes from authenticated data or is an error.
#[derive(Debug)]
pub struct WitnessDb<S> {
    /// Where trie nodes, codes and ancestor hashes known only by hash are found.
    source: S,
    /// The state trie, updated after each block.
    state_trie: Trie,
    /// Storage tries of the accounts seen so far.
    storage_tries: AddressMap<Trie>,
    /// Bytecodes deployed during the batch.
    deployed: B256Map<Bytes>,
    /// Hashes of the blocks of this batch executed so far.
    batch_hashes: BTreeMap<u64, B256>,
    /// First witness failure seen, kept because revm reports database errors as text.
    failure: Option<StateError>,
}

impl<S: WitnessSource> WitnessDb<S> {
    /// A database rooted at `state_root`.
    pub fn new(source: S, state_root: B256) -> Self {
        Self {
            source,
            state_trie: Trie::from_root(state_root),
            storage_tries: AddressMap::default(),
            deployed: B256Map::default(),
            batch_hashes: BTreeMap::new(),
            failure: None,
        }
    }

    /// Records a block of this batch for later `BLOCKHASH` lookups.
    pub fn push_block_hash(&mut self, number: u64, hash: B256) {
        self.batch_hashes.insert(number, hash);
    }

    /// The first witness failure since the last call: revm reports database errors only as
    /// text, so the typed error is kept here.
    pub fn take_failure(&mut self) -> Option<StateError> {
        self.failure.take()
    }

    /// A bytecode by hash: deployed in this batch or in the witness.
    pub fn code(&mut self, hash: &B256) -> Option<Bytes> {
        self.deployed.get(hash).cloned().or_else(|| self.source.code(hash))
    }

    /// Bytecodes deployed during the batch.
    pub fn deployed_codes(&self) -> &B256Map<Bytes> {
        &self.deployed
    }

    /// Every trie node held in memory (new and changed ones, and those resolved from the
    /// source), with its hash.
    pub fn for_each_node(&mut self, mut f: impl FnMut(B256, Vec<u8>)) {
        self.state_trie.for_each_node(&mut f);
        for trie in self.storage_tries.values_mut() {
            trie.for_each_node(&mut f);
        }
    }

    /// The source, once execution is over.
    pub fn into_source(self) -> S {
        self.source
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
            self.deployed.insert(hash, code.original_bytes());
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

/// `code` as the EVM runs it: an EIP-7702 delegation when it is one, legacy code otherwise. Code
/// that starts like a delegation but is not one (another length or version: only a genesis can
/// hold it, EIP-3541 forbids deploying code that starts with 0xef) is legacy code, as geth runs
/// it; revm's `Bytecode::new_raw` would panic on it.
pub fn bytecode(code: Bytes) -> Bytecode {
    Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code))
}

impl<S: WitnessSource> Database for WitnessDb<S> {
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
        match self.code(&code_hash) {
            Some(code) => Ok(bytecode(code)),
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
        let known = self.batch_hashes.get(&number).copied().or_else(|| self.source.block_hash(number));
        match known {
            Some(hash) => Ok(hash),
            None => self.fail(StateError::MissingBlockHash(number)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, bytes};

    #[test]
    fn code_like_a_delegation_that_is_not_one_is_legacy_code() {
        let delegation = bytes!("ef01001111111111111111111111111111111111111111");
        let not_delegations = [
            bytes!("ef01"),
            bytes!("ef0100"),
            bytes!("ef010011111111111111111111111111111111111111"),
            bytes!("ef0100111111111111111111111111111111111111111100"),
            bytes!("ef01011111111111111111111111111111111111111111"),
        ];
        let witness = ExecutionWitness {
            codes: [delegation.clone()].into_iter().chain(not_delegations.clone()).collect(),
            ..Default::default()
        };
        let parent = Header { state_root: EMPTY_ROOT, ..Default::default() };
        let mut db = WitnessDb::new(VerifiedWitness::new(&witness, &parent).expect("verifies"), EMPTY_ROOT);

        let code = db.code_by_hash(keccak256(&delegation)).expect("in the witness");
        assert_eq!(code.eip7702_address(), Some(address!("1111111111111111111111111111111111111111")));
        for raw in not_delegations {
            let code = db.code_by_hash(keccak256(&raw)).expect("in the witness");
            assert!(code.is_legacy(), "{raw}");
            assert_eq!(code.original_bytes(), raw);
        }
    }
}
