//! What the program proves for an L2 batch beyond the state transition: the deposits hash,
//! the withdrawals Merkle root and the state-diff blob commitment (docs/l2.md).

mod blob;
mod eval;
mod merkle;
mod state_diff;

#[cfg(feature = "native-crypto")]
pub use blob::{blob_commits, commit_blob, open_blob, opens_to};
pub use blob::{pack_blob, unpack_blob, versioned_hash, Blob, KzgError, BLOB_BYTES, BLOB_CAPACITY};
pub use eval::{evaluate_blob, evaluation_point};
pub use merkle::{deposits_hash, merkle_proof, merkle_root, verify_merkle_proof};
pub use state_diff::{
    build_state_diff, AccountChange, AccountDiff, AccountState, CodeChange, StateDiff, StateDiffDecodeError,
    StateDiffError, WithdrawalMessage, STATE_DIFF_VERSION,
};

use alloc::{
    collections::{BTreeMap, BTreeSet},
    vec::Vec,
};
use alloy_primitives::{b256, Address, Log, B256, U256};
use bp_input::{EthBlock, L2Input, MESSENGER_ADDRESS};
use revm::{database::BundleState, state::AccountInfo};

use crate::{BlockReceipt, L2Commitments, L2Error, StateError, WitnessDb, WitnessSource};

/// What an L2 batch gathers block by block for its commitments: the withdrawals its receipts
/// log, the deposits its blocks carry and every account and slot it changes.
#[derive(Debug, Default)]
pub struct L2Batch {
    withdrawals: Vec<WithdrawalMessage>,
    deposits: Vec<B256>,
    changes: ChangeTracker,
}

impl L2Batch {
    /// Takes in one executed block: its withdrawals and deposits, and its state changes
    /// (`bundle`, before they are written to `db`'s tries, which still answer whether an
    /// account had storage at the start).
    pub fn record_block<S: WitnessSource>(
        &mut self,
        block: &EthBlock,
        receipts: &[BlockReceipt],
        bundle: &BundleState,
        db: &mut WitnessDb<S>,
    ) -> Result<(), StateError> {
        let logs = receipts.iter().flat_map(|r| r.logs.iter());
        self.withdrawals.extend(logs.filter_map(withdrawal_from_log));
        let privileged = block.body.transactions.iter().filter_map(|tx| tx.as_privileged());
        self.deposits.extend(privileged.map(|tx| tx.deposit_hash()));
        self.changes.record(bundle, |address| db.has_storage(address))
    }

    /// The batch's commitments: withdrawals root, deposits hash, the versioned hash of the blob
    /// `l2` commits to, and the blob's polynomial at the Fiat–Shamir point (the point and the
    /// value), where the blob is the state diff of blocks `first_block..=last_block` packed. The
    /// L1 contract checks the point and value against the posted blob (docs/l2.md).
    pub fn commit<S: WitnessSource>(
        self,
        first_block: u64,
        last_block: u64,
        db: &mut WitnessDb<S>,
        l2: &L2Input,
    ) -> Result<L2Commitments, L2Error> {
        let leaves: Vec<B256> = self.withdrawals.iter().map(WithdrawalMessage::leaf).collect();
        let withdrawals_root = merkle_root(&leaves);
        let deposits_hash = deposits_hash(&self.deposits).ok_or(L2Error::TooManyDeposits(self.deposits.len()))?;
        let diff = build_state_diff(
            first_block,
            last_block,
            &self.changes.accounts,
            self.withdrawals,
            self.deposits,
            |hash| db.code(hash),
        )?;
        let encoded = diff.encode();
        let blob =
            pack_blob(&encoded).ok_or(L2Error::StateDiffTooLarge { size: encoded.len(), capacity: BLOB_CAPACITY })?;
        let state_diff_hash = versioned_hash(&l2.blob_commitment);
        let blob_z = evaluation_point(&state_diff_hash, &encoded);
        let blob_y = evaluate_blob(&blob, &blob_z)?;
        Ok(L2Commitments { withdrawals_root, deposits_hash, state_diff_hash, blob_z, blob_y })
    }
}

/// `keccak256("L1Message(address,bytes32,uint256)")`: the messenger's withdrawal event, all
/// three arguments indexed.
pub const L1_MESSAGE_TOPIC: B256 = b256!("0x18d7b705344d616d1b61daa6a8ccfcf9f10c27ade007cc45cf870d1e121f1a9d");

/// The withdrawal a log records, if it is the messenger's `L1Message`.
pub fn withdrawal_from_log(log: &Log) -> Option<WithdrawalMessage> {
    let topics = log.topics();
    if log.address != MESSENGER_ADDRESS || topics.len() != 4 || topics[0] != L1_MESSAGE_TOPIC {
        return None;
    }
    Some(WithdrawalMessage {
        from: Address::from_word(topics[1]),
        data_hash: topics[2],
        message_id: U256::from_be_bytes(topics[3].0),
    })
}

fn account_state(info: &AccountInfo) -> AccountState {
    AccountState { balance: info.balance, nonce: info.nonce, code_hash: info.code_hash }
}

/// Follows every account and slot a batch changes, block by block, keeping the value at the
/// start of the batch and the latest one.
#[derive(Debug, Default)]
pub struct ChangeTracker {
    /// Every account changed so far, by address.
    pub accounts: BTreeMap<Address, AccountChange>,
    /// Accounts that existed with empty storage at the start and were wiped since.
    wiped_without_storage: BTreeSet<Address>,
}

impl ChangeTracker {
    /// Records one block's changes, before they are written to the tries. `had_storage` says
    /// whether an account had storage at the start of the batch (asked only for accounts a
    /// self-destruct wiped, the first time this tracker sees them).
    pub fn record<E>(
        &mut self,
        bundle: &BundleState,
        mut had_storage: impl FnMut(Address) -> Result<bool, E>,
    ) -> Result<(), E> {
        for (address, account) in &bundle.state {
            let first_seen = !self.accounts.contains_key(address);
            let entry = self.accounts.entry(*address).or_default();
            if first_seen {
                entry.initial = account.original_info.as_ref().map(account_state);
            }
            entry.current = account.info.as_ref().map(account_state);
            if account.status.was_destroyed() {
                let asked = entry.storage_cleared || self.wiped_without_storage.contains(address);
                if entry.initial.is_some() && !asked {
                    if had_storage(*address)? {
                        entry.storage_cleared = true;
                    } else {
                        self.wiped_without_storage.insert(*address);
                    }
                }
                // Every slot known so far now reads zero.
                for (_, current) in entry.storage.values_mut() {
                    *current = U256::ZERO;
                }
            }
            // A slot first seen after a wipe of an account that started without storage, or of
            // an account that did not exist, started at zero whatever revm's original says.
            let started_empty = entry.initial.is_none() || self.wiped_without_storage.contains(address);
            for (key, slot) in &account.storage {
                let key = B256::from(key.to_be_bytes::<32>());
                let before = if started_empty { U256::ZERO } else { slot.previous_or_original_value };
                let change = entry.storage.entry(key).or_insert((before, before));
                change.1 = slot.present_value;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    #[test]
    fn l1_message_topic() {
        assert_eq!(keccak256("L1Message(address,bytes32,uint256)"), L1_MESSAGE_TOPIC);
    }

    #[test]
    fn reads_messenger_logs_only() {
        let from = Address::repeat_byte(0xaa);
        let topics = vec![L1_MESSAGE_TOPIC, from.into_word(), B256::repeat_byte(1), B256::with_last_byte(7)];
        let log = Log::new_unchecked(MESSENGER_ADDRESS, topics.clone(), Default::default());
        let message = withdrawal_from_log(&log).expect("a withdrawal");
        assert_eq!(message, WithdrawalMessage { from, data_hash: B256::repeat_byte(1), message_id: U256::from(7) });
        let elsewhere = Log::new_unchecked(Address::ZERO, topics.clone(), Default::default());
        assert!(withdrawal_from_log(&elsewhere).is_none());
        let short = Log::new_unchecked(MESSENGER_ADDRESS, topics[..3].to_vec(), Default::default());
        assert!(withdrawal_from_log(&short).is_none());
    }
}
