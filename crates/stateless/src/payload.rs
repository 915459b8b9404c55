//! A block with its witness (any program input of one Amsterdam block) as an EIP-8025 stateless
//! input: what `witness --format ssz` and `convert -o X.ssz` write.
//!
//! The payload's fields come from the block, except what its body does not hold and its header
//! binds by hash only: the execution requests and the block-level access list. Those come from
//! running the program on the block ([`bp_program::payload_fields`]), whose checks bind them to
//! the header's `requests_hash` and `block_access_list_hash`, so a block that does not execute
//! to its header is refused rather than turned into an input.

use alloy_consensus::{Header, Transaction as _};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Bytes, B256, U256};
use alloy_rlp::Decodable;
use bp_input::{BlockTx, ProgramInput};
use bp_program::{ErrorChain, ProgramError};

use crate::containers::{
    ChainConfig, ExecutionPayload, ExecutionWitness, NewPayloadRequest, StatelessInput, Withdrawal,
};

/// Why a program input has no EIP-8025 form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToStatelessError {
    /// The schema's input is one payload.
    #[error("an EIP-8025 input holds one block, this input {0}")]
    Blocks(usize),
    /// v0.3.3's payload has Amsterdam's fields (the access list and the slot number).
    #[error("block {number} is not an Amsterdam block (its header has no {missing}): v0.3.3's schema is Amsterdam's")]
    NotAmsterdam {
        /// The block.
        number: u64,
        /// The header field it lacks.
        missing: &'static str,
    },
    /// A payload holds Ethereum transactions only.
    #[error("transaction {0} is an L2 privileged transaction, which no payload holds")]
    Privileged(usize),
    /// A witness header is not RLP.
    #[error("witness header {0} is not an RLP header")]
    Header(usize),
    /// The schema's headers are an unbroken chain to the parent; this witness skips one.
    #[error("the witness's headers do not reach the parent in an unbroken chain: no header {0}")]
    BrokenChain(u64),
    /// The program refused the block, so its requests and access list are not known.
    #[error("the program refused the block: {0}")]
    Program(String),
}

/// `input`'s one block as a stateless input on the chain id of its rules.
pub fn stateless_input(input: &ProgramInput) -> Result<StatelessInput, ToStatelessError> {
    let [block] = input.blocks.as_slice() else {
        return Err(ToStatelessError::Blocks(input.blocks.len()));
    };
    let header = &block.header;
    let not_amsterdam = |missing| ToStatelessError::NotAmsterdam { number: header.number, missing };
    let slot_number = header.slot_number.ok_or_else(|| not_amsterdam("slot number"))?;
    header.block_access_list_hash.ok_or_else(|| not_amsterdam("block access list hash"))?;
    let parent_beacon_block_root =
        header.parent_beacon_block_root.ok_or_else(|| not_amsterdam("parent beacon block root"))?;

    let fields = bp_program::payload_fields(input).map_err(|e| program_error(&e))?;
    let fields = fields.into_iter().next().ok_or(ToStatelessError::Blocks(0))?;
    let mut transactions = Vec::with_capacity(block.body.transactions.len());
    let mut versioned_hashes = Vec::new();
    for (index, tx) in block.body.transactions.iter().enumerate() {
        let BlockTx::Ethereum(tx) = tx else { return Err(ToStatelessError::Privileged(index)) };
        versioned_hashes.extend(tx.blob_versioned_hashes().into_iter().flatten().copied());
        transactions.push(Bytes::from(tx.encoded_2718()));
    }
    let payload = ExecutionPayload {
        parent_hash: header.parent_hash,
        fee_recipient: header.beneficiary,
        state_root: header.state_root,
        receipts_root: header.receipts_root,
        logs_bloom: header.logs_bloom,
        prev_randao: header.mix_hash,
        block_number: header.number,
        gas_limit: header.gas_limit,
        gas_used: header.gas_used,
        timestamp: header.timestamp,
        extra_data: header.extra_data.clone(),
        base_fee_per_gas: U256::from(header.base_fee_per_gas.unwrap_or_default()),
        block_hash: header.hash_slow(),
        transactions,
        withdrawals: block
            .body
            .withdrawals
            .iter()
            .flatten()
            .map(|w| Withdrawal {
                index: w.index,
                validator_index: w.validator_index,
                address: w.address,
                amount: w.amount,
            })
            .collect(),
        blob_gas_used: header.blob_gas_used.unwrap_or_default(),
        excess_blob_gas: header.excess_blob_gas.unwrap_or_default(),
        block_access_list: fields.block_access_list.unwrap_or_default(),
        slot_number,
    };
    // The Engine API's requests: each its type byte and data, those without data left out
    // (EIP-7685; the header's hash skips them too).
    let execution_requests = fields.requests.take().into_iter().filter(|r| r.len() > 1).collect();
    Ok(StatelessInput {
        new_payload_request: NewPayloadRequest {
            execution_payload: payload,
            versioned_hashes,
            parent_beacon_block_root,
            execution_requests,
        },
        witness: ExecutionWitness {
            state: input.witness.state.clone(),
            codes: input.witness.codes.clone(),
            headers: header_chain(input)?,
        },
        chain_config: ChainConfig { chain_id: input.chain.chain_id },
        public_keys: Vec::new(),
    })
}

/// The witness's headers as the schema orders them: oldest first, each the parent of the next,
/// ending with the block's parent.
fn header_chain(input: &ProgramInput) -> Result<Vec<Bytes>, ToStatelessError> {
    let mut headers: Vec<(Header, Bytes)> = Vec::with_capacity(input.witness.headers.len() + 1);
    for (index, rlp) in input.witness.headers.iter().enumerate() {
        let header = Header::decode(&mut rlp.as_ref()).map_err(|_| ToStatelessError::Header(index))?;
        if header.number < input.parent_header.number {
            headers.push((header, rlp.clone()));
        }
    }
    headers.sort_by_key(|(header, _)| header.number);
    headers.dedup_by_key(|(header, _)| header.number);
    headers.push((input.parent_header.clone(), alloy_rlp::encode(&input.parent_header).into()));
    let mut chain = Vec::with_capacity(headers.len());
    let mut previous: Option<(u64, B256)> = None;
    for (header, rlp) in headers.into_iter().rev() {
        if let Some((number, parent_hash)) = previous {
            if header.number + 1 != number || header.hash_slow() != parent_hash {
                return Err(ToStatelessError::BrokenChain(number - 1));
            }
        }
        previous = Some((header.number, header.parent_hash));
        chain.push(rlp);
    }
    chain.reverse();
    Ok(chain)
}

fn program_error(error: &ProgramError) -> ToStatelessError {
    ToStatelessError::Program(ErrorChain(error).to_string())
}

impl StatelessInput {
    /// The SSZ bytes (what [`crate::decode`] reads).
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::codec::encode_stateless_input(self)
    }
}
