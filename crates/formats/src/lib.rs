//! Program inputs from the files nodes and peer projects write, detected by content:
//!
//! | format | what it holds | witness |
//! |---|---|---|
//! | [`Format::ExecutionWitness`] | ethrex-replay cache: `{blocks, witness, network}` | `debug_executionWitness`, used as is |
//! | [`Format::RpcCache`] | zeth cache: blocks N-1, N and `eth_getProof` at N-1 and N | cut from the proofs by running the program |
//! | [`Format::PartialTries`] | raiko guest input: partial state and storage tries | the tries' nodes, cut by running the program |
//! | [`Format::StatelessInput`] | reth stateless input `{block_and_witness: {block, witness, chain_config}}` | `debug_executionWitness` shape |
//! | [`Format::Binary`] / [`Format::Json`] | our own program input | as is |
//!
//! Files may be plain, gzip or zstd compressed (detected by their magic bytes).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod chain;
mod json;
mod rpc_cache;
mod tries;

pub use chain::chain_from_geth_config;
pub use json::{block, header, hex_quantity, rpc_block, transaction, withdrawals};

use std::{io::Read, path::Path};

use alloy_consensus::Header;
use alloy_primitives::B256;
use alloy_rlp::Decodable;
use bp_input::{ChainConfig, CodecError, EthBlock, ExecutionWitness, ProgramInput};
use serde_json::Value;

/// The input formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ethrex-replay cache with a `debug_executionWitness`.
    ExecutionWitness,
    /// zeth RPC cache: blocks and `eth_getProof` before and after.
    RpcCache,
    /// raiko guest input: partial tries.
    PartialTries,
    /// reth stateless input (EEST zkEVM benchmark workload).
    StatelessInput,
    /// Our binary program input.
    Binary,
    /// Our program input as JSON.
    Json,
}

impl Format {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Format::ExecutionWitness => "execution-witness",
            Format::RpcCache => "rpc-cache",
            Format::PartialTries => "partial-tries",
            Format::StatelessInput => "stateless-input",
            Format::Binary => "binary",
            Format::Json => "json",
        }
    }
}

/// A file that cannot be turned into a program input.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file cannot be read (callers name the file in their context).
    #[error("{error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file holds more than the input size limit, decompressed (callers name the file).
    #[error("more than the input size limit of {limit} bytes once decompressed (--max-input-mib)")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The compressed stream is corrupt.
    #[error("decompressing")]
    Decompress(#[source] std::io::Error),
    /// Neither JSON nor binary.
    #[error("not JSON and not a binary program input")]
    Json(#[source] serde_json::Error),
    /// JSON whose shape is none of the known formats.
    #[error("unrecognised input format (top-level keys: {0}); expected an execution-witness cache, an RPC proof cache, partial tries, a stateless input or a program input")]
    Unknown(String),
    /// A field of a known format with an invalid value.
    #[error("invalid {what}: {reason}")]
    Field {
        /// The field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A binary program input that cannot be read.
    #[error(transparent)]
    Binary(#[from] CodecError),
    /// The chain cannot be determined or is not supported.
    #[error("chain: {0}")]
    Chain(String),
    /// A proof-based witness cannot be built.
    #[error("building the witness from proofs")]
    Witness(#[from] bp_witness::BuildError),
    /// The chain given to override the input's is not the chain the input is for.
    #[error(
        "the input is for chain {input} ({evidence}), but the chain given (--chain/--chain-config) is chain \
         {given}: give the input's chain, or none to use the one it names"
    )]
    ChainMismatch {
        /// The chain id the input names or its transactions are signed for.
        input: u64,
        /// The chain id of the chain given.
        given: u64,
        /// Where the input's chain id was read.
        evidence: ChainEvidence,
    },
}

/// Where an input's own chain id comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainEvidence {
    /// The chain the file names (its `network`, `chain_config` or chain configuration).
    Named,
    /// A transaction of the input, signed for that chain.
    Transaction(B256),
}

impl std::fmt::Display for ChainEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Named => f.write_str("the chain the file names"),
            Self::Transaction(hash) => write!(f, "transaction {hash} is signed for it"),
        }
    }
}

/// Refuses a chain override that is not the input's own chain: the file's `named` chain id, or
/// that of any transaction (whichever says so first). Executed under another chain's rules, a
/// block fails for a reason that hides the real one (another fork's header rules, say).
fn check_override(input: &ProgramInput, named: Option<u64>) -> Result<(), FormatError> {
    check_chain(&input.blocks, input.chain.chain_id, named)
}

/// [`check_override`] for `blocks` read under chain id `given`.
pub(crate) fn check_chain(blocks: &[EthBlock], given: u64, named: Option<u64>) -> Result<(), FormatError> {
    let mismatch = |input, evidence| FormatError::ChainMismatch { input, given, evidence };
    if let Some(named) = named.filter(|id| *id != given) {
        return Err(mismatch(named, ChainEvidence::Named));
    }
    for tx in blocks.iter().flat_map(|b| &b.body.transactions) {
        if let Some(id) = alloy_consensus::Transaction::chain_id(tx).filter(|id| *id != given) {
            return Err(mismatch(id, ChainEvidence::Transaction(tx.tx_hash())));
        }
    }
    Ok(())
}

/// A program input read from a file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The input.
    pub input: ProgramInput,
    /// Which format it was read from.
    pub format: Format,
    /// Collapse siblings recovered from post-state proofs while building the witness (case 1 of
    /// `eth_getProof` witnesses; zero for formats that carry a complete witness).
    pub recovered_siblings: usize,
}

/// How many bytes an input file may hold, decompressed, unless the caller says otherwise
/// (`--max-input-mib`): 1 GiB, about a hundred times the largest real block input seen.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// The file's bytes, decompressed if they are gzip or zstd; refused as soon as they pass
/// `limit` bytes, so a small file that inflates to gigabytes costs about `limit` of memory.
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, FormatError> {
    let io = |error| FormatError::Io { path: path.display().to_string(), error };
    let too_large = || FormatError::TooLarge { path: path.display().to_string(), limit };
    let file = std::fs::File::open(path).map_err(io)?;
    let raw = read_limited(file, limit).map_err(io)?.ok_or_else(too_large)?;
    let decompressed = if raw.starts_with(&[0x1f, 0x8b]) {
        read_limited(flate2::read::GzDecoder::new(raw.as_slice()), limit)
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::read::Decoder::new(raw.as_slice()).and_then(|decoder| read_limited(decoder, limit))
    } else {
        return Ok(raw);
    };
    decompressed.map_err(FormatError::Decompress)?.ok_or_else(too_large)
}

/// Reads `reader` to its end, or `None` once it has given more than `limit` bytes. Memory stays
/// near the bytes read: the buffer grows as they arrive.
pub fn read_limited(reader: impl Read, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let read = reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    Ok((read as u64 <= limit).then_some(out))
}

/// Reads a program input from a file of at most `limit` bytes decompressed. `chain` overrides
/// the chain the file names or implies.
pub fn load(path: &Path, chain: Option<&ChainConfig>, limit: u64) -> Result<Loaded, FormatError> {
    parse(&read_bytes(path, limit)?, chain)
}

/// Reads a program input from (decompressed) bytes.
pub fn parse(bytes: &[u8], chain: Option<&ChainConfig>) -> Result<Loaded, FormatError> {
    if bytes.starts_with(bp_input::BINARY_MAGIC) {
        let mut input = ProgramInput::from_binary(bytes)?;
        if let Some(chain) = chain {
            let named = input.chain.chain_id;
            input.chain = chain.clone();
            check_override(&input, Some(named))?;
        }
        return Ok(Loaded { input, format: Format::Binary, recovered_siblings: 0 });
    }
    let json: Value = serde_json::from_slice(bytes).map_err(FormatError::Json)?;
    parse_json(&json, chain)
}

/// The input format of parsed JSON, from its top-level keys; `None` if it is none of them
/// (a blockchain-test suite, say).
pub fn detect(json: &Value) -> Option<Format> {
    let has = |key: &str| json.get(key).is_some();
    if has("parent_header") && has("witness") && has("chain") {
        Some(Format::Json)
    } else if has("blocks") && has("witness") && has("network") {
        Some(Format::ExecutionWitness)
    } else if has("full_blocks") && has("proofs") {
        Some(Format::RpcCache)
    } else if has("parent_state_trie") && has("parent_storage") {
        Some(Format::PartialTries)
    } else if has("block_and_witness") {
        Some(Format::StatelessInput)
    } else {
        None
    }
}

/// Reads a program input from parsed JSON.
pub fn parse_json(json: &Value, chain: Option<&ChainConfig>) -> Result<Loaded, FormatError> {
    let Some(format) = detect(json) else {
        let keys = json.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
        return Err(FormatError::Unknown(keys));
    };
    let mut recovered_siblings = 0;
    let input = match format {
        Format::Json => {
            let mut input: ProgramInput = serde_json::from_value(json.clone()).map_err(FormatError::Json)?;
            if let Some(chain) = chain {
                input.chain = chain.clone();
            }
            input
        }
        Format::ExecutionWitness => execution_witness_cache(json, chain)?,
        Format::RpcCache => {
            let (input, recovered) = rpc_cache::input(json, chain)?;
            recovered_siblings = recovered;
            input
        }
        Format::PartialTries => tries::input(json, chain)?,
        Format::StatelessInput => stateless_input(&json["block_and_witness"], chain)?,
        Format::Binary => unreachable!("detect never answers Binary for JSON"),
    };
    if chain.is_some() {
        check_override(&input, named_chain_id(json, format))?;
    }
    Ok(Loaded { input, format, recovered_siblings })
}

/// The chain id a file names, where its format names one (and it can be read).
fn named_chain_id(json: &Value, format: Format) -> Option<u64> {
    match format {
        Format::Json => json["chain"]["chain_id"].as_u64(),
        Format::ExecutionWitness => chain::from_network_field(&json["network"]).ok().map(|c| c.chain_id),
        Format::StatelessInput => {
            chain_from_geth_config(&json["block_and_witness"]["chain_config"]).ok().map(|c| c.chain_id)
        }
        Format::RpcCache | Format::PartialTries | Format::Binary => None,
    }
}

/// A `debug_executionWitness` object; repeated nodes and codes (reth and ethrex emit some) are
/// dropped, keeping the first occurrence, since the program would only hash them again.
fn witness(value: &Value) -> Result<ExecutionWitness, FormatError> {
    let mut witness: ExecutionWitness = serde_json::from_value(value.clone())
        .map_err(|e| FormatError::Field { what: "witness", reason: e.to_string() })?;
    for list in [&mut witness.state, &mut witness.codes, &mut witness.headers] {
        let mut seen = std::collections::HashSet::new();
        list.retain(|item| seen.insert(item.clone()));
    }
    Ok(witness)
}

/// The header among the witness headers whose hash is `hash`.
fn parent_from_witness(witness: &ExecutionWitness, hash: B256) -> Result<Header, FormatError> {
    witness
        .headers
        .iter()
        .filter_map(|rlp| Header::decode(&mut rlp.as_ref()).ok())
        .find(|h| h.hash_slow() == hash)
        .ok_or_else(|| FormatError::Field {
            what: "witness headers",
            reason: format!("none of them is the parent {hash} of the first block"),
        })
}

fn execution_witness_cache(json: &Value, chain: Option<&ChainConfig>) -> Result<ProgramInput, FormatError> {
    let blocks = json["blocks"]
        .as_array()
        .ok_or_else(|| FormatError::Field { what: "blocks", reason: "not a list".into() })?
        .iter()
        .map(|b| {
            let body = &b["body"];
            let txs = body["transactions"].as_array().map(Vec::as_slice).unwrap_or_default();
            json::block(&b["header"], txs, body.get("withdrawals"))
        })
        .collect::<Result<Vec<EthBlock>, _>>()?;
    let first = blocks.first().ok_or_else(|| FormatError::Field { what: "blocks", reason: "empty".into() })?;
    let witness = witness(&json["witness"])?;
    let parent_header = parent_from_witness(&witness, first.header.parent_hash)?;
    let chain = match chain {
        Some(chain) => chain.clone(),
        None => chain::from_network_field(&json["network"])?,
    };
    Ok(ProgramInput { blocks, parent_header, witness, chain, l2: None })
}

fn stateless_input(json: &Value, chain: Option<&ChainConfig>) -> Result<ProgramInput, FormatError> {
    let block = &json["block"];
    let body = &block["body"];
    let txs = body["transactions"].as_array().map(Vec::as_slice).unwrap_or_default();
    if body["ommers"].as_array().is_some_and(|o| !o.is_empty()) {
        return Err(FormatError::Field { what: "block", reason: "blocks with ommers are not supported".into() });
    }
    let block = json::block(&block["header"], txs, body.get("withdrawals"))?;
    let witness = witness(&json["witness"])?;
    let parent_header = parent_from_witness(&witness, block.header.parent_hash)?;
    let chain = match chain {
        Some(chain) => chain.clone(),
        None => chain_from_geth_config(&json["chain_config"])?,
    };
    Ok(ProgramInput { blocks: vec![block], parent_header, witness, chain, l2: None })
}
