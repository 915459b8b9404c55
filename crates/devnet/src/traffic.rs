//! Deterministic traffic: the same block number always gets the same transactions, so a
//! devnet is reproducible and its batches can be compared across runs.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use bp_input::{BlockTx, PrivilegedTx};
use k256::ecdsa::SigningKey;

use crate::contracts::{deploy_code, self_destruct_code, store_code, MESSENGER_ADDRESS, STORE_ADDRESS, TOKEN_ADDRESS};

/// A prefunded developer account.
#[derive(Clone)]
pub struct DevAccountKey {
    /// Its address.
    pub address: Address,
    key: SigningKey,
}

/// Prints the address only: a secret key is never printed.
impl std::fmt::Debug for DevAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevAccountKey").field("address", &self.address).finish_non_exhaustive()
    }
}

impl DevAccountKey {
    /// Account `index`: its secret key is `keccak256("blockprover devnet account {index}")`.
    pub fn new(index: usize) -> Self {
        let secret = keccak256(format!("blockprover devnet account {index}"));
        let key = SigningKey::from_slice(secret.as_slice()).expect("a keccak hash is a valid secp256k1 key here");
        Self { address: Address::from_public_key(key.verifying_key()), key }
    }

    fn sign(&self, tx: TxEip1559) -> BlockTx {
        let hash = tx.signature_hash();
        let (signature, recovery) = self.key.sign_prehash_recoverable(hash.as_slice()).expect("signing a 32-byte hash");
        let signature = Signature::from_signature_and_parity(signature, recovery.is_y_odd());
        BlockTx::Ethereum(TxEnvelope::Eip1559(tx.into_signed(signature)))
    }
}

/// Number of developer accounts.
pub const DEV_ACCOUNTS: usize = 8;

/// The L1 address deposits of block `n` come from.
pub fn l1_depositor(n: u64) -> Address {
    Address::left_padding_from(&(0x1_0000 + n % 4).to_be_bytes())
}

/// What one block's traffic needs to know about the state.
pub(crate) trait Nonces {
    fn nonce(&self, address: Address) -> u64;
}

/// The transactions of block `number`, given the accounts' nonces before it and the number of
/// deposits made so far (the next deposit's number).
pub(crate) fn block_transactions(
    number: u64,
    chain_id: u64,
    keys: &[DevAccountKey],
    state: &impl Nonces,
    mut next_deposit: u64,
) -> Vec<BlockTx> {
    let mut planned: std::collections::HashMap<Address, u64> = Default::default();
    let mut txs = Vec::new();
    let n = number as usize;
    let account = |i: usize| &keys[i % keys.len()];
    let mut send = |from: &DevAccountKey, to: TxKind, value: U256, input: Bytes, gas_limit: u64| {
        let nonce = planned.entry(from.address).or_insert_with(|| state.nonce(from.address));
        let tx = TxEip1559 {
            chain_id,
            nonce: *nonce,
            gas_limit,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to,
            value,
            access_list: AccessList::default(),
            input,
        };
        *nonce += 1;
        from.sign(tx)
    };
    let word = |x: u64| B256::from(U256::from(x).to_be_bytes::<32>());

    // A transfer of ether.
    txs.push(send(
        account(n),
        TxKind::Call(account(n + 3).address),
        U256::from(number) * U256::from(10u64.pow(15)),
        Bytes::new(),
        21_000,
    ));
    // A token transfer.
    let mut call = vec![0xa9, 0x05, 0x9c, 0xbb];
    call.extend_from_slice(account(n + 5).address.into_word().as_slice());
    call.extend_from_slice(word(number * 1000).as_slice());
    txs.push(send(account(n + 1), TxKind::Call(TOKEN_ADDRESS), U256::ZERO, call.into(), 80_000));
    // A storage write, and every third block a clear of an earlier slot.
    let value = if number.is_multiple_of(3) { 0 } else { number };
    let mut store = word(number % 5).to_vec();
    store.extend_from_slice(word(value).as_slice());
    txs.push(send(account(n + 2), TxKind::Call(STORE_ADDRESS), U256::ZERO, store.into(), 60_000));
    // A withdrawal: value sent to the messenger with a data hash.
    let data_hash = keccak256(format!("withdrawal of block {number}"));
    txs.push(send(
        account(n + 4),
        TxKind::Call(MESSENGER_ADDRESS),
        U256::from(10u64.pow(16)),
        data_hash.0.to_vec().into(),
        80_000,
    ));
    // A deposit of ether to a developer account.
    let deposit = |nonce: u64, to: Address, value: U256, data: Bytes| {
        BlockTx::Privileged(PrivilegedTx {
            chain_id,
            nonce,
            max_priority_fee_per_gas: 0,
            max_fee_per_gas: 0,
            gas_limit: 100_000,
            to,
            value,
            data,
            access_list: AccessList::default(),
            from: l1_depositor(number),
        })
    };
    txs.push(deposit(next_deposit, account(n + 6).address, U256::from(5u64 * 10u64.pow(17)), Bytes::new()));
    next_deposit += 1;
    // Every second block a deposit that calls a contract.
    if number.is_multiple_of(2) {
        let mut store = word(100 + number % 3).to_vec();
        store.extend_from_slice(word(number).as_slice());
        txs.push(deposit(next_deposit, STORE_ADDRESS, U256::ZERO, store.into()));
    }
    // Every third block a contract creation.
    if number % 3 == 1 {
        txs.push(send(account(n + 7), TxKind::Create, U256::ZERO, deploy_code(&store_code()), 200_000));
    }
    // Every fourth block a contract that self-destructs in its creating transaction.
    if number % 4 == 2 {
        txs.push(send(account(n), TxKind::Create, U256::from(1), self_destruct_code(), 100_000));
    }
    txs
}
