//! EIP-8025 ("optional proofs") stateless validation around the blocks execution program.
//!
//! A zkEVM guest of that standard reads an SSZ `StatelessInput` (a new-payload request, the
//! execution witness, the chain) and commits an SSZ `StatelessValidationResult`: the request's
//! hash tree root, whether the payload is valid, the chain. Here the request becomes a program
//! input (a block whose header is rebuilt from the payload and must hash to its `block_hash`),
//! the program runs on it, and any refusal, an invalid block or an incomplete witness alike, is
//! a result whose success flag is false: the standard's semantics, and as sound as an abort, for
//! only a complete run of every check gives `true`.
//!
//! Supported: the plain-SSZ schema of tests-zkevm@v0.3.3 (`containers.rs`), checked byte for byte
//! against its 222 vectors' outputs where the program's Amsterdam agrees with that release's.
//! Not yet: the schema-prefixed revision of later releases (`0x1501 ‖ …`, progressive lists,
//! a 43-byte output), whose progressive merkleization the SSZ crates used here do not have.
//!
//! [`run`] is what a guest does with its input (and `exec` the same natively): a `BPIN` program
//! input gives the batch's public outputs, an SSZ stateless input this standard's result.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod codec;
pub mod containers;
mod merkle;
mod payload;
mod run;
#[cfg(test)]
mod vectors;

pub use codec::SszError;
pub use payload::{stateless_input, ToStatelessError};
pub use run::{run, GuestInput, PublicOutput, PublicOutputError, Run, RunError, STATELESS_OUTPUT_BYTES};

use alloy_consensus::{
    proofs, transaction::SignerRecoverable, BlockBody, Header, Transaction as _, EMPTY_OMMER_ROOT_HASH,
};
use alloy_eips::{eip2718::Decodable2718, eip4895::Withdrawals, eip7685::Requests};
use alloy_primitives::{keccak256, Address, Bytes, B256};
use alloy_rlp::Decodable;
use bp_input::{BlockTx, ChainConfig, EthBlock, ExecutionWitness, ProgramInput};
use bp_program::{ErrorChain, GotExpected, NoProbe, Probe, ProgramError};
use containers::{NewPayloadRequest, StatelessInput, StatelessValidationResult};

/// Bytes that are not a stateless input of a supported schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not the SSZ encoding of a v0.3.3 `StatelessInput` (an offset out of place, a short
    /// field, trailing bytes).
    #[error("not an SSZ StatelessInput: {0}")]
    Ssz(#[from] SszError),
    /// A list longer than the schema's bound (its elements, or a byte list's bytes).
    #[error("{list}: {got} is over the schema's bound of {limit}")]
    TooLong {
        /// The list's field name in the schema.
        list: &'static str,
        /// Its length.
        got: usize,
        /// The bound.
        limit: usize,
    },
}

/// Why a payload request is not valid. Each gives a result whose success flag is false.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPayload {
    /// The base fee does not fit 64 bits, as no header's can.
    #[error("base fee per gas over 2^64")]
    BaseFee,
    /// A transaction is not an EIP-2718 encoding of a known type.
    #[error("transaction {index} cannot be decoded: {reason}")]
    Transaction {
        /// Its position.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The header rebuilt from the payload hashes to another hash than its `block_hash`.
    #[error("block hash: {0}")]
    BlockHash(GotExpected<B256>),
    /// The versioned hashes are not those of the payload's blob transactions, in order.
    #[error("versioned hashes: the request names {given}, the blob transactions carry {carried}")]
    VersionedHashes {
        /// How many the request names.
        given: usize,
        /// How many the transactions carry.
        carried: usize,
    },
    /// No witness header is the payload's parent.
    #[error("no witness header hashes to the parent hash {0}")]
    MissingParent(B256),
    /// A witness header is not an RLP header.
    #[error("witness header {0} is not an RLP header")]
    Header(usize),
    /// A witness header is not the child of the one before it: the headers must be the
    /// parent's ancestors, oldest first, then the parent.
    #[error("witness header {0} is not the child of the header before it")]
    UnlinkedHeader(usize),
    /// Public keys given but not one per transaction, or not the transactions' signers.
    #[error("public key {index}: {reason}")]
    PublicKey {
        /// The transaction's position (the count, if they differ).
        index: usize,
        /// Why.
        reason: &'static str,
    },
    /// The program refused the block or the witness.
    #[error("program: {0}")]
    Program(String),
}

/// Reads a stateless input (v0.3.3's plain SSZ).
pub fn decode(bytes: &[u8]) -> Result<StatelessInput, DecodeError> {
    decode_shared(&Bytes::copy_from_slice(bytes))
}

/// [`decode`], every byte list of the input a slice of `bytes` (no copy).
pub fn decode_shared(bytes: &Bytes) -> Result<StatelessInput, DecodeError> {
    let input = codec::stateless_input(bytes)?;
    input.check_limits()?;
    Ok(input)
}

/// The whole run: the request's root, and the program's verdict on the payload (with why it is
/// invalid, if it is).
pub fn validate(input: &StatelessInput) -> (StatelessValidationResult, Option<InvalidPayload>) {
    let (result, _, invalid) = Prepared::new(input).validate(&mut NoProbe);
    (result, invalid)
}

/// A stateless input read into what the validation needs: the request's root (whatever the
/// payload), its chain, and its program input or why the payload cannot be one. What a guest
/// does before the program runs (its decode region).
#[derive(Debug)]
pub struct Prepared {
    root: B256,
    chain: containers::ChainConfig,
    program: Result<ProgramInput, InvalidPayload>,
}

impl Prepared {
    /// Computes the root and builds the program input.
    pub fn new(input: &StatelessInput) -> Self {
        Self {
            root: request_root(&input.new_payload_request),
            chain: input.chain_config,
            program: program_input(input),
        }
    }

    /// Runs the program, telling `probe` where its phases start: the result, the gas the
    /// payload's transactions used (0 for an invalid payload, whose run did not finish) and why
    /// the payload is invalid, if it is.
    pub fn validate(self, probe: &mut dyn Probe) -> (StatelessValidationResult, u64, Option<InvalidPayload>) {
        let ran = self.program.and_then(|program| {
            let ran = bp_program::execute_input_with_probe(&program, probe);
            // A zkVM guest exits next and its allocator never reuses memory: freeing the
            // witness's thousands of buffers would cost cycles for nothing.
            #[cfg(target_os = "zkvm")]
            core::mem::forget(program);
            ran.map(|(_, gas_used)| gas_used).map_err(|e| InvalidPayload::Program(program_error(&e)))
        });
        let result = StatelessValidationResult {
            new_payload_request_root: self.root,
            successful_validation: ran.is_ok(),
            chain_config: self.chain,
        };
        match ran {
            Ok(gas_used) => (result, gas_used, None),
            Err(invalid) => (result, 0, Some(invalid)),
        }
    }
}

fn program_error(error: &ProgramError) -> String {
    ErrorChain(error).to_string()
}

/// The hash tree root of a new-payload request (the output's first word).
pub fn request_root(request: &NewPayloadRequest) -> B256 {
    merkle::request_root(request)
}

impl StatelessValidationResult {
    /// The SSZ bytes a proof commits (41 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode_result(self)
    }
}

/// The rules of a v0.3.3 input: Amsterdam (with the forks before it) from genesis, the
/// schema's only fork, on the input's chain id.
pub fn chain_config(chain_id: u64) -> ChainConfig {
    let mut chain = ChainConfig::for_test_network("Amsterdam").expect("Amsterdam is a known network");
    chain.chain_id = chain_id;
    chain
}

/// The program input of a stateless input: the payload as a block, its parent from the
/// witness headers, the witness, the rules of [`chain_config`].
pub fn program_input(input: &StatelessInput) -> Result<ProgramInput, InvalidPayload> {
    let request = &input.new_payload_request;
    let payload = &request.execution_payload;
    let mut transactions = Vec::with_capacity(payload.transactions.len());
    for (index, bytes) in payload.transactions.iter().enumerate() {
        let mut slice: &[u8] = bytes;
        let tx = BlockTx::decode_2718(&mut slice)
            .map_err(|e| InvalidPayload::Transaction { index, reason: e.to_string() })?;
        if !slice.is_empty() {
            return Err(InvalidPayload::Transaction { index, reason: format!("{} bytes after it", slice.len()) });
        }
        transactions.push(tx);
    }
    check_versioned_hashes(request, &transactions)?;
    check_public_keys(input, &transactions)?;

    let withdrawals: Withdrawals = payload
        .withdrawals
        .iter()
        .map(|w| alloy_eips::eip4895::Withdrawal {
            index: w.index,
            validator_index: w.validator_index,
            address: w.address,
            amount: w.amount,
        })
        .collect::<Vec<_>>()
        .into();
    let requests = Requests::new(request.execution_requests.clone());
    let header = Header {
        parent_hash: payload.parent_hash,
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        beneficiary: payload.fee_recipient,
        state_root: payload.state_root,
        transactions_root: proofs::calculate_transaction_root(&transactions),
        receipts_root: payload.receipts_root,
        logs_bloom: payload.logs_bloom,
        difficulty: Default::default(),
        number: payload.block_number,
        gas_limit: payload.gas_limit,
        gas_used: payload.gas_used,
        timestamp: payload.timestamp,
        extra_data: payload.extra_data.clone(),
        mix_hash: payload.prev_randao,
        nonce: Default::default(),
        base_fee_per_gas: Some(u64::try_from(payload.base_fee_per_gas).map_err(|_| InvalidPayload::BaseFee)?),
        withdrawals_root: Some(proofs::calculate_withdrawals_root(&withdrawals)),
        blob_gas_used: Some(payload.blob_gas_used),
        excess_blob_gas: Some(payload.excess_blob_gas),
        parent_beacon_block_root: Some(request.parent_beacon_block_root),
        requests_hash: Some(requests.requests_hash()),
        block_access_list_hash: Some(keccak256(&payload.block_access_list[..])),
        slot_number: Some(payload.slot_number),
    };
    let hash = header.hash_slow();
    if hash != payload.block_hash {
        return Err(InvalidPayload::BlockHash(GotExpected::new(hash, payload.block_hash)));
    }

    let witness = ExecutionWitness {
        state: input.witness.state.clone(),
        codes: input.witness.codes.clone(),
        headers: input.witness.headers.clone(),
        keys: Vec::new(),
    };
    let parent = parent_header(&witness, payload.parent_hash)?;
    let block =
        EthBlock { header, body: BlockBody { transactions, ommers: Vec::new(), withdrawals: Some(withdrawals) } };
    Ok(ProgramInput {
        blocks: vec![block],
        parent_header: parent,
        witness,
        chain: chain_config(input.chain_config.chain_id),
        l2: None,
    })
}

/// The parent header: the last witness header, which must hash to `parent_hash`, the others
/// being its ancestors oldest first, each the parent of the next (EIP-8025's witness: one
/// unbroken, ordered chain back to the oldest `BLOCKHASH` target; reordered, gapped or
/// malformed headers make the payload invalid).
fn parent_header(witness: &ExecutionWitness, parent_hash: B256) -> Result<Header, InvalidPayload> {
    let mut previous: Option<(Header, B256)> = None;
    for (index, bytes) in witness.headers.iter().enumerate() {
        let header = Header::decode(&mut bytes.as_ref()).map_err(|_| InvalidPayload::Header(index))?;
        let hash = header.hash_slow();
        if let Some((before, before_hash)) = &previous {
            if header.parent_hash != *before_hash || header.number != before.number + 1 {
                return Err(InvalidPayload::UnlinkedHeader(index));
            }
        }
        previous = Some((header, hash));
    }
    match previous {
        Some((parent, hash)) if hash == parent_hash => Ok(parent),
        _ => Err(InvalidPayload::MissingParent(parent_hash)),
    }
}

/// The request's versioned hashes must be those the blob transactions carry, in order.
fn check_versioned_hashes(request: &NewPayloadRequest, transactions: &[BlockTx]) -> Result<(), InvalidPayload> {
    let carried: Vec<B256> = transactions
        .iter()
        .filter_map(|tx| match tx {
            BlockTx::Ethereum(tx) => tx.blob_versioned_hashes().map(<[B256]>::to_vec),
            BlockTx::Privileged(_) => None,
        })
        .flatten()
        .collect();
    if carried[..] != request.versioned_hashes[..] {
        return Err(InvalidPayload::VersionedHashes { given: request.versioned_hashes.len(), carried: carried.len() });
    }
    Ok(())
}

/// Public keys, where given, must be one per transaction and each its signer's.
fn check_public_keys(input: &StatelessInput, transactions: &[BlockTx]) -> Result<(), InvalidPayload> {
    let keys = &input.public_keys;
    if keys.is_empty() {
        return Ok(());
    }
    if keys.len() != transactions.len() {
        return Err(InvalidPayload::PublicKey { index: keys.len(), reason: "not one per transaction" });
    }
    for (index, (key, tx)) in keys.iter().zip(transactions).enumerate() {
        if key.len() != 65 || key[0] != 0x04 {
            return Err(InvalidPayload::PublicKey { index, reason: "not an uncompressed key" });
        }
        let address = Address::from_slice(&keccak256(&key[1..])[12..]);
        let signer = match tx {
            BlockTx::Ethereum(tx) => tx.recover_signer().ok(),
            BlockTx::Privileged(_) => None,
        };
        if signer != Some(address) {
            return Err(InvalidPayload::PublicKey { index, reason: "not the transaction's signer" });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use containers::ChainConfig as SszChain;

    #[test]
    fn the_output_is_41_bytes_root_flag_chain_id() {
        let result = StatelessValidationResult {
            new_payload_request_root: B256::repeat_byte(0xab),
            successful_validation: true,
            chain_config: SszChain { chain_id: 0x0102 },
        };
        let bytes = result.to_bytes();
        assert_eq!(bytes.len(), 41);
        assert_eq!(&bytes[..32], &[0xab; 32]);
        assert_eq!(bytes[32], 1);
        assert_eq!(&bytes[33..], &[2, 1, 0, 0, 0, 0, 0, 0], "chain id little-endian");
    }

    #[test]
    fn a_list_past_its_bound_is_refused_by_name() {
        let header = alloy_primitives::Bytes::from(vec![0u8; containers::limits::HEADER + 1]);
        let input = StatelessInput {
            new_payload_request: NewPayloadRequest {
                execution_payload: containers::ExecutionPayload {
                    parent_hash: B256::ZERO,
                    fee_recipient: Address::ZERO,
                    state_root: B256::ZERO,
                    receipts_root: B256::ZERO,
                    logs_bloom: Default::default(),
                    prev_randao: B256::ZERO,
                    block_number: 0,
                    gas_limit: 0,
                    gas_used: 0,
                    timestamp: 0,
                    extra_data: Default::default(),
                    base_fee_per_gas: Default::default(),
                    block_hash: B256::ZERO,
                    transactions: Vec::new(),
                    withdrawals: Vec::new(),
                    blob_gas_used: 0,
                    excess_blob_gas: 0,
                    block_access_list: Default::default(),
                    slot_number: 0,
                },
                versioned_hashes: Vec::new(),
                parent_beacon_block_root: B256::ZERO,
                execution_requests: Vec::new(),
            },
            witness: containers::ExecutionWitness { state: Vec::new(), codes: Vec::new(), headers: vec![header] },
            chain_config: SszChain { chain_id: 1 },
            public_keys: Vec::new(),
        };
        let bytes = ssz::Encode::as_ssz_bytes(&input);
        assert_eq!(decode(&bytes), Err(DecodeError::TooLong { list: "headers", got: 1025, limit: 1024 }));
        let mut within = input;
        within.witness.headers[0] = vec![0u8; containers::limits::HEADER].into();
        assert!(decode(&ssz::Encode::as_ssz_bytes(&within)).is_ok(), "the bound itself is allowed");
    }

    #[test]
    fn bytes_that_are_not_an_input_are_refused() {
        assert!(matches!(decode(&[]), Err(DecodeError::Ssz(SszError::Length { got: 0, expected: 20, .. }))));
        assert!(matches!(decode(&[0x14, 0, 0, 0, 0xff]), Err(DecodeError::Ssz(SszError::Length { .. }))));
        assert!(matches!(decode(b"{\"json\": true, \"x\": 1}"), Err(DecodeError::Ssz(SszError::Offset { .. }))));
    }
}
