//! A program input for one real block, from any JSON-RPC node.
//!
//! Two paths, tried in order:
//! 1. `debug_executionWitness` (reth, geth ≥ 1.16, ethrex…): the node hands over the witness.
//! 2. `eth_getProof`: the prestate tracer names the accounts and slots the block touches (system
//!    contract slots and withdrawal recipients are added, the tracer does not see them); their
//!    proofs at N-1 give the pruned tries, their proofs at N recover collapse siblings (case 1),
//!    and `debug_dbGet` supplies the nodes a collapse needs that no proof shows (case 2). Without
//!    `debug_dbGet` such a block fails with an error naming the node.
//!
//! Either way the program runs on the result before it is returned.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod client;

pub use client::{RpcClient, RpcError};

use std::collections::{BTreeMap, BTreeSet};

use alloy_consensus::Header;
use alloy_eips::{eip2935::HISTORY_STORAGE_ADDRESS, eip4788::BEACON_ROOTS_ADDRESS};
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{Address, Bytes, B256, U256};
use alloy_rlp::Encodable;
use bp_input::{ChainConfig, EthBlock, ExecutionWitness, ProgramInput};
use bp_witness::{AccountProof, PreStateFetcher, ProofWitnessBuilder};
use serde_json::{json, Value};

/// How the witness was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessPath {
    /// The node's `debug_executionWitness`.
    ExecutionWitness,
    /// `eth_getProof` before and after, with the prestate tracer and `debug_dbGet`.
    Proofs,
}

/// What building an input took.
#[derive(Debug, Clone)]
pub struct Report {
    /// Which path produced the witness.
    pub path: WitnessPath,
    /// Accounts proven (proof path).
    pub accounts: usize,
    /// Storage slots proven (proof path).
    pub slots: usize,
    /// Collapse siblings recovered from post-state proofs (case 1).
    pub recovered: usize,
    /// Nodes fetched with `debug_dbGet` (case 2).
    pub fetched_nodes: usize,
    /// Older headers fetched for `BLOCKHASH`.
    pub fetched_headers: usize,
}

/// Why no input could be built.
#[derive(Debug, thiserror::Error)]
pub enum RpcWitnessError {
    /// A call failed.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// The node does not have the block.
    #[error("block {0} does not exist on the node")]
    NoBlock(u64),
    /// Block 0 was asked for.
    #[error("block 0 has no parent to prove against")]
    Genesis,
    /// An answer cannot be turned into program input.
    #[error(transparent)]
    Format(#[from] bp_formats::FormatError),
    /// The node's chain is not one whose rules this build knows.
    #[error("chain id {0} is not a known chain; name its rules with --chain or --chain-config")]
    UnknownChain(u64),
    /// The prestate tracer's answer is not understood.
    #[error("the prestate tracer answer is not understood: {0}")]
    Tracer(String),
    /// The witness cannot be built from the proofs.
    #[error("building the witness from proofs")]
    Build(#[from] bp_witness::BuildError),
}

fn hex(n: u64) -> String {
    format!("{n:#x}")
}

/// The node's chain id.
pub fn chain_id(client: &RpcClient) -> Result<u64, RpcWitnessError> {
    quantity("eth_chainId", client.call("eth_chainId", json!([]))?)
}

/// A hex quantity answer as a number, or a shape error naming the method.
fn quantity(method: &str, answer: Value) -> Result<u64, RpcWitnessError> {
    answer
        .as_str()
        .and_then(bp_formats::hex_quantity)
        .ok_or_else(|| RpcError::Shape { method: method.into(), reason: answer.to_string() }.into())
}

/// The node's latest block number (never from the cache).
pub fn block_number(client: &RpcClient) -> Result<u64, RpcWitnessError> {
    quantity("eth_blockNumber", client.call_fresh("eth_blockNumber", json!([]))?)
}

/// What a local anvil (1.7.1, as measured) needs before its blocks follow Ethereum's rules,
/// which the program holds every block to.
pub const ANVIL_ADVICE: &str = "this node is anvil, whose blocks follow Ethereum's rules only when it runs with \
     `--hardfork cancun` (from Prague on it deploys none of the system contracts EIP-7002 and EIP-7251 require) \
     and distinct block timestamps (`cast rpc anvil_setBlockTimestampInterval 1`, or `--block-time 1`); its \
     block 1 keeps the genesis base fee, so prove blocks from 2 on, with `--chain Cancun`. A restarted anvil \
     is another chain at the same URL: give `--no-cache` or clear `--rpc-cache`";

/// Whether the node says it is anvil (`web3_clientVersion`, never from the cache).
pub fn node_is_anvil(client: &RpcClient) -> bool {
    client
        .call_fresh("web3_clientVersion", json!([]))
        .is_ok_and(|version| version.as_str().is_some_and(|v| v.starts_with("anvil/")))
}

/// The chain's rules: `rules` if given (its chain id replaced by the node's), otherwise the
/// known public chain with the node's id.
pub fn resolve_chain(client: &RpcClient, rules: Option<ChainConfig>) -> Result<ChainConfig, RpcWitnessError> {
    let id = chain_id(client)?;
    match rules {
        Some(mut chain) => {
            chain.chain_id = id;
            Ok(chain)
        }
        None => ChainConfig::by_chain_id(id).ok_or(RpcWitnessError::UnknownChain(id)),
    }
}

fn get_block(client: &RpcClient, number: u64, full: bool) -> Result<Value, RpcWitnessError> {
    let block = client.call("eth_getBlockByNumber", json!([hex(number), full]))?;
    if block.is_null() {
        return Err(RpcWitnessError::NoBlock(number));
    }
    Ok(block)
}

/// The header of block `number`.
pub fn header(client: &RpcClient, number: u64) -> Result<Header, RpcWitnessError> {
    Ok(bp_formats::header(&get_block(client, number, false)?)?)
}

/// Builds the program input of block `number`, preferring `debug_executionWitness`.
pub fn build_input(
    client: &RpcClient,
    number: u64,
    chain: &ChainConfig,
) -> Result<(ProgramInput, Report), RpcWitnessError> {
    let parent_number = number.checked_sub(1).ok_or(RpcWitnessError::Genesis)?;
    let block = bp_formats::rpc_block(&get_block(client, number, true)?)?;
    let parent = header(client, parent_number)?;

    match client.call("debug_executionWitness", json!([hex(number)])) {
        Ok(answer) => {
            let mut witness: ExecutionWitness = serde_json::from_value(answer)
                .map_err(|e| RpcError::Shape { method: "debug_executionWitness".into(), reason: e.to_string() })?;
            let mut parent_rlp = Vec::new();
            parent.encode(&mut parent_rlp);
            if !witness.headers.iter().any(|h| h.as_ref() == parent_rlp.as_slice()) {
                witness.headers.push(parent_rlp.into());
            }
            let report = Report {
                path: WitnessPath::ExecutionWitness,
                accounts: 0,
                slots: 0,
                recovered: 0,
                fetched_nodes: 0,
                fetched_headers: 0,
            };
            let input =
                ProgramInput { blocks: vec![block], parent_header: parent, witness, chain: chain.clone(), l2: None };
            bp_program::execute_input(&input).map_err(bp_witness::BuildError::Program)?;
            Ok((input, report))
        }
        Err(e) if e.is_unsupported() => {
            tracing::debug!("debug_executionWitness is not offered ({e}); building the witness from eth_getProof");
            from_proofs(client, block, parent, chain)
        }
        Err(e) => Err(e.into()),
    }
}

/// Accounts and slots a block touches, with the codes the tracer saw.
#[derive(Debug, Default)]
struct Touched {
    slots: BTreeMap<Address, BTreeSet<B256>>,
    codes: Vec<Bytes>,
}

impl Touched {
    fn account(&mut self, address: Address) -> &mut BTreeSet<B256> {
        self.slots.entry(address).or_default()
    }
}

fn prestate(client: &RpcClient, number: u64) -> Result<Touched, RpcWitnessError> {
    let traces = client.call("debug_traceBlockByNumber", json!([hex(number), {"tracer": "prestateTracer"}]))?;
    let mut touched = Touched::default();
    let traces = traces.as_array().ok_or_else(|| RpcWitnessError::Tracer("not a list".into()))?;
    for trace in traces {
        let result = trace.get("result").unwrap_or(trace);
        let accounts = result.as_object().ok_or_else(|| RpcWitnessError::Tracer("result is not an object".into()))?;
        for (address, account) in accounts {
            let address: Address =
                address.parse().map_err(|_| RpcWitnessError::Tracer(format!("address {address}")))?;
            let slots = touched.account(address);
            for slot in account.get("storage").and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k) {
                slots.insert(slot.parse().map_err(|_| RpcWitnessError::Tracer(format!("slot {slot}")))?);
            }
            if let Some(code) = account.get("code").and_then(Value::as_str) {
                let code: Bytes = code.parse().map_err(|_| RpcWitnessError::Tracer("code is not hex".into()))?;
                if !code.is_empty() {
                    touched.codes.push(code);
                }
            }
        }
    }
    Ok(touched)
}

/// What only system calls and withdrawals touch: the tracer follows transactions alone.
fn add_system_keys(touched: &mut Touched, block: &EthBlock, chain: &ChainConfig) {
    let header = &block.header;
    touched.account(header.beneficiary);
    for withdrawal in block.body.withdrawals.iter().flatten() {
        touched.account(withdrawal.address);
    }
    let slot = |n: u64| B256::from(U256::from(n));
    if chain.is_cancun_active_at_timestamp(header.timestamp) {
        let index = header.timestamp % 8191;
        touched.account(BEACON_ROOTS_ADDRESS).extend([slot(index), slot(index + 8191)]);
    }
    if chain.is_prague_active_at_timestamp(header.timestamp) {
        if let Some(parent) = header.number.checked_sub(1) {
            touched.account(HISTORY_STORAGE_ADDRESS).insert(slot(parent % 8191));
        }
        for contract in [
            alloy_eips::eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
            alloy_eips::eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
        ] {
            // Excess, count, queue head and tail: what an empty queue's system call reads.
            touched.account(contract).extend((0..4).map(slot));
        }
    }
}

fn proof(
    client: &RpcClient,
    address: Address,
    slots: &BTreeSet<B256>,
    number: u64,
) -> Result<AccountProof, RpcWitnessError> {
    let slots: Vec<String> = slots.iter().map(|s| s.to_string()).collect();
    let answer = client.call("eth_getProof", json!([address, slots, hex(number)]))?;
    serde_json::from_value(answer)
        .map_err(|e| RpcError::Shape { method: "eth_getProof".into(), reason: e.to_string() }.into())
}

/// Fetches what proofs lack: nodes by hash (`debug_dbGet`) and older headers.
struct NodeFetcher<'a> {
    client: &'a RpcClient,
    db_get_unsupported: bool,
}

impl PreStateFetcher for NodeFetcher<'_> {
    fn node(&mut self, hash: B256) -> Option<Bytes> {
        if self.db_get_unsupported {
            return None;
        }
        match self.client.call("debug_dbGet", json!([hash])) {
            Ok(value) => value.as_str().and_then(|s| s.parse().ok()),
            Err(e) => {
                if e.is_unsupported() || matches!(e, RpcError::Node { .. }) {
                    tracing::warn!("debug_dbGet cannot supply node {hash}: {e}");
                    self.db_get_unsupported = e.is_unsupported();
                } else {
                    tracing::warn!("debug_dbGet {hash}: {e}");
                }
                None
            }
        }
    }

    fn header(&mut self, number: u64) -> Option<Header> {
        header(self.client, number).ok()
    }
}

fn from_proofs(
    client: &RpcClient,
    block: EthBlock,
    parent: Header,
    chain: &ChainConfig,
) -> Result<(ProgramInput, Report), RpcWitnessError> {
    let number = block.header.number;
    let mut touched = prestate(client, number)?;
    add_system_keys(&mut touched, &block, chain);

    let mut builder = ProofWitnessBuilder::new(parent.clone());
    let empty_code = alloy_primitives::KECCAK256_EMPTY;
    let known_codes: BTreeSet<B256> = touched.codes.iter().map(alloy_primitives::keccak256).collect();
    for code in touched.codes.drain(..) {
        builder.add_code(code);
    }
    let mut slot_count = 0;
    for (address, slots) in &touched.slots {
        slot_count += slots.len();
        let pre = proof(client, *address, slots, number - 1)?;
        builder.add_pre_proof(&pre);
        builder.add_post_proof(&proof(client, *address, slots, number)?);
        // Informative only: a wrong hash costs a fetch or a named MissingCode, never a wrong answer.
        let code_hash = pre.code_hash.unwrap_or(empty_code);
        if code_hash != empty_code && !known_codes.contains(&code_hash) {
            let code = client.call("eth_getCode", json!([address, hex(number - 1)]))?;
            if let Some(code) = code.as_str().and_then(|c| c.parse::<Bytes>().ok()) {
                builder.add_code(code);
            }
        }
    }

    let blocks = vec![block];
    let mut fetcher = NodeFetcher { client, db_get_unsupported: false };
    let built = builder.build(&blocks, chain, &mut fetcher)?;
    let report = Report {
        path: WitnessPath::Proofs,
        accounts: touched.slots.len(),
        slots: slot_count,
        recovered: built.recovered,
        fetched_nodes: built.fetched.len(),
        fetched_headers: built.fetched_headers,
    };
    let input = ProgramInput { blocks, parent_header: parent, witness: built.witness, chain: chain.clone(), l2: None };
    Ok((input, report))
}
