//! The batch's state diff: what changed between the initial and the final state, in the
//! versioned byte encoding of docs/l2.md, so that anyone holding the blob can rebuild the L2
//! state from L1 data alone.

use alloc::{collections::BTreeMap, vec::Vec};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};

/// The encoding version this code writes and reads.
pub const STATE_DIFF_VERSION: u8 = 1;

/// Flags of an account entry, in the order its fields follow.
mod flag {
    pub(super) const BALANCE: u8 = 0x01;
    pub(super) const NONCE: u8 = 0x02;
    pub(super) const STORAGE: u8 = 0x04;
    pub(super) const CODE: u8 = 0x08;
    pub(super) const CODE_HASH: u8 = 0x10;
    pub(super) const STORAGE_CLEARED: u8 = 0x20;
    pub(super) const REMOVED: u8 = 0x40;
    pub(super) const ALL: u8 = 0x7f;
}

/// How an account's code changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeChange {
    /// The full bytecode (its first appearance in this diff).
    Full(Bytes),
    /// The hash of a bytecode given in full by an earlier entry of this diff.
    Hash(B256),
}

/// One account's changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountDiff {
    /// The account.
    pub address: Address,
    /// The account existed at the start and does not at the end; nothing else is set.
    pub removed: bool,
    /// The new balance, if it changed.
    pub balance: Option<U256>,
    /// How much the nonce went up, if it did.
    pub nonce_increase: Option<u64>,
    /// All storage was wiped during the batch (a self-destruct); `storage` then lists every
    /// non-zero slot of the final state.
    pub storage_cleared: bool,
    /// Slots whose final value differs from the initial one (zero: cleared), by slot key.
    pub storage: Vec<(B256, U256)>,
    /// The new code, if it changed.
    pub code: Option<CodeChange>,
}

/// A withdrawal: an `L1Message` of the messenger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawalMessage {
    /// Who sent it on L2 (the messenger's caller).
    pub from: Address,
    /// The hash of the message's data (what the L1 side decodes and checks).
    pub data_hash: B256,
    /// The messenger's running message number, unique per withdrawal.
    pub message_id: U256,
}

impl WithdrawalMessage {
    /// The Merkle leaf `keccak256(from ‖ dataHash ‖ messageId)`.
    pub fn leaf(&self) -> B256 {
        let mut preimage = [0u8; 20 + 32 + 32];
        preimage[..20].copy_from_slice(self.from.as_slice());
        preimage[20..52].copy_from_slice(self.data_hash.as_slice());
        preimage[52..].copy_from_slice(&self.message_id.to_be_bytes::<32>());
        keccak256(preimage)
    }
}

/// Everything the batch changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StateDiff {
    /// The batch's first block.
    pub first_block: u64,
    /// The batch's last block.
    pub last_block: u64,
    /// By ascending address.
    pub accounts: Vec<AccountDiff>,
    /// The batch's withdrawals, in order.
    pub withdrawals: Vec<WithdrawalMessage>,
    /// Deposit hashes of the batch's privileged transactions, in order.
    pub deposits: Vec<B256>,
}

/// Bytes that are not a state diff this code can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateDiffDecodeError {
    /// Another encoding version.
    #[error("state diff version {0} is not supported (this build reads {STATE_DIFF_VERSION})")]
    Version(u8),
    /// The bytes end inside an item.
    #[error("state diff ends early")]
    Truncated,
    /// An account entry with flags that are unknown or cannot go together.
    #[error("account {0} has unknown or contradictory flags {1:#04x}")]
    Flags(Address, u8),
    /// Accounts out of ascending address order (or listed twice).
    #[error("accounts are not in ascending address order at {0}")]
    Order(Address),
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

impl StateDiff {
    /// The versioned encoding (docs/l2.md): `version u8 ‖ first_block u64 ‖ last_block u64 ‖
    /// accounts ‖ withdrawals ‖ deposits`, every count a big-endian u32.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.push(STATE_DIFF_VERSION);
        out.extend_from_slice(&self.first_block.to_be_bytes());
        out.extend_from_slice(&self.last_block.to_be_bytes());
        put_u32(&mut out, self.accounts.len());
        for account in &self.accounts {
            out.extend_from_slice(account.address.as_slice());
            let mut flags = 0u8;
            let mut set = |on: bool, bit: u8| {
                if on {
                    flags |= bit;
                }
            };
            set(account.removed, flag::REMOVED);
            set(account.balance.is_some(), flag::BALANCE);
            set(account.nonce_increase.is_some(), flag::NONCE);
            set(!account.storage.is_empty(), flag::STORAGE);
            set(account.storage_cleared, flag::STORAGE_CLEARED);
            set(matches!(account.code, Some(CodeChange::Full(_))), flag::CODE);
            set(matches!(account.code, Some(CodeChange::Hash(_))), flag::CODE_HASH);
            out.push(flags);
            if let Some(balance) = account.balance {
                out.extend_from_slice(&balance.to_be_bytes::<32>());
            }
            if let Some(nonce) = account.nonce_increase {
                out.extend_from_slice(&nonce.to_be_bytes());
            }
            if !account.storage.is_empty() {
                put_u32(&mut out, account.storage.len());
                for (slot, value) in &account.storage {
                    out.extend_from_slice(slot.as_slice());
                    out.extend_from_slice(&value.to_be_bytes::<32>());
                }
            }
            match &account.code {
                Some(CodeChange::Full(code)) => {
                    put_u32(&mut out, code.len());
                    out.extend_from_slice(code);
                }
                Some(CodeChange::Hash(hash)) => out.extend_from_slice(hash.as_slice()),
                None => {}
            }
        }
        put_u32(&mut out, self.withdrawals.len());
        for w in &self.withdrawals {
            out.extend_from_slice(w.from.as_slice());
            out.extend_from_slice(w.data_hash.as_slice());
            out.extend_from_slice(&w.message_id.to_be_bytes::<32>());
        }
        put_u32(&mut out, self.deposits.len());
        for d in &self.deposits {
            out.extend_from_slice(d.as_slice());
        }
        out
    }

    /// Reads [`Self::encode`]'s bytes. Trailing zero bytes (blob padding) are allowed.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateDiffDecodeError> {
        let mut r = Reader(bytes);
        let version = r.u8()?;
        if version != STATE_DIFF_VERSION {
            return Err(StateDiffDecodeError::Version(version));
        }
        let first_block = r.u64()?;
        let last_block = r.u64()?;
        let count = r.u32()?;
        let mut accounts: Vec<AccountDiff> = Vec::new();
        for _ in 0..count {
            let address = Address::from_slice(r.take(20)?);
            if accounts.last().is_some_and(|a| a.address >= address) {
                return Err(StateDiffDecodeError::Order(address));
            }
            let flags = r.u8()?;
            let contradictory = flags & !flag::ALL != 0
                || (flags & flag::REMOVED != 0 && flags != flag::REMOVED)
                || (flags & flag::CODE != 0 && flags & flag::CODE_HASH != 0);
            if contradictory {
                return Err(StateDiffDecodeError::Flags(address, flags));
            }
            let mut account = AccountDiff {
                address,
                removed: flags & flag::REMOVED != 0,
                storage_cleared: flags & flag::STORAGE_CLEARED != 0,
                ..Default::default()
            };
            if flags & flag::BALANCE != 0 {
                account.balance = Some(r.u256()?);
            }
            if flags & flag::NONCE != 0 {
                account.nonce_increase = Some(r.u64()?);
            }
            if flags & flag::STORAGE != 0 {
                let slots = r.u32()?;
                for _ in 0..slots {
                    let slot = B256::from_slice(r.take(32)?);
                    account.storage.push((slot, r.u256()?));
                }
            }
            if flags & flag::CODE != 0 {
                let len = r.u32()? as usize;
                account.code = Some(CodeChange::Full(Bytes::copy_from_slice(r.take(len)?)));
            }
            if flags & flag::CODE_HASH != 0 {
                account.code = Some(CodeChange::Hash(B256::from_slice(r.take(32)?)));
            }
            accounts.push(account);
        }
        let mut withdrawals = Vec::new();
        for _ in 0..r.u32()? {
            let from = Address::from_slice(r.take(20)?);
            let data_hash = B256::from_slice(r.take(32)?);
            withdrawals.push(WithdrawalMessage { from, data_hash, message_id: r.u256()? });
        }
        let mut deposits = Vec::new();
        for _ in 0..r.u32()? {
            deposits.push(B256::from_slice(r.take(32)?));
        }
        Ok(Self { first_block, last_block, accounts, withdrawals, deposits })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StateDiffDecodeError> {
        if self.0.len() < n {
            return Err(StateDiffDecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, StateDiffDecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, StateDiffDecodeError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> Result<u64, StateDiffDecodeError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn u256(&mut self) -> Result<U256, StateDiffDecodeError> {
        Ok(U256::from_be_slice(self.take(32)?))
    }
}

/// An account as the diff compares it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountState {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Hash of the code.
    pub code_hash: B256,
}

/// A state diff that cannot be expressed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateDiffError {
    /// An account's nonce went down, which the encoding cannot express.
    #[error("nonce of {address} went down from {initial} to {current}")]
    NonceDecrease {
        /// The account.
        address: Address,
        /// Its nonce at the start.
        initial: u64,
        /// Its nonce at the end.
        current: u64,
    },
    /// The code of a changed account is not known.
    #[error("code {0} of a changed account is not known")]
    MissingCode(B256),
}

/// One account's initial and final state over the batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccountChange {
    /// At the start of the batch (`None`: did not exist).
    pub initial: Option<AccountState>,
    /// At the end of the batch (`None`: does not exist).
    pub current: Option<AccountState>,
    /// Storage was wiped during the batch while the account had storage at its start.
    pub storage_cleared: bool,
    /// Per slot key: (value at the start of the batch, value at the end).
    pub storage: BTreeMap<B256, (U256, U256)>,
}

/// Builds the diff from per-account changes (by address) and the batch's messages. `code`
/// answers a code hash with its bytecode. Deterministic, so a block builder and the program
/// produce the same bytes from the same changes.
pub fn build_state_diff(
    first_block: u64,
    last_block: u64,
    changes: &BTreeMap<Address, AccountChange>,
    withdrawals: Vec<WithdrawalMessage>,
    deposits: Vec<B256>,
    mut code: impl FnMut(&B256) -> Option<Bytes>,
) -> Result<StateDiff, StateDiffError> {
    let mut accounts = Vec::new();
    let mut codes_given = alloy_primitives::map::B256Set::default();
    for (address, change) in changes {
        let mut diff = AccountDiff { address: *address, ..Default::default() };
        let Some(current) = &change.current else {
            if change.initial.is_some() {
                diff.removed = true;
                accounts.push(diff);
            }
            continue;
        };
        let initial = change.initial.clone();
        let was = initial
            .clone()
            .unwrap_or(AccountState { code_hash: alloy_primitives::KECCAK256_EMPTY, ..Default::default() });
        if current.balance != was.balance {
            diff.balance = Some(current.balance);
        }
        if current.nonce < was.nonce {
            return Err(StateDiffError::NonceDecrease {
                address: *address,
                initial: was.nonce,
                current: current.nonce,
            });
        }
        if current.nonce != was.nonce {
            diff.nonce_increase = Some(current.nonce - was.nonce);
        }
        diff.storage_cleared = change.storage_cleared;
        diff.storage = change
            .storage
            .iter()
            .filter(|(_, (before, after))| if change.storage_cleared { !after.is_zero() } else { before != after })
            .map(|(slot, (_, after))| (*slot, *after))
            .collect();
        if current.code_hash != was.code_hash {
            let hash = current.code_hash;
            diff.code = Some(if codes_given.insert(hash) {
                CodeChange::Full(code(&hash).ok_or(StateDiffError::MissingCode(hash))?)
            } else {
                CodeChange::Hash(hash)
            });
        }
        let unchanged = initial.is_some()
            && diff.balance.is_none()
            && diff.nonce_increase.is_none()
            && diff.storage.is_empty()
            && !diff.storage_cleared
            && diff.code.is_none();
        if !unchanged {
            accounts.push(diff);
        }
    }
    Ok(StateDiff { first_block, last_block, accounts, withdrawals, deposits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, b256, hex};

    fn sample() -> StateDiff {
        StateDiff {
            first_block: 5,
            last_block: 8,
            accounts: vec![
                AccountDiff {
                    address: address!("0x0000000000000000000000000000000000000001"),
                    balance: Some(U256::from(7)),
                    nonce_increase: Some(2),
                    storage: vec![(B256::with_last_byte(1), U256::from(9)), (B256::with_last_byte(2), U256::ZERO)],
                    code: Some(CodeChange::Full(Bytes::from_static(&hex!("6000")))),
                    ..Default::default()
                },
                AccountDiff {
                    address: address!("0x0000000000000000000000000000000000000002"),
                    code: Some(CodeChange::Hash(keccak256(hex!("6000")))),
                    storage_cleared: true,
                    ..Default::default()
                },
                AccountDiff {
                    address: address!("0x0000000000000000000000000000000000000003"),
                    removed: true,
                    ..Default::default()
                },
            ],
            withdrawals: vec![WithdrawalMessage {
                from: address!("0x00000000000000000000000000000000000000aa"),
                data_hash: B256::repeat_byte(0x11),
                message_id: U256::from(4),
            }],
            deposits: vec![B256::repeat_byte(0x22)],
        }
    }

    #[test]
    fn round_trip_with_blob_padding() {
        let diff = sample();
        let mut bytes = diff.encode();
        assert_eq!(StateDiff::decode(&bytes), Ok(diff.clone()));
        bytes.resize(bytes.len() + 100, 0);
        assert_eq!(StateDiff::decode(&bytes), Ok(diff));
    }

    /// The encoding of a small diff, laid out field by field from docs/l2.md.
    #[test]
    fn encoding_vector() {
        let diff = StateDiff {
            first_block: 1,
            last_block: 2,
            accounts: vec![AccountDiff {
                address: address!("0x00000000000000000000000000000000000000aa"),
                balance: Some(U256::from(0x10)),
                storage: vec![(B256::with_last_byte(1), U256::from(2))],
                ..Default::default()
            }],
            withdrawals: vec![],
            deposits: vec![b256!("0x2222222222222222222222222222222222222222222222222222222222222222")],
        };
        let expected = hex!(
            "01" "0000000000000001" "0000000000000002"
            "00000001" "00000000000000000000000000000000000000aa" "05"
            "0000000000000000000000000000000000000000000000000000000000000010"
            "00000001"
            "0000000000000000000000000000000000000000000000000000000000000001"
            "0000000000000000000000000000000000000000000000000000000000000002"
            "00000000"
            "00000001" "2222222222222222222222222222222222222222222222222222222222222222"
        );
        assert_eq!(diff.encode(), expected.to_vec());
    }

    #[test]
    fn rejects_malformed() {
        let bytes = sample().encode();
        assert_eq!(StateDiff::decode(&bytes[..bytes.len() - 1]), Err(StateDiffDecodeError::Truncated));
        let mut other = bytes.clone();
        other[0] = 2;
        assert_eq!(StateDiff::decode(&other), Err(StateDiffDecodeError::Version(2)));
        let mut bad_flags = bytes;
        bad_flags[1 + 8 + 8 + 4 + 20] = 0x41;
        assert!(matches!(StateDiff::decode(&bad_flags), Err(StateDiffDecodeError::Flags(_, 0x41))));
    }

    #[test]
    fn builds_only_real_changes_and_dedupes_code() {
        let code = Bytes::from_static(&hex!("6001"));
        let hash = keccak256(&code);
        let empty = alloy_primitives::KECCAK256_EMPTY;
        let a = |n: u8| Address::with_last_byte(n);
        let mut changes = BTreeMap::new();
        let unchanged = AccountState { balance: U256::from(1), nonce: 1, code_hash: empty };
        changes.insert(
            a(1),
            AccountChange { initial: Some(unchanged.clone()), current: Some(unchanged), ..Default::default() },
        );
        let created = AccountState { balance: U256::ZERO, nonce: 1, code_hash: hash };
        changes.insert(a(2), AccountChange { current: Some(created.clone()), ..Default::default() });
        changes.insert(a(3), AccountChange { current: Some(created), ..Default::default() });
        let mut storage = BTreeMap::new();
        storage.insert(B256::with_last_byte(1), (U256::from(5), U256::from(5)));
        storage.insert(B256::with_last_byte(2), (U256::from(5), U256::ZERO));
        let held = AccountState { balance: U256::from(3), nonce: 0, code_hash: empty };
        changes.insert(
            a(4),
            AccountChange { initial: Some(held.clone()), current: Some(held), storage, ..Default::default() },
        );
        changes.insert(a(5), AccountChange { initial: None, current: None, ..Default::default() });
        let diff =
            build_state_diff(1, 1, &changes, vec![], vec![], |h| (*h == hash).then(|| code.clone())).expect("builds");
        let addresses: Vec<_> = diff.accounts.iter().map(|d| d.address).collect();
        assert_eq!(addresses, vec![a(2), a(3), a(4)]);
        assert_eq!(diff.accounts[0].code, Some(CodeChange::Full(code.clone())));
        assert_eq!(diff.accounts[1].code, Some(CodeChange::Hash(hash)));
        assert_eq!(diff.accounts[2].storage, vec![(B256::with_last_byte(2), U256::ZERO)]);
        let lower = AccountState { nonce: 0, ..Default::default() };
        let mut bad = BTreeMap::new();
        bad.insert(
            a(9),
            AccountChange {
                initial: Some(AccountState { nonce: 2, ..Default::default() }),
                current: Some(lower),
                ..Default::default()
            },
        );
        assert!(matches!(
            build_state_diff(1, 1, &bad, vec![], vec![], |_| None),
            Err(StateDiffError::NonceDecrease { .. })
        ));
    }
}
