//! The devnet's L1 (`blockprover devnet --l1`): the contracts deployed on a local anvil or any
//! JSON-RPC node, every block's deposits made there and read back from the bridge's events for
//! the L2 to include, every sealed batch committed with its blob, and, once the coordinator's
//! proof sender has had the batches verified, every withdrawal claimed and its payment checked.

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use anyhow::{bail, ensure, Context, Result};
use bp_devnet::{
    block_deposits, Builder, DepositFeed, DevAccountKey, SealedBatch, DEPOSIT_GAS_PER_BLOCK, DEV_ACCOUNTS,
    MAX_DEPOSIT_GAS,
};
use bp_input::PrivilegedTx;
use bp_l1::{
    BatchCommit, Committer, DeployParams, Deployment, DepositWatcher, Depositor, L1Config, LocalAnvil,
    PrivateKeySigner, ProofSender, ANVIL_KEYS,
};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

/// Where the devnet settles, and the L1 accounts it uses.
#[derive(clap::Args, Debug)]
pub(crate) struct L1Args {
    /// Settle on an L1: `anvil` starts a local one (BLOCKPROVER_ANVIL, else `anvil` on the
    /// PATH) for this run, anything else is a JSON-RPC URL. The contracts are deployed on first
    /// use and remembered in the data dir's `l1.json`; deposits are made there, every batch is
    /// committed with its blob and verified, and every withdrawal is claimed.
    #[arg(long, env = "BLOCKPROVER_L1")]
    pub(crate) l1: Option<String>,
    /// Owner and deployer of the contracts (default: anvil's dev key 0).
    #[arg(long, env = "BLOCKPROVER_L1_OWNER_KEY", hide_env_values = true)]
    l1_owner_key: Option<String>,
    /// The committer, which posts batches (default: anvil's dev key 1).
    #[arg(long, env = "BLOCKPROVER_L1_COMMITTER_KEY", hide_env_values = true)]
    l1_committer_key: Option<String>,
    /// The coordinator's proof sender, which must differ from the committer (default: anvil's
    /// dev key 2).
    #[arg(long, env = "PROVER_SERVER_VERIFIER_PRIVATE_KEY", hide_env_values = true)]
    proof_sender_key: Option<String>,
    /// The L1 user who deposits and claims (default: anvil's dev key 3).
    #[arg(long, env = "BLOCKPROVER_L1_USER_KEY", hide_env_values = true)]
    l1_user_key: Option<String>,
    /// Where the L2's withdrawals are paid on L1 (default: anvil's dev account 4).
    #[arg(long)]
    withdrawal_receiver: Option<Address>,
    /// L1 blocks on top of a deposit before the L2 includes it, and on top of a transaction
    /// before it counts (default: 0 on anvil, embedded or at a URL, which mines only when sent
    /// a transaction; 6 on any other node).
    #[arg(long, env = "BLOCKPROVER_L1_CONFIRMATIONS")]
    l1_confirmations: Option<u64>,
}

/// `blockprover deploy`.
#[derive(clap::Args, Debug)]
pub(crate) struct DeployArgs {
    /// JSON-RPC URL of the L1.
    #[arg(long, env = "BLOCKPROVER_L1_RPC_URL")]
    l1_rpc_url: String,
    /// The owner's private key: it deploys, and alone may change the required verifiers.
    #[arg(long, env = "BLOCKPROVER_L1_OWNER_KEY", hide_env_values = true)]
    owner_key: String,
    /// The committer's address (the account that posts batches).
    #[arg(long, env = "BLOCKPROVER_L1_COMMITTER_ADDRESS")]
    committer: Address,
    /// The proof sender's address (the coordinator's account; not the committer).
    #[arg(long, env = "PROVER_SERVER_VERIFIER_ADDRESS")]
    proof_sender: Address,
    /// A RISC Zero verifier contract (`IRiscZeroVerifier`): RISC Zero proofs are required, for
    /// good (the owner may only replace the verifier after --upgrade-delay-secs).
    #[arg(long, requires = "risc0_image_id")]
    risc0_verifier: Option<Address>,
    /// The guest's image id the RISC Zero verifier checks against.
    #[arg(long, requires = "risc0_verifier")]
    risc0_image_id: Option<B256>,
    /// An SP1 verifier contract (`ISP1Verifier`): SP1 proofs are required.
    #[arg(long, requires = "sp1_vkey")]
    sp1_verifier: Option<Address>,
    /// The guest's verifying key hash the SP1 verifier checks against.
    #[arg(long, requires = "sp1_verifier")]
    sp1_vkey: Option<B256>,
    /// Deploy without any zk verifier: L1 checks the committed values only, so whoever holds
    /// the committer's and the proof sender's keys can settle any state. Development only;
    /// without a verifier, `deploy` refuses unless this is given.
    #[arg(long, conflicts_with_all = ["risc0_verifier", "sp1_verifier"])]
    dev_mode: bool,
    /// Seconds the oldest unverified batch must wait before the owner may revert batches.
    #[arg(long, default_value_t = bp_l1::DEFAULT_REVERT_DELAY)]
    revert_delay_secs: u64,
    /// Seconds between the owner proposing a new verifier and its taking effect.
    #[arg(long, default_value_t = bp_l1::DEFAULT_UPGRADE_DELAY)]
    upgrade_delay_secs: u64,
    /// L1 blocks on top of each deployment transaction before it counts.
    #[arg(long, default_value_t = 0)]
    l1_confirmations: u64,
    /// Where to write the addresses.
    #[arg(long, short, default_value = "l1.json")]
    output: PathBuf,
}

/// Deploys the devnet L2's contracts and writes where they are.
pub(crate) fn deploy(args: DeployArgs) -> Result<()> {
    ensure!(args.committer != args.proof_sender, "--committer and --proof-sender must be different accounts");
    ensure!(
        args.dev_mode || args.risc0_verifier.is_some() || args.sp1_verifier.is_some(),
        "no verifier given, so L1 would not check proofs: give --risc0-verifier with --risc0-image-id and/or \
         --sp1-verifier with --sp1-vkey; a development chain without proofs must ask for --dev-mode"
    );
    let owner = bp_l1::signer(&args.owner_key).context("--owner-key")?;
    let config = L1Config { confirmations: args.l1_confirmations, ..L1Config::new(args.l1_rpc_url.clone()) };
    let chain = bp_devnet::chain_config();
    let genesis = bp_devnet::genesis_block();
    let params = DeployParams {
        l2_chain_id: chain.chain_id,
        chain_config_hash: chain.hash(),
        genesis_state_root: genesis.state_root,
        genesis_block_hash: genesis.hash_slow(),
        committer: args.committer,
        proof_sender: args.proof_sender,
        l2_bridge: bp_input::L2_BRIDGE_ADDRESS,
        max_deposit_gas: MAX_DEPOSIT_GAS,
        risc0: args.risc0_verifier.zip(args.risc0_image_id),
        sp1: args.sp1_verifier.zip(args.sp1_vkey),
        dev_mode: args.dev_mode,
        revert_delay: args.revert_delay_secs,
        upgrade_delay: args.upgrade_delay_secs,
    };
    params.check()?;
    let deployment = crate::service::runtime()?.block_on(async {
        let provider = bp_l1::provider(&config, Some(&owner))?;
        bp_l1::deploy(&provider, &config, &params).await.with_context(|| format!("deploying on {}", config.url))
    })?;
    write_remembered(&args.output, &Remembered { url: args.l1_rpc_url, deployment })?;
    let mode = if params.dev_mode { "dev mode: no zk proof is checked" } else { "proofs required" };
    crate::output::outln!(
        "bridge {} proposer {} ({mode}; L1 block {}) written to {}",
        deployment.bridge,
        deployment.proposer,
        deployment.block,
        args.output.display()
    );
    Ok(())
}

/// `blockprover owner`.
#[derive(clap::Args, Debug)]
pub(crate) struct OwnerArgs {
    /// JSON-RPC URL of the L1.
    #[arg(long, env = "BLOCKPROVER_L1_RPC_URL")]
    l1_rpc_url: String,
    /// The owner's private key (the account that deployed the contracts).
    #[arg(long, env = "BLOCKPROVER_L1_OWNER_KEY", hide_env_values = true)]
    owner_key: String,
    /// The OnChainProposer (`l1.json` names it).
    #[arg(long, env = "BLOCKPROVER_L1_PROPOSER")]
    proposer: Address,
    /// L1 blocks on top of the transaction before it counts.
    #[arg(long, default_value_t = 0)]
    l1_confirmations: u64,
    #[command(subcommand)]
    action: OwnerAction,
}

/// What the owner does.
#[derive(clap::Subcommand, Debug)]
enum OwnerAction {
    /// Revert every committed batch after --keep (newest first; their deposits are pending
    /// again). Allowed once the oldest unverified batch has gone unverified for the revert
    /// delay; a verified batch is never reverted.
    RevertBatches {
        /// The last L1 batch to keep (the last verified one, or a later unverified one).
        #[arg(long)]
        keep: u64,
    },
    /// Hand the committer's role to another account (not the proof sender).
    SetCommitter {
        /// The new committer.
        account: Address,
    },
    /// Hand the proof sender's role to another account (not the committer).
    SetProofSender {
        /// The new proof sender.
        account: Address,
    },
    /// Propose a new verifier and program id for a required proof system; it takes effect
    /// with `apply-upgrade` once the upgrade delay has passed.
    ProposeUpgrade {
        /// risc0 or sp1.
        #[arg(long)]
        system: System,
        /// The new verifier contract.
        #[arg(long)]
        verifier: Address,
        /// The new image id (RISC Zero) or vkey (SP1).
        #[arg(long)]
        program_id: B256,
    },
    /// Apply a proposed upgrade whose delay has passed.
    ApplyUpgrade {
        /// risc0 or sp1.
        #[arg(long)]
        system: System,
    },
}

/// A proof system, as the flags name it.
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
enum System {
    Risc0,
    Sp1,
}

impl From<System> for bp_l1::ProofSystem {
    fn from(system: System) -> Self {
        match system {
            System::Risc0 => bp_l1::ProofSystem::Risc0,
            System::Sp1 => bp_l1::ProofSystem::Sp1,
        }
    }
}

/// Sends one owner transaction and prints it.
pub(crate) fn owner(args: OwnerArgs) -> Result<()> {
    let key = bp_l1::signer(&args.owner_key).context("--owner-key")?;
    let config = L1Config { confirmations: args.l1_confirmations, ..L1Config::new(args.l1_rpc_url.clone()) };
    let sent = crate::service::runtime()?.block_on(async {
        let owner = bp_l1::Owner::new(bp_l1::provider(&config, Some(&key))?, args.proposer, config.clone());
        let sent = match args.action {
            OwnerAction::RevertBatches { keep } => owner.revert_batches(keep).await,
            OwnerAction::SetCommitter { account } => owner.set_committer(account).await,
            OwnerAction::SetProofSender { account } => owner.set_proof_sender(account).await,
            OwnerAction::ProposeUpgrade { system, verifier, program_id } => {
                owner.propose_upgrade(system.into(), verifier, program_id).await
            }
            OwnerAction::ApplyUpgrade { system } => owner.apply_upgrade(system.into()).await,
        };
        sent.with_context(|| format!("the proposer {} on {}", args.proposer, config.url))
    })?;
    crate::output::outln!("transaction {} in L1 block {} ({} gas)", sent.hash, sent.block, sent.gas_used);
    Ok(())
}

/// The L1 side of one devnet data dir, as `l1.json` keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct Remembered {
    /// The node the contracts are on.
    url: String,
    /// The contracts.
    deployment: Deployment,
}

/// What the L1 side cost and paid, for the summary.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct L1Report {
    /// The contracts.
    pub(crate) bridge: Address,
    /// The OnChainProposer.
    pub(crate) proposer: Address,
    /// The proofs it requires, as it says (dev mode for the devnet's exec proofs).
    pub(crate) mode: String,
    /// Gas of each deposit transaction.
    pub(crate) deposit_gas: Vec<u64>,
    /// Gas of each commit (L1 batch number, gas).
    pub(crate) commit_gas: Vec<(u64, u64)>,
    /// Gas of each claim.
    pub(crate) claim_gas: Vec<u64>,
    /// Batches verified on L1.
    pub(crate) verified: u64,
    /// Withdrawals claimed.
    pub(crate) claimed: usize,
    /// Wei the receiver was paid, by its balance.
    pub(crate) paid: U256,
}

/// The devnet's L1: a node, the deployed contracts and the accounts acting on them.
pub(crate) struct DevnetL1 {
    /// Kept so the local node lives as long as the devnet.
    _anvil: Option<LocalAnvil>,
    config: L1Config,
    deployment: Deployment,
    committer: Committer,
    user: Depositor,
    user_provider: bp_l1::DynProvider,
    watcher: DepositWatcher,
    /// Deposits read and not yet in a block.
    feed: L1Deposits,
    /// The last block whose planned deposits the L1 user made.
    planned_through: u64,
    proof_sender: PrivateKeySigner,
    receiver: Address,
    keys: Vec<DevAccountKey>,
    report: L1Report,
}

impl std::fmt::Debug for DevnetL1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevnetL1").field("url", &self.config.url).field("deployment", &self.deployment).finish()
    }
}

/// One of the devnet's L1 keys: the flag's, else anvil's dev key `index`.
fn key(given: &Option<String>, index: usize, what: &str) -> Result<PrivateKeySigner> {
    let hex = given.as_deref().unwrap_or(ANVIL_KEYS[index]);
    bp_l1::signer(hex).with_context(|| format!("the {what} key"))
}

impl DevnetL1 {
    /// Connects to (or starts) the L1, and deploys the contracts for `builder`'s chain unless
    /// `data_dir` remembers them on the same node.
    pub(crate) async fn start(args: &L1Args, builder: &Builder, data_dir: &Path) -> Result<Self> {
        let spec = args.l1.as_deref().context("no --l1")?;
        let owner = key(&args.l1_owner_key, 0, "owner")?;
        let committer = key(&args.l1_committer_key, 1, "committer")?;
        let proof_sender = key(&args.proof_sender_key, 2, "proof sender")?;
        let user = key(&args.l1_user_key, 3, "L1 user")?;
        let receiver = match args.withdrawal_receiver {
            Some(address) => address,
            None => key(&None, 4, "receiver")?.address(),
        };
        ensure!(committer.address() != proof_sender.address(), "the committer and the proof sender must differ");

        let remembered_path = data_dir.join("l1.json");
        let remembered = read_remembered(&remembered_path)?;
        let (anvil, url) = if spec == "anvil" {
            if remembered.is_some() || !builder.sealed().is_empty() {
                bail!(
                    "{} holds a chain settled on an earlier L1; an embedded anvil lives for one run only: \
                     use a new --data-dir, or --l1 URL of a node that keeps its state",
                    data_dir.display()
                );
            }
            let anvil = LocalAnvil::start("prague", None)?;
            let url = anvil.url.clone();
            eprintln!("devnet: L1 anvil on {url} (pid {})", anvil.pid());
            (Some(anvil), url)
        } else {
            (None, spec.to_string())
        };
        let confirmations = match args.l1_confirmations {
            Some(confirmations) => confirmations,
            None if anvil.is_some() => 0,
            None if bp_l1::is_dev_node(&bp_l1::provider(&L1Config::new(url.clone()), None)?).await? => 0,
            None => bp_l1::DEFAULT_L1_CONFIRMATIONS,
        };
        eprintln!("devnet: deposits and transactions count with {confirmations} L1 blocks on top");
        let config = L1Config { confirmations, ..L1Config::new(url.clone()) };

        let deployment = match remembered {
            Some(r) if r.url == url => r.deployment,
            Some(r) => bail!("{} names contracts on {}, not {url}", remembered_path.display(), r.url),
            None => {
                if !builder.sealed().is_empty() {
                    bail!(
                        "{} holds batches built without an L1 (their deposits were made up): use a new --data-dir",
                        data_dir.display()
                    );
                }
                let genesis = builder.head();
                let params = DeployParams {
                    l2_chain_id: builder.chain().chain_id,
                    chain_config_hash: builder.chain().hash(),
                    genesis_state_root: genesis.state_root,
                    genesis_block_hash: genesis.hash_slow(),
                    committer: committer.address(),
                    proof_sender: proof_sender.address(),
                    l2_bridge: bp_input::L2_BRIDGE_ADDRESS,
                    max_deposit_gas: MAX_DEPOSIT_GAS,
                    // The devnet's provers make exec proofs, which no L1 verifier checks.
                    risc0: None,
                    sp1: None,
                    dev_mode: true,
                    revert_delay: bp_l1::DEFAULT_REVERT_DELAY,
                    upgrade_delay: bp_l1::DEFAULT_UPGRADE_DELAY,
                };
                let deployment = bp_l1::deploy(&bp_l1::provider(&config, Some(&owner))?, &config, &params)
                    .await
                    .with_context(|| format!("deploying the contracts on {url}"))?;
                write_remembered(&remembered_path, &Remembered { url: url.clone(), deployment })?;
                deployment
            }
        };
        eprintln!(
            "devnet: L1 bridge {}, proposer {} (from L1 block {})",
            deployment.bridge, deployment.proposer, deployment.block
        );
        let user_provider = bp_l1::provider(&config, Some(&user))?;
        let mode = bp_l1::ProofRequirements::read(&user_provider, deployment.proposer).await?;
        eprintln!("devnet: L1 proposer in {mode}");
        let l1 = Self {
            _anvil: anvil,
            committer: Committer::new(bp_l1::provider(&config, Some(&committer))?, deployment.proposer, config.clone()),
            user: Depositor::new(user_provider.clone(), deployment.bridge, config.clone()),
            watcher: DepositWatcher::new(
                user_provider.clone(),
                deployment.bridge,
                deployment.block,
                builder.deposits_made(),
                config.confirmations,
            ),
            user_provider,
            feed: L1Deposits { queue: VecDeque::new(), chain_id: builder.chain().chain_id },
            planned_through: builder.head().number,
            proof_sender,
            receiver,
            keys: (0..DEV_ACCOUNTS).map(DevAccountKey::new).collect(),
            report: L1Report {
                bridge: deployment.bridge,
                proposer: deployment.proposer,
                mode: mode.to_string(),
                ..Default::default()
            },
            config,
            deployment,
        };
        Ok(l1)
    }

    /// What the coordinator's proof sender needs.
    pub(crate) fn settlement(&self) -> bp_coordinator::SettlementConfig {
        bp_coordinator::SettlementConfig {
            l1: self.config.clone(),
            proposer: self.deployment.proposer,
            key: self.proof_sender.clone(),
            poll: Duration::from_millis(200),
        }
    }

    /// Builds batches of `blocks` blocks until `target` exist, each with the deposits made for
    /// its blocks on L1, and commits every sealed batch the proposer does not have yet.
    pub(crate) async fn build_and_commit(
        &mut self,
        builder: &Arc<Mutex<Builder>>,
        target: usize,
        blocks: u64,
        stop: &CancellationToken,
    ) -> Result<()> {
        loop {
            self.commit_sealed(builder).await?;
            let (built, next_block) = {
                let builder = builder.lock().unwrap_or_else(|p| p.into_inner());
                (builder.sealed().len(), builder.head().number + 1)
            };
            if built >= target || stop.is_cancelled() {
                return Ok(());
            }
            self.deposit(next_block, blocks).await?;
            let mut feed = std::mem::take(&mut self.feed);
            let receiver = self.receiver;
            let builder = builder.clone();
            self.feed = tokio::task::spawn_blocking(move || {
                let mut builder = builder.lock().unwrap_or_else(|p| p.into_inner());
                builder.build_batch_with(blocks, &mut feed, receiver).map(|_| feed)
            })
            .await
            .context("the builder stopped")??;
        }
    }

    /// Makes, as the devnet's L1 user, the deposits planned for blocks `first..first + blocks`
    /// not made yet, and reads the bridge's deposits (everyone's, in its order) until ours are
    /// among them.
    async fn deposit(&mut self, first: u64, blocks: u64) -> Result<()> {
        let mut last_block = None;
        for number in first.max(self.planned_through + 1)..first + blocks {
            for (to, value, gas_limit, data) in block_deposits(number, &self.keys) {
                let sent = self.user.deposit(to, value, gas_limit, data).await.context("depositing on L1")?;
                self.report.deposit_gas.push(sent.gas_used);
                last_block = Some(sent.block);
            }
            self.planned_through = number;
        }
        let started = Instant::now();
        loop {
            self.feed.queue.extend(self.watcher.poll().await.context("reading the bridge's deposits")?);
            if last_block.is_none_or(|block| self.watcher.read_through().is_some_and(|read| read >= block)) {
                return Ok(());
            }
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the L1 node did not show our deposits with {} confirmations in 300 s",
                self.config.confirmations
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Commits every sealed batch past the proposer's last committed one (L1 batch `n + 1` is
    /// the builder's batch `n`).
    async fn commit_sealed(&mut self, builder: &Arc<Mutex<Builder>>) -> Result<()> {
        let committed = self.committer.last_committed().await?;
        let pending: Vec<BatchCommit> = {
            let builder = builder.lock().unwrap_or_else(|p| p.into_inner());
            builder.sealed().iter().skip(committed as usize).map(batch_commit).collect::<Result<_>>()?
        };
        for commit in pending {
            let sent = self
                .committer
                .commit(&commit)
                .await
                .with_context(|| format!("committing L1 batch {}", commit.batch))?;
            self.report.commit_gas.push((commit.batch, sent.gas_used));
            tracing::info!(l1_batch = commit.batch, gas = sent.gas_used, "batch committed on L1");
        }
        Ok(())
    }

    /// Waits until the proposer has verified `target` batches.
    pub(crate) async fn wait_verified(&mut self, target: u64) -> Result<()> {
        let sender = ProofSender::new(self.user_provider.clone(), self.deployment.proposer, self.config.clone());
        let started = Instant::now();
        loop {
            let verified = sender.last_verified().await?;
            self.report.verified = verified;
            if verified >= target {
                return Ok(());
            }
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "L1 verified {verified} of {target} batches in 300 s; see the coordinator's proof sender log"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Claims every withdrawal of `sealed` for its receiver and checks the receiver was paid
    /// what was withdrawn (a claim already made on an earlier run is not made again).
    pub(crate) async fn claim_all(&mut self, sealed: &[SealedBatch]) -> Result<()> {
        let bridge = bp_l1::CommonBridge::new(self.deployment.bridge, self.user_provider.clone());
        let receivers: std::collections::BTreeSet<Address> =
            sealed.iter().flat_map(|s| s.withdrawal_claims.iter().map(|w| w.receiver)).collect();
        let mut before = Vec::new();
        for receiver in &receivers {
            before.push(bp_l1::balance(&self.user_provider, *receiver).await?);
        }
        let mut owed = U256::ZERO;
        for (index, batch) in sealed.iter().enumerate() {
            let l1_batch = index as u64 + 1;
            for w in &batch.withdrawal_claims {
                let claimed = bridge
                    .claimed(w.message.message_id)
                    .call()
                    .await
                    .map_err(|e| anyhow::anyhow!("reading the bridge's claims: {e}"))?;
                if claimed {
                    continue;
                }
                let proof = bp_program::l2::merkle_proof(&batch.withdrawal_leaves, w.index)
                    .context("a withdrawal outside its batch's tree")?;
                let message_id = u64::try_from(w.message.message_id).context("message id over 2^64")?;
                let sent = self
                    .user
                    .claim(l1_batch, message_id, w.receiver, w.amount, proof)
                    .await
                    .with_context(|| format!("claiming withdrawal {message_id} of L1 batch {l1_batch}"))?;
                self.report.claim_gas.push(sent.gas_used);
                self.report.claimed += 1;
                owed += w.amount;
            }
        }
        let mut paid = U256::ZERO;
        for (receiver, before) in receivers.iter().zip(before) {
            paid += bp_l1::balance(&self.user_provider, *receiver).await?.saturating_sub(before);
        }
        ensure!(paid == owed, "the receivers were paid {paid} wei for withdrawals of {owed}");
        self.report.paid = paid;
        Ok(())
    }

    /// What the L1 side cost and paid.
    pub(crate) fn report(&self) -> &L1Report {
        &self.report
    }
}

/// The commit of a sealed batch.
fn batch_commit(sealed: &SealedBatch) -> Result<BatchCommit> {
    let out = &sealed.expected;
    let l2 = out.l2.as_ref().context("a devnet batch without L2 commitments")?;
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

/// Deposits read from the bridge and not yet in a block, in the bridge's order. Every block
/// takes the oldest pending ones, up to [`DEPOSIT_GAS_PER_BLOCK`] of their gas limits (and at
/// least one), whoever made them.
#[derive(Debug, Default)]
struct L1Deposits {
    queue: VecDeque<bp_l1::Deposit>,
    chain_id: u64,
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

fn read_remembered(path: &Path) -> Result<Option<Remembered>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("reading {}", path.display()))?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_remembered(path: &Path, remembered: &Remembered) -> Result<()> {
    let text = serde_json::to_vec_pretty(remembered)?;
    let temp = path.with_extension("json.tmp");
    std::fs::write(&temp, text).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, path).with_context(|| format!("writing {}", path.display()))
}
