//! The SSZ containers of EIP-8025's stateless validation as the EEST zkEVM fixtures of
//! tests-zkevm@v0.3.3 encode them (plain SSZ, no schema prefix; execution-specs'
//! `amsterdam/stateless_ssz.py` of that release). Every list bound is the schema's
//! ([`limits`]): the hash tree root of the new-payload request, the first word of the output,
//! depends on them, and [`StatelessInput::check_limits`] refuses an input past one.
//!
//! Lists are `Vec`s and byte lists `Bytes`, their bounds checked after decoding (decode.rs
//! says why the decoder is ours; the tests derive `ethereum_ssz`'s on these same types).
//!
//! Checked against the fixtures: the root of all 222 new-payload requests of the 149 tests
//! equals the first 32 bytes of their `statelessOutputBytes`. No vector has an execution
//! request or a public key, so those two element types follow the Engine API (a request is its
//! type byte and data) and the schema's 65-byte keys.

use alloy_primitives::{Address, Bloom, Bytes, B256, U256};
#[cfg(test)]
use ssz_derive::{Decode, Encode};

use crate::DecodeError;

/// The schema's list bounds (`ByteList[N]` in bytes, `List[T, N]` in elements).
pub mod limits {
    /// `MAX_EXTRA_DATA_BYTES`.
    pub const EXTRA_DATA: usize = 32;
    /// One transaction: `ByteList[2**30]`.
    pub const TRANSACTION: usize = 1 << 30;
    /// Transactions in a payload.
    pub const TRANSACTIONS: usize = 1 << 20;
    /// Withdrawals in a payload.
    pub const WITHDRAWALS: usize = 1 << 16;
    /// A block-level access list (RLP): `ByteList[2**24]`.
    pub const ACCESS_LIST: usize = 1 << 24;
    /// Versioned hashes in a request.
    pub const VERSIONED_HASHES: usize = 4096;
    /// One execution request (its type byte, then its data): `ByteList[2**23]`.
    pub const EXECUTION_REQUEST: usize = 1 << 23;
    /// Execution requests in a request.
    pub const EXECUTION_REQUESTS: usize = 16;
    /// One witness trie node: `ByteList[2**20]`.
    pub const NODE: usize = 1 << 20;
    /// Trie nodes in a witness.
    pub const NODES: usize = 1 << 20;
    /// One bytecode: `ByteList[2**24]`.
    pub const CODE: usize = 1 << 24;
    /// Bytecodes in a witness.
    pub const CODES: usize = 1 << 16;
    /// One RLP header: `ByteList[2**10]`.
    pub const HEADER: usize = 1 << 10;
    /// Headers in a witness.
    pub const HEADERS: usize = 256;
    /// One uncompressed public key (`0x04 ‖ x ‖ y`): `ByteList[65]`.
    pub const PUBLIC_KEY: usize = 65;
    /// Public keys in an input.
    pub const PUBLIC_KEYS: usize = 1 << 20;
}

/// A beacon-chain withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct Withdrawal {
    /// Its index.
    pub index: u64,
    /// The validator's index.
    pub validator_index: u64,
    /// Who is credited.
    pub address: Address,
    /// In gwei.
    pub amount: u64,
}

/// The execution payload (Amsterdam: with the block-level access list and the slot number).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct ExecutionPayload {
    /// The parent block's hash.
    pub parent_hash: B256,
    /// The beneficiary.
    pub fee_recipient: Address,
    /// The state root after the block.
    pub state_root: B256,
    /// The receipts root.
    pub receipts_root: B256,
    /// The logs bloom.
    pub logs_bloom: Bloom,
    /// The header's mix hash.
    pub prev_randao: B256,
    /// The block number.
    pub block_number: u64,
    /// The gas limit.
    pub gas_limit: u64,
    /// The gas used.
    pub gas_used: u64,
    /// The timestamp.
    pub timestamp: u64,
    /// The extra data.
    pub extra_data: Bytes,
    /// The base fee per gas.
    pub base_fee_per_gas: U256,
    /// The block's hash, as the header of the other fields must hash.
    pub block_hash: B256,
    /// The transactions, EIP-2718 encoded: `List[ByteList[2**30], 2**20]`.
    pub transactions: Vec<Bytes>,
    /// The withdrawals: `List[Withdrawal, 2**16]`.
    pub withdrawals: Vec<Withdrawal>,
    /// The blob gas used.
    pub blob_gas_used: u64,
    /// The excess blob gas.
    pub excess_blob_gas: u64,
    /// The block-level access list, RLP: `ByteList[2**24]`.
    pub block_access_list: Bytes,
    /// The slot number (EIP-7843).
    pub slot_number: u64,
}

/// What the consensus layer asks the execution layer to validate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct NewPayloadRequest {
    /// The payload.
    pub execution_payload: ExecutionPayload,
    /// The versioned hashes of the payload's blobs, in order: `List[Bytes32, 4096]`.
    pub versioned_hashes: Vec<B256>,
    /// The parent beacon block root (EIP-4788).
    pub parent_beacon_block_root: B256,
    /// The execution requests (EIP-7685): `List[ByteList[2**23], 16]`.
    pub execution_requests: Vec<Bytes>,
}

/// The pre-state a payload touches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct ExecutionWitness {
    /// Trie nodes: `List[ByteList[2**20], 2**20]`.
    pub state: Vec<Bytes>,
    /// Bytecodes: `List[ByteList[2**24], 2**16]`.
    pub codes: Vec<Bytes>,
    /// Ancestor headers: `List[ByteList[2**10], 256]`.
    pub headers: Vec<Bytes>,
}

/// The chain the payload is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct ChainConfig {
    /// Its chain id.
    pub chain_id: u64,
}

/// EIP-8025's stateless input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct StatelessInput {
    /// The request to validate.
    pub new_payload_request: NewPayloadRequest,
    /// The pre-state it needs.
    pub witness: ExecutionWitness,
    /// The chain.
    pub chain_config: ChainConfig,
    /// The transactions' public keys, in order: `List[ByteList[65], 2**20]` (empty: none given).
    pub public_keys: Vec<Bytes>,
}

/// EIP-8025's public output: what a proof of the stateless validation commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Encode, Decode))]
pub struct StatelessValidationResult {
    /// The hash tree root of the validated new-payload request.
    pub new_payload_request_root: B256,
    /// Whether the payload is valid on the witnessed pre-state.
    pub successful_validation: bool,
    /// The chain it was validated for.
    pub chain_config: ChainConfig,
}

/// Refuses `list` (called `name`) if it has more than `limit` elements or bytes.
fn within(name: &'static str, len: usize, limit: usize) -> Result<(), DecodeError> {
    if len > limit {
        return Err(DecodeError::TooLong { list: name, got: len, limit });
    }
    Ok(())
}

/// Every element of `items` within `limit` bytes, and at most `count` of them.
fn all_within(name: &'static str, items: &[Bytes], limit: usize, count: usize) -> Result<(), DecodeError> {
    within(name, items.len(), count)?;
    items.iter().try_for_each(|item| within(name, item.len(), limit))
}

impl StatelessInput {
    /// Refuses an input with a list past the schema's bound.
    pub fn check_limits(&self) -> Result<(), DecodeError> {
        let request = &self.new_payload_request;
        let payload = &request.execution_payload;
        within("extra_data", payload.extra_data.len(), limits::EXTRA_DATA)?;
        all_within("transactions", &payload.transactions, limits::TRANSACTION, limits::TRANSACTIONS)?;
        within("withdrawals", payload.withdrawals.len(), limits::WITHDRAWALS)?;
        within("block_access_list", payload.block_access_list.len(), limits::ACCESS_LIST)?;
        within("versioned_hashes", request.versioned_hashes.len(), limits::VERSIONED_HASHES)?;
        all_within(
            "execution_requests",
            &request.execution_requests,
            limits::EXECUTION_REQUEST,
            limits::EXECUTION_REQUESTS,
        )?;
        all_within("state", &self.witness.state, limits::NODE, limits::NODES)?;
        all_within("codes", &self.witness.codes, limits::CODE, limits::CODES)?;
        all_within("headers", &self.witness.headers, limits::HEADER, limits::HEADERS)?;
        all_within("public_keys", &self.public_keys, limits::PUBLIC_KEY, limits::PUBLIC_KEYS)
    }
}
