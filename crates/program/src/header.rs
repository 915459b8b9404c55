//! Consensus rules a post-merge header must satisfy relative to its parent and its body.

use alloy_consensus::{proofs, Header, EMPTY_OMMER_ROOT_HASH};
use alloy_eips::eip1559::BaseFeeParams;
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{B256, B64, U256};
use bp_input::{ChainConfig, EthBlock};

use crate::{BlockError, GotExpected, HeaderError};

/// EIP-1559 gas limit elasticity: a block may move the limit by less than 1/1024 of the parent's.
const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
const MIN_GAS_LIMIT: u64 = 5000;
/// EIP-7934 (Osaka): 10 MiB minus a 2 MiB margin for the beacon block.
pub(crate) const MAX_RLP_BLOCK_SIZE: usize = 10_485_760 - 2_097_152;

fn require(present: bool, active: bool, field: &'static str) -> Result<(), HeaderError> {
    if present == active {
        Ok(())
    } else {
        Err(HeaderError::ForkField(field))
    }
}

/// Checks `header` against its parent: everything that can be known before execution.
pub(crate) fn validate_against_parent(
    header: &Header,
    parent: &Header,
    parent_hash: B256,
    chain: &ChainConfig,
) -> Result<(), HeaderError> {
    if header.number != parent.number.wrapping_add(1) || parent.number == u64::MAX {
        return Err(HeaderError::Number(GotExpected::new(header.number, parent.number.wrapping_add(1))));
    }
    if header.parent_hash != parent_hash {
        return Err(HeaderError::ParentHash(GotExpected::new(header.parent_hash, parent_hash)));
    }
    if header.timestamp <= parent.timestamp {
        return Err(HeaderError::Timestamp { parent: parent.timestamp, got: header.timestamp });
    }
    if header.extra_data.len() > 32 {
        return Err(HeaderError::ExtraData(header.extra_data.len()));
    }
    if header.difficulty != U256::ZERO {
        return Err(HeaderError::PowField("difficulty"));
    }
    if header.nonce != B64::ZERO {
        return Err(HeaderError::PowField("nonce"));
    }
    if header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
        return Err(HeaderError::PowField("ommersHash"));
    }
    if header.gas_used > header.gas_limit {
        return Err(HeaderError::GasUsedOverLimit { used: header.gas_used, limit: header.gas_limit });
    }
    let max_delta = parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR;
    if header.gas_limit.abs_diff(parent.gas_limit) >= max_delta
        || header.gas_limit < MIN_GAS_LIMIT
        || header.gas_limit > i64::MAX as u64
    {
        return Err(HeaderError::GasLimit { parent: parent.gas_limit, got: header.gas_limit });
    }
    let expected_base_fee = parent.next_block_base_fee(BaseFeeParams::ethereum());
    if expected_base_fee.is_none() || header.base_fee_per_gas != expected_base_fee {
        return Err(HeaderError::BaseFee(GotExpected::new(header.base_fee_per_gas, expected_base_fee)));
    }

    let time = header.timestamp;
    require(header.withdrawals_root.is_some(), chain.is_shanghai_active_at_timestamp(time), "withdrawalsRoot")?;
    let cancun = chain.is_cancun_active_at_timestamp(time);
    require(header.blob_gas_used.is_some(), cancun, "blobGasUsed")?;
    require(header.excess_blob_gas.is_some(), cancun, "excessBlobGas")?;
    require(header.parent_beacon_block_root.is_some(), cancun, "parentBeaconBlockRoot")?;
    require(header.requests_hash.is_some(), chain.is_prague_active_at_timestamp(time), "requestsHash")?;
    let amsterdam = chain.is_amsterdam_active_at_timestamp(time);
    require(header.block_access_list_hash.is_some(), amsterdam, "blockAccessListHash")?;
    require(header.slot_number.is_some(), amsterdam, "slotNumber")?;
    if cancun {
        let expected = match (chain.blob_params_at(time), parent.excess_blob_gas) {
            // The first block of Cancun follows a parent without blob fields.
            (Some(_), None) => Some(0),
            (Some(params), Some(_)) => parent.next_block_excess_blob_gas(params),
            (None, _) => None,
        };
        if expected.is_none() || header.excess_blob_gas != expected {
            return Err(HeaderError::ExcessBlobGas(GotExpected::new(header.excess_blob_gas, expected)));
        }
    }
    Ok(())
}

/// Checks the header's commitments to the block body.
pub(crate) fn validate_body(block: &EthBlock, chain: &ChainConfig) -> Result<(), BlockError> {
    let header = &block.header;
    let tx_root = proofs::calculate_transaction_root(&block.body.transactions);
    if tx_root != header.transactions_root {
        return Err(HeaderError::BodyRoot {
            field: "transactions",
            roots: GotExpected::new(tx_root, header.transactions_root),
        }
        .into());
    }
    if !block.body.ommers.is_empty() {
        let computed = proofs::calculate_ommers_root(&block.body.ommers);
        return Err(
            HeaderError::BodyRoot { field: "ommers", roots: GotExpected::new(computed, header.ommers_hash) }.into()
        );
    }
    match (&block.body.withdrawals, header.withdrawals_root) {
        (Some(withdrawals), Some(root)) => {
            let computed = proofs::calculate_withdrawals_root(withdrawals);
            if computed != root {
                return Err(
                    HeaderError::BodyRoot { field: "withdrawals", roots: GotExpected::new(computed, root) }.into()
                );
            }
        }
        (None, None) => {}
        _ => return Err(HeaderError::ForkField("withdrawals").into()),
    }
    if chain.is_osaka_active_at_timestamp(header.timestamp) {
        let size = alloy_rlp::Encodable::length(block);
        if size > MAX_RLP_BLOCK_SIZE {
            return Err(BlockError::TooLarge { size, limit: MAX_RLP_BLOCK_SIZE });
        }
    }
    Ok(())
}
