//! The mempool: signed transactions users sent, checked against the head state when they
//! arrive and handed to the next block in nonce order.
//!
//! Everything here is bounded before it is kept: a transaction's size, the pool's size, the
//! transactions one sender may queue and how far ahead of its nonce they may be.

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::{transaction::SignerRecoverable, Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, U256};
use bp_devnet::DevState;

/// Largest encoded transaction accepted (as geth's pool: 4 slots of 32 KiB).
pub const MAX_TX_BYTES: usize = 128 * 1024;
/// Transactions the pool holds at once.
pub const MAX_POOL_TXS: usize = 10_000;
/// Transactions one sender may have waiting.
pub const MAX_TXS_PER_SENDER: usize = 64;
/// How far ahead of its account's nonce a transaction may be.
pub const MAX_NONCE_GAP: u64 = 64;
/// A replacement (same sender and nonce) must raise both fees by this many percent.
pub const REPLACEMENT_BUMP_PERCENT: u128 = 10;

/// Why a transaction is refused. The messages follow geth's where geth has one, since
/// wallets match on them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The encoded transaction is larger than [`MAX_TX_BYTES`].
    #[error("oversized data: transaction of {got} bytes, the most is {max}")]
    TooLarge {
        /// Its size.
        got: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not an EIP-2718 transaction.
    #[error("rlp: cannot decode the transaction: {0}")]
    Decode(String),
    /// A transaction type this L2 does not take.
    #[error("transaction type not supported: {0}")]
    Unsupported(&'static str),
    /// Signed for another chain, or for none (pre-EIP-155, replayable on any chain).
    #[error("invalid chain id: got {got:?}, this chain is {expected}")]
    ChainId {
        /// The transaction's chain id.
        got: Option<u64>,
        /// The L2's.
        expected: u64,
    },
    /// The signature does not recover a sender.
    #[error("invalid sender: {0}")]
    Signature(String),
    /// The same transaction is already waiting.
    #[error("already known")]
    AlreadyKnown,
    /// The account has already used this nonce.
    #[error("nonce too low: next nonce {next}, tx nonce {got}")]
    NonceTooLow {
        /// The transaction's nonce.
        got: u64,
        /// The account's next nonce.
        next: u64,
    },
    /// Too far ahead of the account's nonce.
    #[error("nonce too high: next nonce {next}, tx nonce {got} (at most {MAX_NONCE_GAP} ahead)")]
    NonceTooHigh {
        /// The transaction's nonce.
        got: u64,
        /// The account's next nonce.
        next: u64,
    },
    /// The gas limit is more than a block holds.
    #[error("exceeds block gas limit: gas limit {got}, block gas limit {max}")]
    GasLimit {
        /// The transaction's gas limit.
        got: u64,
        /// The block's.
        max: u64,
    },
    /// The gas limit does not cover the transaction's intrinsic gas.
    #[error("intrinsic gas too low: gas limit {got}, needs {needed}")]
    IntrinsicGas {
        /// The transaction's gas limit.
        got: u64,
        /// What it needs before executing (EIP-7623 floor included).
        needed: u64,
    },
    /// The fee cap is below the next block's base fee.
    #[error("max fee per gas less than block base fee: max fee {max_fee}, base fee {base_fee}")]
    FeeTooLow {
        /// The transaction's fee cap.
        max_fee: u128,
        /// The next block's base fee.
        base_fee: u64,
    },
    /// The tip is above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// The account cannot pay for this transaction and those before it.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// The account's balance.
        balance: U256,
        /// What its waiting transactions up to this one may cost.
        cost: U256,
    },
    /// A transaction with the same nonce waits and this one does not pay enough more.
    #[error("replacement transaction underpriced: raise both fees by {REPLACEMENT_BUMP_PERCENT}%")]
    ReplacementUnderpriced,
    /// The sender has [`MAX_TXS_PER_SENDER`] transactions waiting.
    #[error("account has {MAX_TXS_PER_SENDER} transactions waiting: wait for them to be included")]
    SenderFull,
    /// The pool holds [`MAX_POOL_TXS`] transactions.
    #[error("txpool is full")]
    Full,
}

/// A waiting transaction.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// The transaction.
    pub envelope: TxEnvelope,
    /// Its hash.
    pub hash: B256,
    /// Its recovered sender.
    pub sender: Address,
    /// Arrival order.
    seq: u64,
}

impl PoolTx {
    /// The most it can cost its sender: every unit of gas at the fee cap, and the value.
    fn max_cost(&self) -> U256 {
        U256::from(self.envelope.gas_limit()) * U256::from(self.envelope.max_fee_per_gas()) + self.envelope.value()
    }
}

/// What a transaction is checked against when it arrives.
#[derive(Debug, Clone, Copy)]
pub struct Admission<'a> {
    /// The head state.
    pub state: &'a DevState,
    /// The chain's id.
    pub chain_id: u64,
    /// The next block's base fee.
    pub base_fee: u64,
    /// A block's gas limit.
    pub block_gas_limit: u64,
    /// The rules the next block runs under (for intrinsic gas).
    pub spec: revm::primitives::hardfork::SpecId,
}

/// The waiting transactions, by sender and nonce.
#[derive(Debug, Default)]
pub struct Mempool {
    senders: HashMap<Address, BTreeMap<u64, PoolTx>>,
    hashes: HashMap<B256, (Address, u64)>,
    seq: u64,
}

impl Mempool {
    /// Checks `raw` (an EIP-2718 encoded signed transaction) and keeps it; returns its hash.
    pub fn add(&mut self, raw: &[u8], at: Admission<'_>) -> Result<B256, PoolError> {
        if raw.len() > MAX_TX_BYTES {
            return Err(PoolError::TooLarge { got: raw.len(), max: MAX_TX_BYTES });
        }
        let mut slice = raw;
        let envelope = TxEnvelope::decode_2718(&mut slice).map_err(|e| PoolError::Decode(e.to_string()))?;
        if !slice.is_empty() {
            return Err(PoolError::Decode(format!("{} bytes after the transaction", slice.len())));
        }
        if envelope.is_eip4844() {
            return Err(PoolError::Unsupported("EIP-4844 blob transactions (the L2 carries no blobs)"));
        }
        if envelope.chain_id() != Some(at.chain_id) {
            return Err(PoolError::ChainId { got: envelope.chain_id(), expected: at.chain_id });
        }
        let sender = envelope.recover_signer().map_err(|e| PoolError::Signature(e.to_string()))?;
        let hash = *envelope.tx_hash();
        if self.hashes.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let account = at.state.accounts.get(&sender);
        let next = account.map_or(0, |a| a.nonce);
        let nonce = envelope.nonce();
        if nonce < next {
            return Err(PoolError::NonceTooLow { got: nonce, next });
        }
        if nonce > next + MAX_NONCE_GAP {
            return Err(PoolError::NonceTooHigh { got: nonce, next });
        }
        if envelope.gas_limit() > at.block_gas_limit {
            return Err(PoolError::GasLimit { got: envelope.gas_limit(), max: at.block_gas_limit });
        }
        let needed = intrinsic_gas(&envelope, at.spec);
        if envelope.gas_limit() < needed {
            return Err(PoolError::IntrinsicGas { got: envelope.gas_limit(), needed });
        }
        if envelope.max_priority_fee_per_gas().is_some_and(|tip| tip > envelope.max_fee_per_gas()) {
            return Err(PoolError::TipAboveFeeCap);
        }
        if envelope.max_fee_per_gas() < u128::from(at.base_fee) {
            return Err(PoolError::FeeTooLow { max_fee: envelope.max_fee_per_gas(), base_fee: at.base_fee });
        }
        let tx = PoolTx { envelope, hash, sender, seq: self.seq };
        let waiting = self.senders.get(&sender);
        let replaced = waiting.and_then(|w| w.get(&nonce));
        if let Some(old) = replaced {
            let bumped = |new: u128, old: u128| new * 100 >= old * (100 + REPLACEMENT_BUMP_PERCENT);
            let tip = |t: &TxEnvelope| t.max_priority_fee_per_gas().unwrap_or(t.max_fee_per_gas());
            if !bumped(tx.envelope.max_fee_per_gas(), old.envelope.max_fee_per_gas())
                || !bumped(tip(&tx.envelope), tip(&old.envelope))
            {
                return Err(PoolError::ReplacementUnderpriced);
            }
        } else {
            if waiting.is_some_and(|w| w.len() >= MAX_TXS_PER_SENDER) {
                return Err(PoolError::SenderFull);
            }
            if self.hashes.len() >= MAX_POOL_TXS {
                return Err(PoolError::Full);
            }
        }
        // The account pays for every waiting transaction before this one, and this one.
        let before: U256 = waiting.into_iter().flat_map(|w| w.range(..nonce)).map(|(_, t)| t.max_cost()).sum();
        let cost = before + tx.max_cost();
        let balance = account.map_or(U256::ZERO, |a| a.balance);
        if cost > balance {
            return Err(PoolError::InsufficientFunds { balance, cost });
        }
        self.seq += 1;
        if let Some(old) = self.senders.entry(sender).or_default().insert(nonce, tx) {
            self.hashes.remove(&old.hash);
        }
        self.hashes.insert(hash, (sender, nonce));
        Ok(hash)
    }

    /// A waiting transaction.
    pub fn get(&self, hash: &B256) -> Option<&PoolTx> {
        let (sender, nonce) = self.hashes.get(hash)?;
        self.senders.get(sender)?.get(nonce)
    }

    /// Transactions waiting.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The next nonce of `sender` counting its waiting transactions (`eth_getTransactionCount`
    /// at `pending`).
    pub fn pending_nonce(&self, sender: Address, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(waiting) = self.senders.get(&sender) {
            while waiting.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// The transactions the next block takes: per sender, consecutive nonces from its
    /// account's, while its balance covers them and the fee cap covers `base_fee`; senders in
    /// arrival order, up to `gas_budget` of gas limits.
    pub fn select(&self, state: &DevState, base_fee: u64, gas_budget: u64) -> Vec<PoolTx> {
        let mut senders: Vec<(&Address, &BTreeMap<u64, PoolTx>)> = self.senders.iter().collect();
        senders.sort_by_key(|(_, w)| w.values().map(|t| t.seq).min());
        let mut gas = 0u64;
        let mut chosen = Vec::new();
        for (sender, waiting) in senders {
            let account = state.accounts.get(sender);
            let (mut nonce, balance) = account.map_or((0, U256::ZERO), |a| (a.nonce, a.balance));
            let mut spent = U256::ZERO;
            while let Some(tx) = waiting.get(&nonce) {
                let fits_gas = gas.saturating_add(tx.envelope.gas_limit()) <= gas_budget;
                let affordable = spent + tx.max_cost() <= balance;
                if !fits_gas || !affordable || tx.envelope.max_fee_per_gas() < u128::from(base_fee) {
                    break;
                }
                gas += tx.envelope.gas_limit();
                spent += tx.max_cost();
                chosen.push(tx.clone());
                nonce += 1;
            }
        }
        chosen
    }

    /// Drops every transaction whose nonce its account has used (included, or replaced by
    /// another transaction of the same nonce).
    pub fn prune(&mut self, state: &DevState) {
        let hashes = &mut self.hashes;
        self.senders.retain(|sender, waiting| {
            let next = state.accounts.get(sender).map_or(0, |a| a.nonce);
            let keep = waiting.split_off(&next);
            for tx in waiting.values() {
                hashes.remove(&tx.hash);
            }
            *waiting = keep;
            !waiting.is_empty()
        });
    }

    /// Drops one transaction (a block refused it).
    pub fn remove(&mut self, hash: &B256) -> Option<PoolTx> {
        let (sender, nonce) = self.hashes.remove(hash)?;
        let waiting = self.senders.get_mut(&sender)?;
        let tx = waiting.remove(&nonce);
        if waiting.is_empty() {
            self.senders.remove(&sender);
        }
        tx
    }
}

/// The gas a transaction pays before it executes, or its EIP-7623 calldata floor if higher, as
/// revm charges it.
pub fn intrinsic_gas(tx: &TxEnvelope, spec: revm::primitives::hardfork::SpecId) -> u64 {
    let (accounts, slots) = tx
        .access_list()
        .map_or((0, 0), |list| (list.len() as u64, list.iter().map(|item| item.storage_keys.len() as u64).sum()));
    let authorizations = tx.authorization_list().map_or(0, |list| list.len() as u64);
    let gas = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        spec,
        tx.input(),
        tx.is_create(),
        accounts,
        slots,
        authorizations,
        None,
    );
    (gas.initial_regular_gas + gas.initial_state_gas).max(gas.floor_gas)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::{SignableTransaction, TxEip1559, TxLegacy};
    use alloy_eips::eip2718::Encodable2718;
    use alloy_primitives::{Signature, TxKind};
    use bp_devnet::DevAccount;
    use k256::ecdsa::SigningKey;
    use revm::primitives::hardfork::SpecId;

    const CHAIN: u64 = 7;

    fn key() -> (SigningKey, Address) {
        let key = SigningKey::from_slice(&[7u8; 32]).expect("a valid key");
        let address = Address::from_public_key(key.verifying_key());
        (key, address)
    }

    fn sign(key: &SigningKey, tx: TxEip1559) -> Vec<u8> {
        let (sig, recovery) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).expect("signs");
        let signed = tx.into_signed(Signature::from_signature_and_parity(sig, recovery.is_y_odd()));
        TxEnvelope::Eip1559(signed).encoded_2718()
    }

    fn transfer(nonce: u64) -> TxEip1559 {
        TxEip1559 {
            chain_id: CHAIN,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 10,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(Address::repeat_byte(9)),
            value: U256::from(5),
            ..Default::default()
        }
    }

    fn state(address: Address, balance: u64, nonce: u64) -> DevState {
        let mut state = DevState::default();
        state.accounts.insert(address, DevAccount { balance: U256::from(balance), nonce, ..Default::default() });
        state
    }

    fn at(state: &DevState) -> Admission<'_> {
        Admission { state, chain_id: CHAIN, base_fee: 7, block_gas_limit: 30_000_000, spec: SpecId::PRAGUE }
    }

    #[test]
    fn transactions_are_refused_for_the_right_reason() {
        let (key, sender) = key();
        let state = state(sender, 1_000_000, 3);
        let mut pool = Mempool::default();
        let refused = |pool: &mut Mempool, tx: TxEip1559| pool.add(&sign(&key, tx), at(&state)).unwrap_err();
        assert_eq!(refused(&mut pool, transfer(2)), PoolError::NonceTooLow { got: 2, next: 3 });
        assert_eq!(refused(&mut pool, transfer(3 + MAX_NONCE_GAP + 1)), PoolError::NonceTooHigh { got: 68, next: 3 });
        assert_eq!(
            refused(&mut pool, TxEip1559 { chain_id: 1, ..transfer(3) }),
            PoolError::ChainId { got: Some(1), expected: CHAIN }
        );
        assert_eq!(
            refused(&mut pool, TxEip1559 { gas_limit: 20_999, ..transfer(3) }),
            PoolError::IntrinsicGas { got: 20_999, needed: 21_000 }
        );
        assert_eq!(
            refused(&mut pool, TxEip1559 { max_fee_per_gas: 6, max_priority_fee_per_gas: 0, ..transfer(3) }),
            PoolError::FeeTooLow { max_fee: 6, base_fee: 7 }
        );
        assert_eq!(
            refused(&mut pool, TxEip1559 { gas_limit: 40_000_000, ..transfer(3) }),
            PoolError::GasLimit { got: 40_000_000, max: 30_000_000 }
        );
        assert_eq!(
            refused(&mut pool, TxEip1559 { value: U256::from(1_000_000), ..transfer(3) }),
            PoolError::InsufficientFunds { balance: U256::from(1_000_000), cost: U256::from(1_210_000) }
        );
        assert!(matches!(pool.add(&[0x02, 0xc0], at(&state)), Err(PoolError::Decode(_))));
        assert!(matches!(pool.add(&vec![0; MAX_TX_BYTES + 1], at(&state)), Err(PoolError::TooLarge { .. })));
        // A pre-EIP-155 transaction could be replayed on any chain.
        let legacy =
            TxLegacy { nonce: 3, gas_price: 10, gas_limit: 21_000, to: TxKind::Call(sender), ..Default::default() };
        let (sig, recovery) = key.sign_prehash_recoverable(legacy.signature_hash().as_slice()).expect("signs");
        let raw =
            TxEnvelope::Legacy(legacy.into_signed(Signature::from_signature_and_parity(sig, recovery.is_y_odd())))
                .encoded_2718();
        assert_eq!(pool.add(&raw, at(&state)), Err(PoolError::ChainId { got: None, expected: CHAIN }));
        assert!(pool.is_empty(), "nothing refused is kept");
    }

    #[test]
    fn a_sender_pays_for_all_its_waiting_transactions_and_replacements_must_pay_more() {
        let (key, sender) = key();
        // Two transfers cost 2 × 210,005: the third does not fit the balance.
        let state = state(sender, 2 * 210_005 + 100, 0);
        let mut pool = Mempool::default();
        let first = pool.add(&sign(&key, transfer(0)), at(&state)).expect("first");
        pool.add(&sign(&key, transfer(1)), at(&state)).expect("second");
        assert!(matches!(pool.add(&sign(&key, transfer(2)), at(&state)), Err(PoolError::InsufficientFunds { .. })));
        assert_eq!(pool.add(&sign(&key, transfer(0)), at(&state)), Err(PoolError::AlreadyKnown));
        let cheap = TxEip1559 { max_fee_per_gas: 10, max_priority_fee_per_gas: 1, value: U256::from(6), ..transfer(0) };
        assert_eq!(pool.add(&sign(&key, cheap), at(&state)), Err(PoolError::ReplacementUnderpriced));
        assert_eq!(pool.pending_nonce(sender, 0), 2);
        let chosen = pool.select(&state, 7, 30_000_000);
        assert_eq!(chosen.iter().map(|t| t.envelope.nonce()).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(pool.select(&state, 7, 30_000).len(), 1, "the gas budget bounds the block");
        assert!(pool.select(&state, 11, 30_000_000).is_empty(), "fee caps below the base fee wait");
        // Once nonce 0 is used, it leaves the pool.
        let after = self::state(sender, 1_000_000, 1);
        pool.prune(&after);
        assert!(pool.get(&first).is_none());
        assert_eq!(pool.len(), 1);
    }
}
