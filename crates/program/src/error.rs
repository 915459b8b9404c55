//! Why the program refuses a batch. Wrapping variants carry their cause as `source` and do not
//! repeat it in their own message, so a chain prints each cause once ([`ErrorChain`]).

use alloc::{boxed::Box, string::String};
use alloy_primitives::{Address, Bloom, B256};
use bp_trie::TrieError;
use core::fmt;

/// A value that differs from the one it must equal: what the program computed or was given
/// (`got`) and what the header, parent or rule requires (`expected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GotExpected<T> {
    /// The value found.
    pub got: T,
    /// The value required.
    pub expected: T,
}

impl<T> GotExpected<T> {
    /// A mismatch of `got` against `expected`.
    pub fn new(got: T, expected: T) -> Self {
        Self { got, expected }
    }
}

impl<T: fmt::Debug> fmt::Display for GotExpected<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "got {:?}, expected {:?}", self.got, self.expected)
    }
}

/// Formats an error and its sources as `outer: cause: root cause`, each once.
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn core::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// The witness cannot answer a question execution asks. Never an "absent" answer: a soundness
/// matter, so every variant stops the program.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// A trie node is missing or malformed.
    #[error(transparent)]
    Trie(#[from] TrieError),
    /// Bytecode with this hash is needed but not in the witness.
    #[error("bytecode {0} is missing from the witness")]
    MissingCode(B256),
    /// `BLOCKHASH` of a block whose hash the ancestor headers do not establish.
    #[error("hash of block {0} is not established by the witness headers")]
    MissingBlockHash(u64),
    /// An account leaf that is not a valid account encoding.
    #[error("account {0} has an invalid encoding in the state trie")]
    InvalidAccount(Address),
    /// A storage leaf that is not a valid RLP integer.
    #[error("storage slot {slot} of {address} has an invalid encoding")]
    InvalidStorage {
        /// The account.
        address: Address,
        /// The hashed slot key.
        slot: B256,
    },
}

impl revm::database_interface::DBErrorMarker for StateError {}

/// A header that does not follow from its parent or does not match its block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The number is not the parent's plus one.
    #[error("block number: {0}")]
    Number(GotExpected<u64>),
    /// The parent hash is not the hash of the parent header.
    #[error("parent hash: {0}")]
    ParentHash(GotExpected<B256>),
    /// The timestamp is not after the parent's.
    #[error("timestamp {got} is not after the parent's {parent}")]
    Timestamp {
        /// The parent's timestamp.
        parent: u64,
        /// The block's timestamp.
        got: u64,
    },
    /// The gas limit moved more than 1/1024 from the parent's, or is out of range.
    #[error("gas limit {got} is outside the bounds allowed by the parent's {parent}")]
    GasLimit {
        /// The parent's gas limit.
        parent: u64,
        /// The block's gas limit.
        got: u64,
    },
    /// More gas used than the gas limit allows.
    #[error("gas used {used} exceeds gas limit {limit}")]
    GasUsedOverLimit {
        /// Gas used, as the header states it.
        used: u64,
        /// The header's gas limit.
        limit: u64,
    },
    /// The base fee is not the one EIP-1559 derives from the parent.
    #[error("base fee: {0}")]
    BaseFee(GotExpected<Option<u64>>),
    /// More than 32 bytes of extra data.
    #[error("extra data is {0} bytes, more than 32")]
    ExtraData(usize),
    /// A proof-of-work field (difficulty, nonce, ommers) is set after the merge.
    #[error("proof-of-work field {0} is set after the merge")]
    PowField(&'static str),
    /// A field is present before its fork or missing after it.
    #[error("field {0} is missing or present against the active fork's rules")]
    ForkField(&'static str),
    /// The excess blob gas is not the one EIP-4844 derives from the parent.
    #[error("excess blob gas: {0}")]
    ExcessBlobGas(GotExpected<Option<u64>>),
    /// A root of the header does not commit to the block body.
    #[error("{field} root: {roots}")]
    BodyRoot {
        /// Which root (transactions, ommers, withdrawals).
        field: &'static str,
        /// The body's root (got) and the header's (expected).
        roots: GotExpected<B256>,
    },
}

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The header does not follow from the parent or match the body.
    #[error("header")]
    Header(#[from] HeaderError),
    /// A signature that recovers no sender.
    #[error("transaction {index}: invalid signature")]
    Signature {
        /// Position in the block.
        index: usize,
    },
    /// A transaction type before its fork (or a privileged transaction outside an L2 batch).
    #[error("transaction {index}: type {tx_type} is not allowed here")]
    TxTypeNotActive {
        /// Position in the block.
        index: usize,
        /// Its EIP-2718 type.
        tx_type: u8,
    },
    /// A blob transaction in its network form, with the sidecar: a block carries only the
    /// transaction itself.
    #[error("transaction {index}: a blob transaction with its sidecar (network form) in a block")]
    BlobSidecarInBlock {
        /// Position in the block.
        index: usize,
    },
    /// A privileged transaction with a field the L1 bridge does not bind (docs/l2.md).
    #[error("transaction {index}: a privileged transaction's {field} must be empty or zero")]
    PrivilegedField {
        /// Position in the block.
        index: usize,
        /// The field's name.
        field: &'static str,
    },
    /// The block's RLP is over EIP-7934's limit.
    #[error("block RLP is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The block would credit ether from nowhere (crate::credit).
    #[error("credit")]
    Credit(#[from] crate::credit::CreditError),
    /// The EVM or the block executor refused a transaction or a system call.
    #[error("execution: {0}")]
    Execution(String),
    /// Gas used by execution (got) differs from the header's (expected).
    #[error("gas used: {0}")]
    GasUsed(GotExpected<u64>),
    /// Blob gas used by execution (got) differs from the header's (expected).
    #[error("blob gas used: {0}")]
    BlobGasUsed(GotExpected<Option<u64>>),
    /// More blob gas than the fork allows in one block.
    #[error("blob gas used {used} exceeds the block maximum {max}")]
    TooManyBlobs {
        /// Blob gas used.
        used: u64,
        /// The maximum.
        max: u64,
    },
    /// The receipts' root (got) differs from the header's (expected).
    #[error("receipts root: {0}")]
    ReceiptsRoot(GotExpected<B256>),
    /// The receipts' bloom (got) differs from the header's (expected).
    #[error("logs bloom: {0}")]
    LogsBloom(Box<GotExpected<Bloom>>),
    /// The requests' hash (got; none before Prague) differs from the header's (expected).
    #[error("requests hash: {0}")]
    RequestsHash(GotExpected<Option<B256>>),
    /// The hash of the block-level access list execution built (got; none before Amsterdam)
    /// differs from the header's (expected), EIP-7928.
    #[error("block access list hash: {0}")]
    BlockAccessListHash(GotExpected<Option<B256>>),
    /// The block-level access list holds more items than the gas limit allows (EIP-7928: one
    /// per 2,000 gas).
    #[error("block access list of {items} items, more than the gas limit allows ({max})")]
    AccessListTooLarge {
        /// Accounts and storage keys in the list.
        items: u64,
        /// The gas limit divided by the cost of an item.
        max: u64,
    },
    /// The state root after the block (got) differs from the header's (expected).
    #[error("state root: {0}")]
    StateRoot(GotExpected<B256>),
}

/// An L2 batch whose commitments cannot be made or do not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum L2Error {
    /// More deposits than the deposits hash's 2-byte count holds.
    #[error("{0} deposits in one batch, more than 65535")]
    TooManyDeposits(usize),
    /// The state diff cannot be expressed.
    #[error("state diff")]
    StateDiff(#[from] crate::l2::StateDiffError),
    /// The encoded state diff does not fit one blob.
    #[error("the state diff is {size} bytes, more than one blob holds ({capacity}); split the batch")]
    StateDiffTooLarge {
        /// Encoded size.
        size: usize,
        /// What one blob holds.
        capacity: usize,
    },
    /// The blob's polynomial cannot be evaluated.
    #[error("state-diff blob")]
    Kzg(#[from] crate::l2::KzgError),
    /// The L2's chain configuration names an EIP-6110 deposit contract: no beacon chain would
    /// credit what is deposited there (crate::credit).
    #[error(
        "an L2 chain configuration may name no EIP-6110 deposit contract (field deposit_contract), this one names {0}"
    )]
    DepositContract(Address),
}

/// Why the program refused a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// The batch has no blocks.
    #[error("the batch has no blocks")]
    NoBlocks,
    /// The witness is incomplete or malformed.
    #[error("witness")]
    Witness(#[from] StateError),
    /// The witness does not contain the node of the parent's state root.
    #[error("witness does not contain the parent state root node {0}")]
    MissingStateRoot(B256),
    /// An ancestor header cannot be decoded.
    #[error("witness header {index} is not a valid RLP header")]
    InvalidAncestorHeader {
        /// Position in the witness's header list.
        index: usize,
    },
    /// A block is invalid.
    #[error("block {number}")]
    InvalidBlock {
        /// The block's number.
        number: u64,
        /// Why.
        #[source]
        error: BlockError,
    },
    /// The L2 commitments cannot be made or checked.
    #[error("L2 batch")]
    L2(#[from] L2Error),
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn a_chain_prints_each_cause_once() {
        let error = ProgramError::InvalidBlock {
            number: 7,
            error: BlockError::Header(HeaderError::Number(GotExpected::new(9, 8))),
        };
        assert_eq!(ErrorChain(&error).to_string(), "block 7: header: block number: got 9, expected 8");
        let missing = ProgramError::Witness(StateError::MissingCode(B256::ZERO));
        assert_eq!(
            ErrorChain(&missing).to_string(),
            alloc::format!("witness: bytecode {} is missing from the witness", B256::ZERO)
        );
    }
}
