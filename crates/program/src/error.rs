use alloc::string::String;
use alloy_primitives::{Address, B256};
use bp_trie::TrieError;

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
    InvalidStorage { address: Address, slot: B256 },
}

impl revm::database_interface::DBErrorMarker for StateError {}

/// A header that does not follow from its parent or does not match its block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("number {got} does not follow parent number {parent}")]
    Number { parent: u64, got: u64 },
    #[error("parent hash {got} is not the parent's hash {expected}")]
    ParentHash { expected: B256, got: B256 },
    #[error("timestamp {got} is not after the parent's {parent}")]
    Timestamp { parent: u64, got: u64 },
    #[error("gas limit {got} is outside the bounds allowed by the parent's {parent}")]
    GasLimit { parent: u64, got: u64 },
    #[error("gas used {used} exceeds gas limit {limit}")]
    GasUsedOverLimit { used: u64, limit: u64 },
    #[error("base fee {got:?}, expected {expected:?}")]
    BaseFee { expected: Option<u64>, got: Option<u64> },
    #[error("extra data is {0} bytes, more than 32")]
    ExtraData(usize),
    #[error("proof-of-work field {0} is set after the merge")]
    PowField(&'static str),
    #[error("field {0} is missing or present against the active fork's rules")]
    ForkField(&'static str),
    #[error("excess blob gas {got:?}, expected {expected:?}")]
    ExcessBlobGas { expected: Option<u64>, got: Option<u64> },
    #[error("{field} root {got} does not match the block body's {computed}")]
    BodyRoot { field: &'static str, computed: B256, got: B256 },
}

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("header: {0}")]
    Header(#[from] HeaderError),
    #[error("transaction {index}: invalid signature")]
    Signature { index: usize },
    #[error("transaction {index}: type {tx_type} is not allowed before its fork")]
    TxTypeNotActive { index: usize, tx_type: u8 },
    #[error("block RLP is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("execution: {0}")]
    Execution(String),
    #[error("gas used {computed}, header says {header}")]
    GasUsed { computed: u64, header: u64 },
    #[error("blob gas used {computed}, header says {header:?}")]
    BlobGasUsed { computed: u64, header: Option<u64> },
    #[error("blob gas used {used} exceeds the block maximum {max}")]
    TooManyBlobs { used: u64, max: u64 },
    #[error("receipts root {computed}, header says {header}")]
    ReceiptsRoot { computed: B256, header: B256 },
    #[error("logs bloom does not match the receipts")]
    LogsBloom,
    #[error("requests hash {computed:?}, header says {header:?}")]
    RequestsHash { computed: Option<B256>, header: Option<B256> },
    #[error("state root {computed}, header says {header}")]
    StateRoot { computed: B256, header: B256 },
}

/// An L2 batch whose commitments cannot be made or do not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum L2Error {
    /// More deposits than the deposits hash's 2-byte count holds.
    #[error("{0} deposits in one batch, more than 65535")]
    TooManyDeposits(usize),
    /// The state diff cannot be expressed.
    #[error("state diff: {0}")]
    StateDiff(#[from] crate::l2::StateDiffError),
    /// The encoded state diff does not fit one blob.
    #[error("the state diff is {size} bytes, more than one blob holds ({capacity}); split the batch")]
    StateDiffTooLarge { size: usize, capacity: usize },
    /// The blob does not match the input's commitment and proof.
    #[error("state-diff blob: {0}")]
    Kzg(#[from] crate::l2::KzgError),
}

/// Why the program refused a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// The batch has no blocks.
    #[error("the batch has no blocks")]
    NoBlocks,
    /// The witness is incomplete or malformed.
    #[error("witness: {0}")]
    Witness(#[from] StateError),
    /// The witness does not contain the node of the parent's state root.
    #[error("witness does not contain the parent state root node {0}")]
    MissingStateRoot(B256),
    /// An ancestor header cannot be decoded.
    #[error("witness header {index} is not a valid RLP header")]
    InvalidAncestorHeader { index: usize },
    /// A block is invalid.
    #[error("block {number}: {error}")]
    InvalidBlock { number: u64, error: BlockError },
    /// The L2 commitments cannot be made or checked.
    #[error("L2 batch: {0}")]
    L2(#[from] L2Error),
}
