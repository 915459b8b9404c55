//! Deterministic traffic: the same block number always gets the same transactions, so a
//! devnet is reproducible and its batches can be compared across runs.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2930::AccessList;
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, B256, U256};
use bp_input::{BlockTx, PrivilegedTx};
use k256::ecdsa::SigningKey;

use alloy_sol_types::SolCall;
use bp_input::L2_BRIDGE_ADDRESS;

use crate::contracts::{deploy_code, self_destruct_code, store_code, L2Bridge, STORE_ADDRESS, TOKEN_ADDRESS};

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

/// The L1 address deposits of block `n` come from (in the embedded devnet, without an L1).
pub fn l1_depositor(n: u64) -> Address {
    Address::left_padding_from(&(0x1_0000 + n % 4).to_be_bytes())
}

/// The L1 address the embedded devnet's withdrawals go to.
pub const WITHDRAWAL_RECEIVER: Address = Address::repeat_byte(0xa1);

/// A deposit a block of `number` makes: ether to a developer account, and every second block
/// a call to the storage contract. `(to, value, gas limit, data)`; the devnet with an L1 sends
/// these through the L1 bridge, the embedded one makes them up.
pub fn block_deposits(number: u64, keys: &[DevAccountKey]) -> Vec<(Address, U256, u64, Bytes)> {
    let account = |i: usize| keys[i % keys.len()].address;
    let n = number as usize;
    let mut deposits = vec![(account(n + 6), U256::from(5u64 * 10u64.pow(17)), 100_000, Bytes::new())];
    if number.is_multiple_of(2) {
        let word = |x: u64| B256::from(U256::from(x).to_be_bytes::<32>());
        let mut store = word(100 + number % 3).to_vec();
        store.extend_from_slice(word(number).as_slice());
        deposits.push((STORE_ADDRESS, U256::ZERO, 100_000, store.into()));
    }
    deposits
}

/// Where a block's deposits come from.
pub trait DepositFeed {
    /// The privileged transactions block `number` includes, numbered from `next_nonce`. The
    /// same question gets the same answer: the builder asks again for a block it built and
    /// left out of a full batch.
    fn deposits(&mut self, number: u64, next_nonce: u64) -> Result<Vec<PrivilegedTx>, String>;
}

/// The embedded devnet's deposits: [`block_deposits`] from [`l1_depositor`], with no L1.
#[derive(Debug, Clone, Copy)]
pub struct MadeUpDeposits {
    /// The L2's chain id.
    pub chain_id: u64,
}

impl DepositFeed for MadeUpDeposits {
    fn deposits(&mut self, number: u64, next_nonce: u64) -> Result<Vec<PrivilegedTx>, String> {
        let keys: Vec<DevAccountKey> = (0..DEV_ACCOUNTS).map(DevAccountKey::new).collect();
        Ok(block_deposits(number, &keys)
            .into_iter()
            .zip(next_nonce..)
            .map(|((to, value, gas_limit, data), nonce)| PrivilegedTx {
                chain_id: self.chain_id,
                nonce,
                gas_limit,
                to,
                value,
                data,
                from: l1_depositor(number),
                ..Default::default()
            })
            .collect())
    }
}

/// What one block's traffic needs to know about the state.
pub(crate) trait Nonces {
    fn nonce(&self, address: Address) -> u64;
}

/// The transactions of block `number`, given the accounts' nonces before it, its deposits and
/// where withdrawals go on L1.
pub(crate) fn block_transactions(
    number: u64,
    chain_id: u64,
    keys: &[DevAccountKey],
    state: &impl Nonces,
    deposits: Vec<PrivilegedTx>,
    withdrawal_receiver: Address,
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
    // A withdrawal of 0.01 ether through the L2 bridge (which messages it to L1).
    let withdraw = L2Bridge::withdrawCall { receiver: withdrawal_receiver }.abi_encode();
    txs.push(send(
        account(n + 4),
        TxKind::Call(L2_BRIDGE_ADDRESS),
        U256::from(10u64.pow(16)),
        withdraw.into(),
        100_000,
    ));
    txs.extend(deposits.into_iter().map(BlockTx::Privileged));
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
