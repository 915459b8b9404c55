//! The SSZ containers of EIP-8025's stateless validation as the EEST zkEVM fixtures of
//! tests-zkevm@v0.3.3 encode them (plain SSZ, no schema prefix; execution-specs'
//! `amsterdam/stateless_ssz.py` of that release). Every list bound is the schema's: the
//! hash tree root of the new-payload request, the first word of the output, depends on them.
//!
//! Checked against the fixtures: the root of all 222 new-payload requests of the 149 tests
//! equals the first 32 bytes of their `statelessOutputBytes`. No vector has an execution
//! request or a public key, so those two element types follow the Engine API (a request is its
//! type byte and data) and the schema's 65-byte keys.

use alloy_primitives::{Address, B256, U256};
use ssz_derive::{Decode, Encode};
use ssz_types::{typenum, FixedVector, VariableList};
use tree_hash_derive::TreeHash;

/// `ByteList[MAX_EXTRA_DATA_BYTES]`.
pub type ExtraData = VariableList<u8, typenum::U32>;
/// One transaction: `ByteList[2**30]`.
pub type Transaction = VariableList<u8, typenum::U1073741824>;
/// A block-level access list (RLP): `ByteList[2**24]`.
pub type AccessListBytes = VariableList<u8, typenum::U16777216>;
/// One execution request (its type byte, then its data): `ByteList[2**23]`.
pub type ExecutionRequest = VariableList<u8, typenum::U8388608>;
/// One witness trie node: `ByteList[2**20]`.
pub type WitnessNode = VariableList<u8, typenum::U1048576>;
/// One bytecode: `ByteList[2**24]`.
pub type WitnessCode = VariableList<u8, typenum::U16777216>;
/// One RLP header: `ByteList[2**10]`.
pub type WitnessHeader = VariableList<u8, typenum::U1024>;
/// One uncompressed public key (`0x04 ‖ x ‖ y`): `ByteList[65]`.
pub type PublicKey = VariableList<u8, typenum::U65>;

/// A beacon-chain withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, TreeHash)]
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
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, TreeHash)]
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
    pub logs_bloom: FixedVector<u8, typenum::U256>,
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
    pub extra_data: ExtraData,
    /// The base fee per gas.
    pub base_fee_per_gas: U256,
    /// The block's hash, as the header of the other fields must hash.
    pub block_hash: B256,
    /// The transactions, EIP-2718 encoded: `List[Transaction, 2**20]`.
    pub transactions: VariableList<Transaction, typenum::U1048576>,
    /// The withdrawals: `List[Withdrawal, 2**16]`.
    pub withdrawals: VariableList<Withdrawal, typenum::U65536>,
    /// The blob gas used.
    pub blob_gas_used: u64,
    /// The excess blob gas.
    pub excess_blob_gas: u64,
    /// The block-level access list, RLP.
    pub block_access_list: AccessListBytes,
    /// The slot number (EIP-7843).
    pub slot_number: u64,
}

/// What the consensus layer asks the execution layer to validate.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct NewPayloadRequest {
    /// The payload.
    pub execution_payload: ExecutionPayload,
    /// The versioned hashes of the payload's blobs, in order: `List[Bytes32, 4096]`.
    pub versioned_hashes: VariableList<B256, typenum::U4096>,
    /// The parent beacon block root (EIP-4788).
    pub parent_beacon_block_root: B256,
    /// The execution requests (EIP-7685): `List[ByteList[2**23], 16]`.
    pub execution_requests: VariableList<ExecutionRequest, typenum::U16>,
}

/// The pre-state a payload touches.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ExecutionWitness {
    /// Trie nodes: `List[ByteList[2**20], 2**20]`.
    pub state: VariableList<WitnessNode, typenum::U1048576>,
    /// Bytecodes: `List[ByteList[2**24], 2**16]`.
    pub codes: VariableList<WitnessCode, typenum::U65536>,
    /// Ancestor headers: `List[ByteList[2**10], 256]`.
    pub headers: VariableList<WitnessHeader, typenum::U256>,
}

/// The chain the payload is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct ChainConfig {
    /// Its chain id.
    pub chain_id: u64,
}

/// EIP-8025's stateless input.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct StatelessInput {
    /// The request to validate.
    pub new_payload_request: NewPayloadRequest,
    /// The pre-state it needs.
    pub witness: ExecutionWitness,
    /// The chain.
    pub chain_config: ChainConfig,
    /// The transactions' public keys, in order: `List[ByteList[65], 2**20]` (empty: none given).
    pub public_keys: VariableList<PublicKey, typenum::U1048576>,
}

/// EIP-8025's public output: what a proof of the stateless validation commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, TreeHash)]
pub struct StatelessValidationResult {
    /// The hash tree root of the validated new-payload request.
    pub new_payload_request_root: B256,
    /// Whether the payload is valid on the witnessed pre-state.
    pub successful_validation: bool,
    /// The chain it was validated for.
    pub chain_config: ChainConfig,
}
