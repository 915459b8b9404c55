//! The `eth_`, `net_`, `web3_`, `debug_` and `bp_` methods, answered from the builder's chain,
//! its state and its full state (every trie node of every block, for proofs and witnesses).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use alloy_consensus::{transaction::SignerRecoverable, Header, Transaction as _};
use alloy_eips::{eip2718::Encodable2718, Typed2718};
use alloy_primitives::{keccak256, Address, Bytes, TxKind, B256, U256};
use alloy_rpc_types_eth::{
    BlockNumberOrTag, EIP1186AccountProofResponse, EIP1186StorageProof, FeeHistory, Filter, TransactionRequest,
};
use bp_devnet::{Builder, ChainBlock};
use bp_input::BlockTx;
use bp_program::StateAccount;
use revm::{context::TxEnv, context_interface::result::ExecutionResult, database_interface::WrapDatabaseRef};
use serde_json::{json, Value};

use crate::pool::{Admission, Mempool, PoolError};

/// Most blocks one `eth_getLogs` spans.
pub const MAX_LOG_BLOCKS: u64 = 10_000;
/// Most logs one `eth_getLogs` returns.
pub const MAX_LOGS: usize = 10_000;
/// Most blocks one `eth_feeHistory` covers.
pub const MAX_FEE_HISTORY: u64 = 1024;
/// Most storage slots one `eth_getProof` proves.
pub const MAX_PROOF_SLOTS: usize = 1024;
/// Priority fee the node suggests (`eth_maxPriorityFeePerGas`).
pub const SUGGESTED_TIP: u64 = 1_000_000_000;

/// A JSON-RPC error.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    /// JSON-RPC error code.
    pub code: i64,
    /// What went wrong.
    pub message: String,
    /// Revert data, for `eth_call` and `eth_estimateGas`.
    pub data: Option<Value>,
}

impl RpcError {
    /// An error with `code`.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), data: None }
    }

    fn params(message: impl Into<String>) -> Self {
        Self::new(-32602, format!("invalid params: {}", message.into()))
    }

    /// A failure of the node itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(-32603, message)
    }

    fn server(message: impl Into<String>) -> Self {
        Self::new(-32000, message)
    }
}

impl From<PoolError> for RpcError {
    fn from(e: PoolError) -> Self {
        Self::server(e.to_string())
    }
}

/// Where the L2 settles, for `bp_getWithdrawalProof`.
#[derive(Debug, Clone, Copy)]
pub struct Settlement {
    /// The L1 bridge that pays withdrawals.
    pub bridge: Address,
    /// The OnChainProposer that verifies batches.
    pub proposer: Address,
}

/// The answer of `bp_getWithdrawalProof`: what claiming a transaction's withdrawals on L1
/// takes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalProof {
    /// The L1 batch (the proposer's number) whose withdrawals root holds them.
    #[serde(with = "alloy_serde::quantity")]
    pub batch: u64,
    /// The L2 block of the transaction.
    #[serde(with = "alloy_serde::quantity")]
    pub block: u64,
    /// The L1 bridge that pays them (none on a node without L1).
    pub bridge: Option<Address>,
    /// The OnChainProposer that verifies the batch.
    pub proposer: Option<Address>,
    /// One claim per withdrawal the transaction made.
    pub withdrawals: Vec<WithdrawalClaim>,
}

/// One withdrawal's claim.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalClaim {
    /// The L2 bridge's message id.
    #[serde(with = "alloy_serde::quantity")]
    pub message_id: u64,
    /// Who is paid on L1.
    pub receiver: Address,
    /// Wei paid.
    pub amount: U256,
    /// The Merkle proof of the withdrawal against the batch's withdrawals root.
    pub proof: Vec<B256>,
}

/// Per-method call counts, for `/metrics` and the closing report.
#[derive(Debug, Default)]
pub struct RpcMetrics {
    calls: Mutex<HashMap<String, (u64, u64, Duration)>>,
}

impl RpcMetrics {
    /// Counts one call.
    pub fn record(&self, method: &str, took: Duration, ok: bool) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        // Unknown names share one entry: a peer cannot grow the map.
        let key = if KNOWN_METHODS.contains(&method) { method } else { "unknown" };
        let entry = calls.entry(key.to_string()).or_default();
        entry.0 += 1;
        entry.1 += u64::from(!ok);
        entry.2 += took;
    }

    /// `(method, calls, errors, total time)`, by name.
    pub fn snapshot(&self) -> Vec<(String, u64, u64, Duration)> {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = calls.iter().map(|(m, (n, e, t))| (m.clone(), *n, *e, *t)).collect();
        out.sort();
        out
    }
}

/// Every method served.
pub const KNOWN_METHODS: &[&str] = &[
    "eth_chainId",
    "net_version",
    "web3_clientVersion",
    "eth_syncing",
    "eth_accounts",
    "eth_blockNumber",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getLogs",
    "eth_getProof",
    "debug_executionWitness",
    "bp_getWithdrawalProof",
];

/// Where each block and transaction is.
#[derive(Debug, Default)]
struct Index {
    blocks: HashMap<B256, u64>,
    txs: HashMap<B256, (u64, usize)>,
    /// Senders of each block's transactions.
    senders: Vec<Vec<Address>>,
}

/// The chain the RPC answers from.
#[derive(Debug)]
pub struct Chain {
    /// The builder: blocks, receipts, state, full state.
    pub builder: Arc<Mutex<Builder>>,
    /// Transactions waiting for a block.
    pub pool: Mutex<Mempool>,
    /// Where the L2 settles.
    pub settlement: Option<Settlement>,
    /// Calls served.
    pub metrics: RpcMetrics,
    /// What the block loop has done.
    pub status: crate::run::NodeStatus,
    index: RwLock<Index>,
}

fn hex(n: impl Into<u128>) -> Value {
    Value::String(format!("{:#x}", n.into()))
}

fn param<T: serde::de::DeserializeOwned>(params: &[Value], at: usize, name: &str) -> Result<T, RpcError> {
    let value = params.get(at).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| RpcError::params(format!("{name}: {e}")))
}

fn optional<T: serde::de::DeserializeOwned>(params: &[Value], at: usize, name: &str) -> Result<Option<T>, RpcError> {
    match params.get(at) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => param(params, at, name).map(Some),
    }
}

impl Chain {
    /// The RPC view of `builder`'s chain.
    pub fn new(builder: Arc<Mutex<Builder>>, settlement: Option<Settlement>) -> Self {
        let chain = Self {
            builder,
            pool: Mutex::default(),
            settlement,
            metrics: RpcMetrics::default(),
            status: Default::default(),
            index: Default::default(),
        };
        chain.index_new_blocks();
        chain
    }

    fn builder(&self) -> std::sync::MutexGuard<'_, Builder> {
        self.builder.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Mempool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Indexes the blocks built since the last call.
    pub fn index_new_blocks(&self) {
        self.index_blocks(&self.builder());
    }

    /// [`Self::index_new_blocks`] with the builder's lock held by the caller, who has just added
    /// blocks: indexed before the lock is released, a block is never visible without its
    /// transactions and receipts.
    pub fn index_blocks(&self, builder: &Builder) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        for chain_block in &builder.blocks()[index.senders.len()..] {
            let number = chain_block.block.header.number;
            index.blocks.insert(chain_block.hash, number);
            let mut senders = Vec::new();
            for (i, tx) in chain_block.block.body.transactions.iter().enumerate() {
                index.txs.insert(tx.trie_hash(), (number, i));
                senders.push(sender(tx));
            }
            index.senders.push(senders);
        }
    }

    /// Answers one call.
    pub fn call(&self, method: &str, params: &[Value]) -> Result<Value, RpcError> {
        match method {
            "eth_chainId" => Ok(hex(self.builder().chain().chain_id)),
            "net_version" => Ok(Value::String(self.builder().chain().chain_id.to_string())),
            "web3_clientVersion" => Ok(Value::String(format!("blockprover/{}", env!("CARGO_PKG_VERSION")))),
            "eth_syncing" => Ok(Value::Bool(false)),
            "eth_accounts" => Ok(json!([])),
            "eth_blockNumber" => Ok(hex(self.builder().head().number)),
            "eth_gasPrice" => Ok(hex(next_base_fee(self.builder().head()) + SUGGESTED_TIP)),
            "eth_maxPriorityFeePerGas" => Ok(hex(SUGGESTED_TIP)),
            "eth_feeHistory" => self.fee_history(params),
            "eth_getBlockByNumber" => {
                let builder = self.builder();
                let number = self.block_number(&builder, &param(params, 0, "block")?)?;
                let full: bool = optional(params, 1, "full")?.unwrap_or(false);
                Ok(number.map_or(Value::Null, |n| self.block_json(&builder.blocks()[n as usize], full)))
            }
            "eth_getBlockByHash" => {
                let hash: B256 = param(params, 0, "hash")?;
                let full: bool = optional(params, 1, "full")?.unwrap_or(false);
                let number = self.index.read().unwrap_or_else(|p| p.into_inner()).blocks.get(&hash).copied();
                let builder = self.builder();
                Ok(number.map_or(Value::Null, |n| self.block_json(&builder.blocks()[n as usize], full)))
            }
            "eth_getBalance" => {
                let address: Address = param(params, 0, "address")?;
                Ok(json!(self.account(address, params.get(1))?.map_or(U256::ZERO, |a| a.balance)))
            }
            "eth_getTransactionCount" => {
                let address: Address = param(params, 0, "address")?;
                let nonce = self.account(address, params.get(1))?.map_or(0, |a| a.nonce);
                let pending = params.get(1).and_then(Value::as_str) == Some("pending");
                Ok(hex(if pending { self.pool().pending_nonce(address, nonce) } else { nonce }))
            }
            "eth_getCode" => {
                let address: Address = param(params, 0, "address")?;
                let code_hash = self.account(address, params.get(1))?.map(|a| a.code_hash);
                let builder = self.builder();
                let code = code_hash.and_then(|h| builder.state().codes.get(&h).cloned()).unwrap_or_default();
                Ok(json!(code))
            }
            "eth_getStorageAt" => {
                let address: Address = param(params, 0, "address")?;
                let slot: U256 = param(params, 1, "slot")?;
                Ok(json!(B256::from(self.storage(address, slot, params.get(2))?)))
            }
            "eth_call" => {
                let request: TransactionRequest = param(params, 0, "transaction")?;
                self.latest_only(params.get(1))?;
                let (result, _) = self.simulate(&request, None)?;
                match result {
                    ExecutionResult::Success { output, .. } => Ok(json!(output.into_data())),
                    other => Err(reverted(&other)),
                }
            }
            "eth_estimateGas" => {
                let request: TransactionRequest = param(params, 0, "transaction")?;
                self.latest_only(params.get(1))?;
                self.estimate_gas(&request).map(hex)
            }
            "eth_sendRawTransaction" => {
                let raw: Bytes = param(params, 0, "transaction")?;
                self.send_raw(&raw).map(|hash| json!(hash))
            }
            "eth_getTransactionByHash" => {
                let hash: B256 = param(params, 0, "hash")?;
                self.transaction_json(hash)
            }
            "eth_getTransactionReceipt" => {
                let hash: B256 = param(params, 0, "hash")?;
                self.receipt_json(hash)
            }
            "eth_getLogs" => {
                let filter: Filter = param(params, 0, "filter")?;
                self.logs(&filter)
            }
            "eth_getProof" => {
                let address: Address = param(params, 0, "address")?;
                let slots: Vec<U256> = param(params, 1, "storage keys")?;
                self.proof(address, &slots, params.get(2))
            }
            "debug_executionWitness" => self.execution_witness(params),
            "bp_getWithdrawalProof" => {
                let hash: B256 = param(params, 0, "transaction hash")?;
                self.withdrawal_proof(hash)
            }
            other => Err(RpcError::new(-32601, format!("the method {other} does not exist/is not available"))),
        }
    }

    /// The block a block parameter names: `None` for a number past the head.
    fn block_number(&self, builder: &Builder, tag: &Value) -> Result<Option<u64>, RpcError> {
        let head = builder.head().number;
        if let Some(hash) = tag.get("blockHash") {
            let hash: B256 = serde_json::from_value(hash.clone()).map_err(|e| RpcError::params(e.to_string()))?;
            let index = self.index.read().unwrap_or_else(|p| p.into_inner());
            return index.blocks.get(&hash).copied().map(Some).ok_or_else(|| RpcError::server("header not found"));
        }
        let tag = tag.get("blockNumber").unwrap_or(tag);
        let tag: BlockNumberOrTag = match tag {
            Value::Null => BlockNumberOrTag::Latest,
            tag => serde_json::from_value(tag.clone()).map_err(|e| RpcError::params(format!("block: {e}")))?,
        };
        Ok(match tag {
            BlockNumberOrTag::Earliest => Some(0),
            BlockNumberOrTag::Number(n) => (n <= head).then_some(n),
            // No block is final before L1 verifies it, but the sequencer's own blocks do not
            // reorganise: every tag names the head.
            _ => Some(head),
        })
    }

    /// The state root after the block named by `tag` (`None`: the head, read from the state).
    fn state_root_at(&self, tag: Option<&Value>) -> Result<Option<B256>, RpcError> {
        let builder = self.builder();
        let number = self
            .block_number(&builder, tag.unwrap_or(&Value::Null))?
            .ok_or_else(|| RpcError::server("header not found"))?;
        Ok((number != builder.head().number).then(|| builder.blocks()[number as usize].block.header.state_root))
    }

    /// An account's nonce, balance and code hash at a block (its storage root only from a
    /// block before the head: callers read storage through [`Self::storage`]).
    fn account(&self, address: Address, tag: Option<&Value>) -> Result<Option<StateAccount>, RpcError> {
        match self.state_root_at(tag)? {
            // The head's state is in memory; its storage root is not computed for a read.
            None => Ok(self.builder().state().accounts.get(&address).map(|a| StateAccount {
                nonce: a.nonce,
                balance: a.balance,
                storage_root: B256::ZERO,
                code_hash: a.code_hash,
            })),
            Some(root) => self.proved_account(root, address).map(|(account, _)| account),
        }
    }

    fn proved_account(&self, root: B256, address: Address) -> Result<(Option<StateAccount>, Vec<Bytes>), RpcError> {
        let builder = self.builder();
        let (leaf, proof) =
            builder.full_state().prove(root, keccak256(address)).ok_or_else(|| RpcError::internal("state not kept"))?;
        let account = leaf
            .map(|rlp| alloy_rlp::Decodable::decode(&mut rlp.as_slice()))
            .transpose()
            .map_err(|_| RpcError::internal("a stored account does not decode"))?;
        Ok((account, proof))
    }

    fn proved_slot(&self, storage_root: B256, slot: U256) -> Result<(U256, Vec<Bytes>), RpcError> {
        let builder = self.builder();
        let (leaf, proof) = builder
            .full_state()
            .prove(storage_root, keccak256(slot.to_be_bytes::<32>()))
            .ok_or_else(|| RpcError::internal("state not kept"))?;
        let value = leaf
            .map(|rlp| alloy_rlp::Decodable::decode(&mut rlp.as_slice()))
            .transpose()
            .map_err(|_| RpcError::internal("a stored slot does not decode"))?;
        Ok((value.unwrap_or_default(), proof))
    }

    fn storage(&self, address: Address, slot: U256, tag: Option<&Value>) -> Result<U256, RpcError> {
        match self.state_root_at(tag)? {
            None => Ok(self
                .builder()
                .state()
                .accounts
                .get(&address)
                .and_then(|a| a.storage.get(&slot).copied())
                .unwrap_or_default()),
            Some(root) => match self.proved_account(root, address)?.0 {
                Some(account) => Ok(self.proved_slot(account.storage_root, slot)?.0),
                None => Ok(U256::ZERO),
            },
        }
    }

    fn proof(&self, address: Address, slots: &[U256], tag: Option<&Value>) -> Result<Value, RpcError> {
        if slots.len() > MAX_PROOF_SLOTS {
            return Err(RpcError::params(format!("{} storage keys, the most is {MAX_PROOF_SLOTS}", slots.len())));
        }
        let root = {
            let builder = self.builder();
            let number = self
                .block_number(&builder, tag.unwrap_or(&Value::Null))?
                .ok_or_else(|| RpcError::server("header not found"))?;
            builder.blocks()[number as usize].block.header.state_root
        };
        let (account, account_proof) = self.proved_account(root, address)?;
        let account = account.unwrap_or(StateAccount {
            nonce: 0,
            balance: U256::ZERO,
            storage_root: alloy_consensus::EMPTY_ROOT_HASH,
            code_hash: revm::primitives::KECCAK_EMPTY,
        });
        let storage_proof = slots
            .iter()
            .map(|slot| {
                let (value, proof) = self.proved_slot(account.storage_root, *slot)?;
                let key = alloy_serde::storage::JsonStorageKey::Hash(B256::from(slot.to_be_bytes::<32>()));
                Ok(EIP1186StorageProof { key, value, proof })
            })
            .collect::<Result<Vec<_>, RpcError>>()?;
        let response = EIP1186AccountProofResponse {
            address,
            balance: account.balance,
            code_hash: account.code_hash,
            nonce: account.nonce,
            storage_hash: account.storage_root,
            account_proof,
            storage_proof,
        };
        serde_json::to_value(response).map_err(|e| RpcError::internal(e.to_string()))
    }

    fn latest_only(&self, tag: Option<&Value>) -> Result<(), RpcError> {
        match self.state_root_at(tag)? {
            None => Ok(()),
            Some(_) => Err(RpcError::server("calls run against the latest block only: this node keeps no older state")),
        }
    }

    /// Runs `request` on the head state as the next block would; `gas` overrides its limit.
    fn simulate(&self, request: &TransactionRequest, gas: Option<u64>) -> Result<(ExecutionResult, u64), RpcError> {
        let builder = self.builder();
        let head = builder.head();
        let next = next_header(head);
        let mut env = bp_program::evm_env(&next, builder.chain());
        let priced = request.gas_price.is_some() || request.max_fee_per_gas.is_some();
        env.cfg_env.disable_nonce_check = true;
        env.cfg_env.disable_base_fee = !priced;
        let cap = gas.or(request.gas).unwrap_or(next.gas_limit).min(next.gas_limit);
        let gas_price = request.max_fee_per_gas.or(request.gas_price).unwrap_or(0);
        let tx = TxEnv {
            tx_type: if request.max_fee_per_gas.is_some() { 2 } else { 0 },
            caller: request.from.unwrap_or_default(),
            gas_limit: cap,
            gas_price,
            kind: request.to.unwrap_or(TxKind::Create),
            value: request.value.unwrap_or_default(),
            data: request.input.input().cloned().unwrap_or_default(),
            nonce: 0,
            chain_id: Some(builder.chain().chain_id),
            access_list: request.access_list.clone().unwrap_or_default(),
            gas_priority_fee: request.max_priority_fee_per_gas,
            ..Default::default()
        };
        use alloy_evm::{Evm, EvmFactory};
        let mut evm = alloy_evm::EthEvmFactory::default().create_evm(WrapDatabaseRef(builder.state()), env);
        let outcome = evm.transact_raw(tx).map_err(|e| RpcError::server(e.to_string()))?;
        Ok((outcome.result, cap))
    }

    /// The least gas limit with which `request` succeeds (binary search, as geth does).
    fn estimate_gas(&self, request: &TransactionRequest) -> Result<u64, RpcError> {
        let (result, cap) = self.simulate(request, None)?;
        let used = match &result {
            ExecutionResult::Success { .. } => result.tx_gas_used(),
            other => return Err(reverted(other)),
        };
        let (mut low, mut high) = (used.saturating_sub(1), cap);
        while low + 1 < high {
            let mid = low + (high - low) / 2;
            match self.simulate(request, Some(mid)) {
                Ok((ExecutionResult::Success { .. }, _)) => high = mid,
                _ => low = mid,
            }
        }
        Ok(high)
    }

    fn send_raw(&self, raw: &[u8]) -> Result<B256, RpcError> {
        let builder = self.builder();
        let head = builder.head();
        let next = next_header(head);
        let spec = bp_program::evm_env(&next, builder.chain()).cfg_env.spec;
        let admission = Admission {
            state: builder.state(),
            chain_id: builder.chain().chain_id,
            base_fee: next.base_fee_per_gas.unwrap_or_default(),
            block_gas_limit: next.gas_limit,
            spec,
        };
        let hash = self.pool().add(raw, admission)?;
        tracing::debug!(%hash, "transaction received");
        Ok(hash)
    }

    fn located(&self, hash: B256) -> Option<(u64, usize, Address)> {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let (number, i) = *index.txs.get(&hash)?;
        Some((number, i, index.senders[number as usize][i]))
    }

    fn transaction_json(&self, hash: B256) -> Result<Value, RpcError> {
        if let Some((number, i, from)) = self.located(hash) {
            let builder = self.builder();
            let block = &builder.blocks()[number as usize];
            return Ok(tx_json(&block.block.body.transactions[i], from, Some((block, i))));
        }
        let pool = self.pool();
        Ok(pool.get(&hash).map_or(Value::Null, |tx| tx_json(&BlockTx::Ethereum(tx.envelope.clone()), tx.sender, None)))
    }

    fn receipt_json(&self, hash: B256) -> Result<Value, RpcError> {
        let Some((number, i, from)) = self.located(hash) else { return Ok(Value::Null) };
        let builder = self.builder();
        let block = &builder.blocks()[number as usize];
        let tx = &block.block.body.transactions[i];
        let receipt = &block.receipts[i];
        let before = if i == 0 { 0 } else { block.receipts[i - 1].cumulative_gas_used };
        let base_fee = block.block.header.base_fee_per_gas.unwrap_or_default();
        let first_log: usize = block.receipts[..i].iter().map(|r| r.logs.len()).sum();
        let contract = match tx {
            BlockTx::Ethereum(envelope) if envelope.is_create() => Some(from.create(envelope.nonce())),
            _ => None,
        };
        let logs: Vec<Value> =
            receipt.logs.iter().enumerate().map(|(j, log)| log_json(block, i, first_log + j, log)).collect();
        Ok(json!({
            "transactionHash": hash,
            "transactionIndex": hex(i as u64),
            "blockHash": block.hash,
            "blockNumber": hex(number),
            "from": from,
            "to": tx_to(tx),
            "cumulativeGasUsed": hex(receipt.cumulative_gas_used),
            "gasUsed": hex(receipt.cumulative_gas_used - before),
            "effectiveGasPrice": hex(effective_gas_price(tx, base_fee)),
            "contractAddress": contract,
            "logs": logs,
            "logsBloom": alloy_primitives::logs_bloom(receipt.logs.iter()),
            "type": hex(tx.ty()),
            "status": hex(u8::from(receipt.success)),
        }))
    }

    fn block_json(&self, chain_block: &ChainBlock, full: bool) -> Value {
        let header = &chain_block.block.header;
        let mut block = serde_json::to_value(alloy_rpc_types_eth::Header {
            hash: chain_block.hash,
            inner: header.clone(),
            total_difficulty: Some(U256::ZERO),
            size: Some(U256::from(alloy_rlp::encode(&chain_block.block).len())),
        })
        .unwrap_or_default();
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let senders = index.senders.get(header.number as usize);
        let txs: Vec<Value> = chain_block
            .block
            .body
            .transactions
            .iter()
            .enumerate()
            .map(|(i, tx)| match (full, senders) {
                (true, Some(senders)) => tx_json(tx, senders[i], Some((chain_block, i))),
                _ => json!(tx.trie_hash()),
            })
            .collect();
        block["transactions"] = Value::Array(txs);
        block["uncles"] = json!([]);
        block["withdrawals"] = json!([]);
        block
    }

    fn fee_history(&self, params: &[Value]) -> Result<Value, RpcError> {
        let count: U256 = param(params, 0, "block count")?;
        let count = count.saturating_to::<u64>().clamp(1, MAX_FEE_HISTORY);
        let percentiles: Vec<f64> = optional(params, 2, "reward percentiles")?.unwrap_or_default();
        if percentiles.len() > 100 || percentiles.windows(2).any(|w| w[0] > w[1]) {
            return Err(RpcError::params("reward percentiles: at most 100, in ascending order"));
        }
        let builder = self.builder();
        let newest = self
            .block_number(&builder, params.get(1).unwrap_or(&Value::Null))?
            .ok_or_else(|| RpcError::server("header not found"))?;
        let oldest = (newest + 1).saturating_sub(count);
        let blocks = &builder.blocks()[oldest as usize..=newest as usize];
        let mut base_fee_per_gas: Vec<u128> =
            blocks.iter().map(|b| u128::from(b.block.header.base_fee_per_gas.unwrap_or_default())).collect();
        base_fee_per_gas.push(u128::from(next_base_fee(&blocks[blocks.len() - 1].block.header)));
        let gas_used_ratio =
            blocks.iter().map(|b| b.block.header.gas_used as f64 / b.block.header.gas_limit as f64).collect();
        let reward =
            (!percentiles.is_empty()).then(|| blocks.iter().map(|b| rewards(b, &percentiles)).collect::<Vec<_>>());
        let history = FeeHistory {
            base_fee_per_gas,
            gas_used_ratio,
            base_fee_per_blob_gas: vec![0; blocks.len() + 1],
            blob_gas_used_ratio: vec![0.0; blocks.len()],
            oldest_block: oldest,
            reward,
        };
        serde_json::to_value(history).map_err(|e| RpcError::internal(e.to_string()))
    }

    fn logs(&self, filter: &Filter) -> Result<Value, RpcError> {
        let builder = self.builder();
        let head = builder.head().number;
        let range = match filter.get_block_hash() {
            Some(hash) => {
                let index = self.index.read().unwrap_or_else(|p| p.into_inner());
                let n = *index.blocks.get(&hash).ok_or_else(|| RpcError::server("unknown block"))?;
                n..=n
            }
            None => {
                let resolve = |tag: Option<BlockNumberOrTag>| match tag {
                    Some(BlockNumberOrTag::Number(n)) => n,
                    Some(BlockNumberOrTag::Earliest) => 0,
                    _ => head,
                };
                let (from, to) = (
                    resolve(filter.block_option.get_from_block().copied()),
                    resolve(filter.block_option.get_to_block().copied()),
                );
                if from > to {
                    return Err(RpcError::params(format!("fromBlock {from} is after toBlock {to}")));
                }
                if to - from >= MAX_LOG_BLOCKS {
                    return Err(RpcError::server(format!(
                        "query spans {} blocks, the most is {MAX_LOG_BLOCKS}",
                        to - from + 1
                    )));
                }
                from..=to.min(head)
            }
        };
        let mut logs = Vec::new();
        for number in range {
            let block = &builder.blocks()[number as usize];
            if !filter.matches_bloom(block.block.header.logs_bloom) {
                continue;
            }
            let mut log_index = 0;
            for (i, receipt) in block.receipts.iter().enumerate() {
                for log in &receipt.logs {
                    if filter.matches_address(log.address) && filter.matches_topics(log.topics()) {
                        if logs.len() >= MAX_LOGS {
                            return Err(RpcError::server(format!("query returns more than {MAX_LOGS} logs")));
                        }
                        logs.push(log_json(block, i, log_index, log));
                    }
                    log_index += 1;
                }
            }
        }
        Ok(Value::Array(logs))
    }

    fn execution_witness(&self, params: &[Value]) -> Result<Value, RpcError> {
        let builder = self.builder();
        let number = self
            .block_number(&builder, params.first().unwrap_or(&Value::Null))?
            .ok_or_else(|| RpcError::server("header not found"))?;
        if number == 0 {
            return Err(RpcError::server("genesis has no execution witness"));
        }
        let block = builder.blocks()[number as usize].block.clone();
        let generated = builder
            .full_state()
            .witness_of(std::slice::from_ref(&block), builder.chain(), true)
            .ok_or_else(|| RpcError::internal("the parent state is not kept"))?;
        generated
            .result
            .map_err(|e| RpcError::internal(format!("re-executing the block: {}", bp_program::ErrorChain(&e))))?;
        serde_json::to_value(generated.witness).map_err(|e| RpcError::internal(e.to_string()))
    }

    /// The L1 claims of the withdrawals a transaction made: its L1 batch, each message id,
    /// receiver, amount and Merkle proof against the batch's withdrawals root.
    fn withdrawal_proof(&self, hash: B256) -> Result<Value, RpcError> {
        let (number, i, _) = self.located(hash).ok_or_else(|| RpcError::server("transaction not found"))?;
        let builder = self.builder();
        let messages: Vec<_> = builder.blocks()[number as usize].receipts[i]
            .logs
            .iter()
            .filter_map(bp_program::l2::withdrawal_from_log)
            .collect();
        if messages.is_empty() {
            return Err(RpcError::server(format!("transaction {hash} made no withdrawal")));
        }
        let Some(batch) = builder.sealed().iter().find(|s| (s.first_block..=s.last_block).contains(&number)) else {
            return Err(RpcError::server(format!("block {number} is not in a sealed batch yet: try again later")));
        };
        let mut withdrawals = Vec::new();
        for message in messages {
            let Some(claim) = batch.withdrawal_claims.iter().find(|w| w.message == message) else {
                return Err(RpcError::server(format!(
                    "withdrawal message {} was not made through the L2 bridge: it has no ether claim",
                    message.message_id
                )));
            };
            let proof = bp_program::l2::merkle_proof(&batch.withdrawal_leaves, claim.index)
                .ok_or_else(|| RpcError::internal("a withdrawal outside its batch's tree"))?;
            let message_id = u64::try_from(message.message_id)
                .map_err(|_| RpcError::internal("a withdrawal message id over 2^64"))?;
            withdrawals.push(WithdrawalClaim { message_id, receiver: claim.receiver, amount: claim.amount, proof });
        }
        let answer = WithdrawalProof {
            batch: batch.index as u64 + 1,
            block: number,
            bridge: self.settlement.map(|s| s.bridge),
            proposer: self.settlement.map(|s| s.proposer),
            withdrawals,
        };
        serde_json::to_value(answer).map_err(|e| RpcError::internal(e.to_string()))
    }
}

/// The header the next block will have, as far as calls need it.
pub fn next_header(head: &Header) -> Header {
    Header {
        parent_hash: head.hash_slow(),
        number: head.number + 1,
        timestamp: head.timestamp + 1,
        base_fee_per_gas: Some(next_base_fee(head)),
        ..head.clone()
    }
}

/// The base fee of the block after `head` (EIP-1559).
pub fn next_base_fee(head: &Header) -> u64 {
    head.next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum()).unwrap_or_default()
}

fn reverted(result: &ExecutionResult) -> RpcError {
    match result {
        ExecutionResult::Revert { output, .. } => {
            let reason = alloy_sol_types::decode_revert_reason(output).unwrap_or_default();
            RpcError { code: 3, message: format!("execution reverted: {reason}"), data: Some(json!(output)) }
        }
        ExecutionResult::Halt { reason, .. } => RpcError::server(format!("execution halted: {reason:?}")),
        ExecutionResult::Success { .. } => RpcError::internal("not a failure"),
    }
}

fn sender(tx: &BlockTx) -> Address {
    match tx {
        BlockTx::Ethereum(envelope) => envelope.recover_signer().unwrap_or_default(),
        BlockTx::Privileged(deposit) => deposit.from,
    }
}

fn tx_to(tx: &BlockTx) -> Option<Address> {
    match tx {
        BlockTx::Ethereum(envelope) => envelope.to(),
        BlockTx::Privileged(deposit) => Some(deposit.to),
    }
}

fn effective_gas_price(tx: &BlockTx, base_fee: u64) -> u128 {
    match tx {
        BlockTx::Ethereum(envelope) => envelope.effective_gas_price(Some(base_fee)),
        // A deposit is paid for on L1.
        BlockTx::Privileged(_) => 0,
    }
}

/// Each percentile's priority fee, weighted by gas used, as geth's `eth_feeHistory`.
fn rewards(block: &ChainBlock, percentiles: &[f64]) -> Vec<u128> {
    let base_fee = block.block.header.base_fee_per_gas.unwrap_or_default();
    let mut tips: Vec<(u128, u64)> = block
        .block
        .body
        .transactions
        .iter()
        .zip(&block.receipts)
        .scan(0u64, |before, (tx, receipt)| {
            let gas = receipt.cumulative_gas_used - *before;
            *before = receipt.cumulative_gas_used;
            Some((effective_gas_price(tx, base_fee).saturating_sub(u128::from(base_fee)), gas))
        })
        .collect();
    if tips.is_empty() {
        return vec![0; percentiles.len()];
    }
    tips.sort_unstable();
    let total: u64 = tips.iter().map(|(_, g)| g).sum();
    percentiles
        .iter()
        .map(|p| {
            let threshold = (total as f64 * p / 100.0) as u64;
            let mut sum = 0;
            for (tip, gas) in &tips {
                sum += gas;
                if sum >= threshold {
                    return *tip;
                }
            }
            tips[tips.len() - 1].0
        })
        .collect()
}

fn log_json(block: &ChainBlock, tx_index: usize, log_index: usize, log: &alloy_primitives::Log) -> Value {
    json!({
        "address": log.address,
        "topics": log.topics(),
        "data": log.data.data,
        "blockHash": block.hash,
        "blockNumber": hex(block.block.header.number),
        "blockTimestamp": hex(block.block.header.timestamp),
        "transactionHash": block.block.body.transactions[tx_index].trie_hash(),
        "transactionIndex": hex(tx_index as u64),
        "logIndex": hex(log_index as u64),
        "removed": false,
    })
}

/// A transaction as `eth_getTransactionByHash` gives it; `at`: its block and position.
fn tx_json(tx: &BlockTx, from: Address, at: Option<(&ChainBlock, usize)>) -> Value {
    let mut value = match tx {
        BlockTx::Ethereum(envelope) => {
            let base_fee = at.and_then(|(b, _)| b.block.header.base_fee_per_gas);
            let rpc = alloy_rpc_types_eth::Transaction {
                inner: alloy_consensus::transaction::Recovered::new_unchecked(envelope.clone(), from),
                block_hash: at.map(|(b, _)| b.hash),
                block_number: at.map(|(b, _)| b.block.header.number),
                transaction_index: at.map(|(_, i)| i as u64),
                effective_gas_price: base_fee.map(|fee| envelope.effective_gas_price(Some(fee))),
                block_timestamp: at.map(|(b, _)| b.block.header.timestamp),
            };
            serde_json::to_value(rpc).unwrap_or_default()
        }
        // A deposit: its own type (0x7e), no signature, its L1 sender as `from`.
        BlockTx::Privileged(deposit) => json!({
            "type": "0x7e",
            "hash": tx.trie_hash(),
            "from": deposit.from,
            "to": deposit.to,
            "value": deposit.value,
            "gas": hex(deposit.gas_limit),
            "gasPrice": "0x0",
            "maxFeePerGas": "0x0",
            "maxPriorityFeePerGas": "0x0",
            "input": deposit.data,
            "nonce": hex(deposit.nonce),
            "chainId": hex(deposit.chain_id),
            "accessList": [],
            "blockHash": at.map(|(b, _)| b.hash),
            "blockNumber": at.map(|(b, _)| hex(b.block.header.number)),
            "transactionIndex": at.map(|(_, i)| hex(i as u64)),
        }),
    };
    if at.is_none() {
        value["blockHash"] = Value::Null;
        value["blockNumber"] = Value::Null;
        value["transactionIndex"] = Value::Null;
    }
    value
}
