//! The node's L1: the contracts it settles on (deployed once, remembered in the data dir's
//! `l1.json`), the bridge's deposits as the sequencer's feed (everyone's, in the bridge's
//! order), and the committer that posts every sealed batch with its blob.

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    sync::Mutex,
};

use alloy_primitives::Address;
use bp_devnet::{Builder, DepositFeed, SealedBatch, DEPOSIT_GAS_PER_BLOCK, MAX_DEPOSIT_GAS};
use bp_input::PrivilegedTx;
use bp_l1::{
    BatchCommit, Committer, DeployParams, Deployment, DepositWatcher, L1Config, L1Error, LocalAnvil, PrivateKeySigner,
    ProofRequirements, Sent,
};
use serde::{Deserialize, Serialize};

/// Why the node's L1 side stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeL1Error {
    /// The L1 node or a contract refused.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// `l1.json` could not be read or written.
    #[error("{path}: {error}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: String,
    },
    /// `l1.json` names contracts on another node than the one given.
    #[error("{path} names contracts on {remembered}, not {given}: give --l1 {remembered}, or use a new --data-dir")]
    OtherNode {
        /// The file.
        path: PathBuf,
        /// The node it names.
        remembered: String,
        /// The node given.
        given: String,
    },
    /// The data dir holds a chain that cannot settle on the L1 given.
    #[error("{0}")]
    Unsettleable(String),
    /// The committer and the proof sender are one account.
    #[error("the committer and the proof sender are both {0}: they must be separate accounts")]
    SharedAccount(Address),
    /// A sealed batch without the L2 commitments a commit carries.
    #[error("L2 batch {0} has no L2 commitments")]
    NoCommitments(usize),
}

/// The L1 side of a data dir, as `l1.json` keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct L1File {
    /// The node the contracts are on.
    pub url: String,
    /// The contracts.
    pub deployment: Deployment,
}

impl L1File {
    /// Where a data dir keeps it.
    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join("l1.json")
    }

    /// The file at `path`, if there is one.
    pub fn read(path: &Path) -> Result<Option<Self>, NodeL1Error> {
        let error = |error: String| NodeL1Error::File { path: path.to_path_buf(), error };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| error(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(error(e.to_string())),
        }
    }

    /// Writes it to `path` (through a temporary file, so a crash leaves the old one or the
    /// new one).
    pub fn write(&self, path: &Path) -> Result<(), NodeL1Error> {
        let error = |error: String| NodeL1Error::File { path: path.to_path_buf(), error };
        let text = serde_json::to_vec_pretty(self).map_err(|e| error(e.to_string()))?;
        let temp = path.with_extension("json.tmp");
        std::fs::write(&temp, text).map_err(|e| error(e.to_string()))?;
        std::fs::rename(&temp, path).map_err(|e| error(e.to_string()))
    }
}

/// Which L1 to settle on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L1Target {
    /// A local anvil started for this run (it lives as long as the process).
    Anvil,
    /// A JSON-RPC node.
    Url(String),
}

impl L1Target {
    /// `anvil`, or a URL.
    pub fn parse(spec: &str) -> Self {
        match spec {
            "anvil" => Self::Anvil,
            url => Self::Url(url.to_string()),
        }
    }
}

/// The L1 accounts the node acts as.
#[derive(Debug, Clone)]
pub struct L1Keys {
    /// Deploys the contracts (and owns them).
    pub owner: PrivateKeySigner,
    /// Commits batches.
    pub committer: PrivateKeySigner,
    /// The coordinator's account, which has batches verified (never the committer).
    pub proof_sender: PrivateKeySigner,
}

/// An L1 connected to, with the contracts on it.
#[derive(Debug)]
pub struct Connected {
    /// The local node, if one was started (it stops when this is dropped).
    pub anvil: Option<LocalAnvil>,
    /// The node and the confirmations a transaction needs.
    pub config: L1Config,
    /// The contracts.
    pub deployment: Deployment,
    /// Whether they were deployed by this call (else read from `l1.json`).
    pub deployed: bool,
    /// What the proposer checks of a proof.
    pub requirements: ProofRequirements,
}

impl Connected {
    /// Connects to (or starts) `target` and deploys the contracts for `builder`'s chain,
    /// unless `data_dir`'s `l1.json` names them on the same node. `confirmations` is what a
    /// deposit or a transaction needs on top of it (default: 0 on anvil, which mines only when
    /// sent a transaction; [`bp_l1::DEFAULT_L1_CONFIRMATIONS`] elsewhere). A deployment made
    /// here is in dev mode: the node's provers make exec proofs, which no L1 verifier checks.
    pub async fn open(
        target: &L1Target,
        keys: &L1Keys,
        confirmations: Option<u64>,
        builder: &Builder,
        data_dir: &Path,
    ) -> Result<Self, NodeL1Error> {
        if keys.committer.address() == keys.proof_sender.address() {
            return Err(NodeL1Error::SharedAccount(keys.committer.address()));
        }
        let path = L1File::path(data_dir);
        let remembered = L1File::read(&path)?;
        let (anvil, url) = match target {
            L1Target::Anvil => {
                if remembered.is_some() || builder.head().number > 0 {
                    return Err(NodeL1Error::Unsettleable(format!(
                        "{} holds a chain settled on an earlier L1; an embedded anvil lives for one run only: use a \
                         new --data-dir, or --l1 URL of a node that keeps its state",
                        data_dir.display()
                    )));
                }
                let anvil = LocalAnvil::start("prague", None)?;
                let url = anvil.url.clone();
                (Some(anvil), url)
            }
            L1Target::Url(url) => (None, url.clone()),
        };
        let confirmations = match confirmations {
            Some(confirmations) => confirmations,
            None if anvil.is_some() => 0,
            None if bp_l1::is_dev_node(&bp_l1::provider(&L1Config::new(url.clone()), None)?).await? => 0,
            None => bp_l1::DEFAULT_L1_CONFIRMATIONS,
        };
        let config = L1Config { confirmations, ..L1Config::new(url.clone()) };
        let (deployment, deployed) = match remembered {
            Some(file) if file.url == url => (file.deployment, false),
            Some(file) => return Err(NodeL1Error::OtherNode { path, remembered: file.url, given: url }),
            None => {
                if !builder.sealed().is_empty() || builder.deposits_made() > 0 {
                    return Err(NodeL1Error::Unsettleable(format!(
                        "{} holds a chain built without an L1 (its deposits were made up): use a new --data-dir",
                        data_dir.display()
                    )));
                }
                let genesis = bp_devnet::genesis_block();
                let params = DeployParams {
                    l2_chain_id: builder.chain().chain_id,
                    chain_config_hash: builder.chain().hash(),
                    genesis_state_root: genesis.state_root,
                    genesis_block_hash: genesis.hash_slow(),
                    committer: keys.committer.address(),
                    proof_sender: keys.proof_sender.address(),
                    l2_bridge: bp_input::L2_BRIDGE_ADDRESS,
                    max_deposit_gas: MAX_DEPOSIT_GAS,
                    risc0: None,
                    sp1: None,
                    dev_mode: true,
                    revert_delay: bp_l1::DEFAULT_REVERT_DELAY,
                    upgrade_delay: bp_l1::DEFAULT_UPGRADE_DELAY,
                };
                let deployment = bp_l1::deploy(&bp_l1::provider(&config, Some(&keys.owner))?, &config, &params).await?;
                L1File { url: url.clone(), deployment }.write(&path)?;
                (deployment, true)
            }
        };
        let requirements = ProofRequirements::read(&bp_l1::provider(&config, None)?, deployment.proposer).await?;
        Ok(Self { anvil, config, deployment, deployed, requirements })
    }
}

/// Deposits read from the bridge and not yet in a block, in the bridge's order. Every block
/// takes the oldest pending ones, up to [`DEPOSIT_GAS_PER_BLOCK`] of their gas limits (and at
/// least one), whoever made them.
#[derive(Debug, Default)]
pub struct L1Deposits {
    queue: VecDeque<bp_l1::Deposit>,
    chain_id: u64,
}

impl L1Deposits {
    /// An empty feed for the L2 `chain_id`.
    pub fn new(chain_id: u64) -> Self {
        Self { queue: VecDeque::new(), chain_id }
    }

    /// Queues deposits read from the bridge (in its order).
    pub fn extend(&mut self, deposits: impl IntoIterator<Item = bp_l1::Deposit>) {
        self.queue.extend(deposits);
    }

    /// Deposits read and not yet taken by a block.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }
}

impl DepositFeed for L1Deposits {
    fn deposits(&mut self, number: u64, next_nonce: u64) -> Result<Vec<PrivilegedTx>, String> {
        while self.queue.front().is_some_and(|d| d.nonce < next_nonce) {
            self.queue.pop_front();
        }
        if let Some(d) = self.queue.front().filter(|d| d.nonce != next_nonce) {
            return Err(format!("block {number}: deposit {} where {next_nonce} is next", d.nonce));
        }
        let mut gas = 0u64;
        let mut txs = Vec::new();
        for d in &self.queue {
            gas = gas.saturating_add(d.gas_limit);
            if gas > DEPOSIT_GAS_PER_BLOCK && !txs.is_empty() {
                break;
            }
            txs.push(PrivilegedTx {
                chain_id: self.chain_id,
                nonce: d.nonce,
                gas_limit: d.gas_limit,
                to: d.to,
                value: d.value,
                data: d.data.clone(),
                from: d.from,
                ..Default::default()
            });
        }
        Ok(txs)
    }
}

/// The node's L1 driver: reads the bridge's deposits (for an [`L1Deposits`] feed) and commits
/// sealed batches.
#[derive(Debug)]
pub struct Settler {
    committer: Committer,
    watcher: DepositWatcher,
}

impl Settler {
    /// A driver for `l1`'s contracts, committing as `committer`, reading deposits after the
    /// `builder`'s last included one.
    pub fn new(l1: &Connected, committer: &PrivateKeySigner, builder: &Builder) -> Result<Self, NodeL1Error> {
        let reader = bp_l1::provider(&l1.config, None)?;
        Ok(Self {
            committer: Committer::new(
                bp_l1::provider(&l1.config, Some(committer))?,
                l1.deployment.proposer,
                l1.config.clone(),
            ),
            watcher: DepositWatcher::new(
                reader,
                l1.deployment.bridge,
                l1.deployment.block,
                builder.deposits_made(),
                l1.config.confirmations,
            ),
        })
    }

    /// The deposits confirmed since the last poll, in the bridge's order.
    pub async fn poll_deposits(&mut self) -> Result<Vec<bp_l1::Deposit>, L1Error> {
        self.watcher.poll().await
    }

    /// The last L1 block whose deposits have been read.
    pub fn deposits_read_through(&self) -> Option<u64> {
        self.watcher.read_through()
    }

    /// Commits every sealed batch past the proposer's last committed one (L1 batch `n + 1` is
    /// the builder's batch `n`); returns what was sent.
    pub async fn commit_sealed(&self, builder: &Mutex<Builder>) -> Result<Vec<(u64, Sent)>, NodeL1Error> {
        let committed = self.committer.last_committed().await?;
        let pending: Vec<BatchCommit> = {
            let builder = builder.lock().unwrap_or_else(|p| p.into_inner());
            builder.sealed().iter().skip(committed as usize).map(batch_commit).collect::<Result<_, _>>()?
        };
        let mut sent = Vec::new();
        for commit in pending {
            let tx = self.committer.commit(&commit).await?;
            tracing::info!(l1_batch = commit.batch, gas = tx.gas_used, tx = %tx.hash, "batch committed on L1");
            sent.push((commit.batch, tx));
        }
        Ok(sent)
    }
}

/// The commit of a sealed batch: L1 batch `index + 1`.
pub fn batch_commit(sealed: &SealedBatch) -> Result<BatchCommit, NodeL1Error> {
    let out = &sealed.expected;
    let l2 = out.l2.as_ref().ok_or(NodeL1Error::NoCommitments(sealed.index))?;
    Ok(BatchCommit {
        batch: sealed.index as u64 + 1,
        state_root: out.final_state_root,
        last_block_hash: out.last_block_hash,
        tx_count: out.tx_count,
        withdrawals_root: l2.withdrawals_root,
        deposits_hash: l2.deposits_hash,
        deposit_count: sealed.deposits as u64,
        blob: sealed.blob.blob.clone(),
        commitment: sealed.blob.commitment,
        blob_proof: sealed.blob.proof,
    })
}
