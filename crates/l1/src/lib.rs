//! L1 settlement: the contracts (`contracts/`, bound here from their compiled artifacts with
//! alloy's `sol!`), their deployment, the committer that posts each batch with its state-diff
//! blob, the proof sender that has each batch verified, and the watcher that reads deposits.
//!
//! Every transaction waits for a configurable number of confirmations; every call is retried
//! with backoff on transport errors; the committer and the proof sender read the contract's own
//! `lastCommittedBatch` / `lastVerifiedBatch` before sending, so a restart resends nothing
//! already on chain. A revert is reported with the contract's reason.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod anvil;
mod contracts;
mod deploy;
mod deposits;
mod owner;
mod settle;

/// The provider type every function here takes.
pub use alloy::providers::DynProvider;
/// The key type of every account this crate signs with.
pub use alloy::signers::local::PrivateKeySigner;
pub use anvil::{LocalAnvil, ANVIL_KEYS};
pub use contracts::{CommonBridge, DepositingContract, L2Bridge, MockRisc0Verifier, MockSp1Verifier, OnChainProposer};
pub use deploy::{deploy, DeployParams, Deployment, DEFAULT_REVERT_DELAY, DEFAULT_UPGRADE_DELAY};
pub use deposits::{Deposit, DepositWatcher};
pub use owner::{Owner, ProofRequirements, ProofSystem};
pub use settle::{BatchCommit, Committer, Depositor, ProofSender, Sent, VerifyRequest};

use std::time::Duration;

use alloy::{
    network::EthereumWallet,
    primitives::{Address, Bytes},
    providers::{fillers::BlobGasFiller, Provider, ProviderBuilder},
    sol_types::SolError,
};

/// Where the L1 is and how sure a transaction must be.
#[derive(Debug, Clone)]
pub struct L1Config {
    /// JSON-RPC URL of an L1 node.
    pub url: String,
    /// Blocks a transaction must have on top of its own before it counts (0: included).
    pub confirmations: u64,
    /// How long to wait for a transaction's receipt.
    pub receipt_timeout: Duration,
}

impl L1Config {
    /// A config for `url` with no extra confirmations and a two-minute receipt deadline.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), confirmations: 0, receipt_timeout: Duration::from_secs(120) }
    }
}

/// Why an L1 interaction failed.
#[derive(Debug, thiserror::Error)]
pub enum L1Error {
    /// The URL or a key cannot be used.
    #[error("L1 configuration: {0}")]
    Config(String),
    /// The contract refused: its revert reason (empty if it gave none).
    #[error("reverted: {0}")]
    Reverted(String),
    /// The node could not be reached or answered an error that is not a revert; retrying may
    /// succeed.
    #[error("L1 node: {0}")]
    Node(String),
}

impl L1Error {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, L1Error::Node(_))
    }

    /// An alloy contract error: a revert with its reason, or a node failure.
    pub(crate) fn from_contract(error: alloy::contract::Error) -> Self {
        match error.as_revert_data() {
            Some(data) => L1Error::Reverted(revert_reason(&data)),
            None => L1Error::Node(error.to_string()),
        }
    }
}

/// The revert string of `Error(string)` revert data, or the data in hex.
fn revert_reason(data: &Bytes) -> String {
    alloy::sol_types::Revert::abi_decode(data).map(|r| r.reason).unwrap_or_else(|_| data.to_string())
}

/// A provider for `config`'s node, signing with `key` (if any). Nonces come from the node for
/// every transaction (its pending count), not from a local counter: a transaction refused
/// before it is sent (a revert found while estimating gas) leaves no gap, and a restarted
/// process continues where the node is.
pub fn provider(config: &L1Config, key: Option<&PrivateKeySigner>) -> Result<DynProvider, L1Error> {
    let url = config.url.parse().map_err(|e| L1Error::Config(format!("L1 URL {:?}: {e}", config.url)))?;
    let builder = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .filler(BlobGasFiller::default())
        .with_simple_nonce_management()
        .fetch_chain_id();
    Ok(match key {
        Some(key) => builder.wallet(EthereumWallet::from(key.clone())).connect_http(url).erased(),
        None => builder.connect_http(url).erased(),
    })
}

/// A private key from its hex form (`0x` optional).
pub fn signer(hex_key: &str) -> Result<PrivateKeySigner, L1Error> {
    hex_key.trim().parse().map_err(|e| L1Error::Config(format!("private key: {e}")))
}

/// Blocks a deposit (and a transaction of ours) needs on top of it on a real network before it
/// counts: an L2 that includes a deposit a reorg then drops could never commit its batch.
pub const DEFAULT_L1_CONFIRMATIONS: u64 = 6;

/// Whether `provider`'s node is a development node that mines only when sent a transaction
/// (anvil), where waiting for confirmations would wait for ever.
pub async fn is_dev_node(provider: &DynProvider) -> Result<bool, L1Error> {
    let version = provider.get_client_version().await.map_err(|e| L1Error::Node(e.to_string()))?;
    Ok(version.to_ascii_lowercase().starts_with("anvil"))
}

/// The balance of `address`, in wei.
pub async fn balance(provider: &DynProvider, address: Address) -> Result<alloy::primitives::U256, L1Error> {
    provider.get_balance(address).await.map_err(|e| L1Error::Node(e.to_string()))
}
