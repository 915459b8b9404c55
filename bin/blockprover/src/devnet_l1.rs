//! The devnet's L1 (`blockprover devnet --l1`): the contracts deployed on a local anvil or any
//! JSON-RPC node, every block's deposits made there and read back from the bridge's events for
//! the L2 to include, every sealed batch committed with its blob, and, once the coordinator's
//! proof sender has had the batches verified, every withdrawal claimed and its payment checked.

use crate::output::errln;
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, U256};
use anyhow::{ensure, Context, Result};
use bp_devnet::{block_deposits, Builder, DevAccountKey, SealedBatch, DEV_ACCOUNTS, MAX_DEPOSIT_GAS};
use bp_l1::{DeployParams, Depositor, L1Config, PrivateKeySigner, ProofSender, ANVIL_KEYS};
use bp_node::{Connected, L1Deposits, L1File, L1Keys, L1Target, Settler};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

/// The L1 accounts that deploy, commit and send proofs, and how deep a transaction must be.
#[derive(clap::Args, Debug)]
pub(crate) struct L1KeyArgs {
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
    /// L1 blocks on top of a deposit before the L2 includes it, and on top of a transaction
    /// before it counts (default: 0 on anvil, embedded or at a URL, which mines only when sent
    /// a transaction; 6 on any other node).
    #[arg(long, env = "BLOCKPROVER_L1_CONFIRMATIONS")]
    pub(crate) l1_confirmations: Option<u64>,
}

impl L1KeyArgs {
    /// The keys, anvil's dev keys where none is given.
    pub(crate) fn keys(&self) -> Result<L1Keys> {
        Ok(L1Keys {
            owner: key(&self.l1_owner_key, 0, "owner")?,
            committer: key(&self.l1_committer_key, 1, "committer")?,
            proof_sender: key(&self.proof_sender_key, 2, "proof sender")?,
        })
    }
}

/// Where the devnet settles, and the L1 accounts it uses.
#[derive(clap::Args, Debug)]
pub(crate) struct L1Args {
    /// Settle on an L1: `anvil` starts a local one (BLOCKPROVER_ANVIL, else `anvil` on the
    /// PATH) for this run, anything else is a JSON-RPC URL. The contracts are deployed on first
    /// use and remembered in the data dir's `l1.json`; deposits are made there, every batch is
    /// committed with its blob and verified, and every withdrawal is claimed.
    #[arg(long, env = "BLOCKPROVER_L1")]
    pub(crate) l1: Option<String>,
    #[command(flatten)]
    keys: L1KeyArgs,
    /// The L1 user who deposits and claims (default: anvil's dev key 3).
    #[arg(long, env = "BLOCKPROVER_L1_USER_KEY", hide_env_values = true)]
    l1_user_key: Option<String>,
    /// Where the L2's withdrawals are paid on L1 (default: anvil's dev account 4).
    #[arg(long)]
    withdrawal_receiver: Option<Address>,
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
    L1File { url: args.l1_rpc_url, deployment }.write(&args.output)?;
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
    /// The node (kept so an embedded anvil lives as long as the devnet) and the contracts.
    l1: Connected,
    settler: Settler,
    user: Depositor,
    user_provider: bp_l1::DynProvider,
    /// Deposits read and not yet in a block.
    feed: L1Deposits,
    /// The L1 block of our newest deposit not yet read back from the bridge.
    awaited: Option<u64>,
    /// The last block whose planned deposits the L1 user made.
    planned_through: u64,
    proof_sender: PrivateKeySigner,
    receiver: Address,
    keys: Vec<DevAccountKey>,
    report: L1Report,
}

impl std::fmt::Debug for DevnetL1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevnetL1").field("url", &self.l1.config.url).field("deployment", &self.l1.deployment).finish()
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
        let keys = args.keys.keys()?;
        let user = key(&args.l1_user_key, 3, "L1 user")?;
        let receiver = match args.withdrawal_receiver {
            Some(address) => address,
            None => key(&None, 4, "receiver")?.address(),
        };
        let l1 = Connected::open(&L1Target::parse(spec), &keys, args.keys.l1_confirmations, builder, data_dir).await?;
        if let Some(anvil) = &l1.anvil {
            errln!("devnet: L1 anvil on {} (pid {})", anvil.url, anvil.pid());
        }
        errln!("devnet: deposits and transactions count with {} L1 blocks on top", l1.config.confirmations);
        let deployment = l1.deployment;
        errln!(
            "devnet: L1 bridge {}, proposer {} (from L1 block {})",
            deployment.bridge,
            deployment.proposer,
            deployment.block
        );
        errln!("devnet: L1 proposer in {}", l1.requirements);
        let user_provider = bp_l1::provider(&l1.config, Some(&user))?;
        Ok(Self {
            settler: Settler::new(&l1, &keys.committer, builder)?,
            user: Depositor::new(user_provider.clone(), deployment.bridge, l1.config.clone()),
            user_provider,
            feed: L1Deposits::new(builder.chain().chain_id),
            awaited: None,
            planned_through: builder.head().number,
            proof_sender: keys.proof_sender,
            receiver,
            keys: (0..DEV_ACCOUNTS).map(DevAccountKey::new).collect(),
            report: L1Report {
                bridge: deployment.bridge,
                proposer: deployment.proposer,
                mode: l1.requirements.to_string(),
                ..Default::default()
            },
            l1,
        })
    }

    /// What the coordinator's proof sender needs.
    pub(crate) fn settlement(&self) -> bp_coordinator::SettlementConfig {
        bp_coordinator::SettlementConfig {
            l1: self.l1.config.clone(),
            proposer: self.l1.deployment.proposer,
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
        for number in first.max(self.planned_through + 1)..first + blocks {
            for (to, value, gas_limit, data) in block_deposits(number, &self.keys) {
                let sent = self.user.deposit(to, value, gas_limit, data).await.context("depositing on L1")?;
                self.report.deposit_gas.push(sent.gas_used);
                self.awaited = Some(sent.block);
            }
            self.planned_through = number;
        }
        let started = Instant::now();
        loop {
            self.feed.extend(self.settler.poll_deposits().await.context("reading the bridge's deposits")?);
            let read = self.settler.deposits_read_through();
            if self.awaited.is_none_or(|block| read.is_some_and(|read| read >= block)) {
                self.awaited = None;
                return Ok(());
            }
            ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the L1 node did not show our deposits with {} confirmations in 300 s",
                self.l1.config.confirmations
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Commits every sealed batch past the proposer's last committed one.
    async fn commit_sealed(&mut self, builder: &Arc<Mutex<Builder>>) -> Result<()> {
        for (batch, sent) in self.settler.commit_sealed(builder).await.context("committing on L1")? {
            self.report.commit_gas.push((batch, sent.gas_used));
        }
        Ok(())
    }

    /// Waits until the proposer has verified `target` batches.
    pub(crate) async fn wait_verified(&mut self, target: u64) -> Result<()> {
        let sender = ProofSender::new(self.user_provider.clone(), self.l1.deployment.proposer, self.l1.config.clone());
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
        let bridge = bp_l1::CommonBridge::new(self.l1.deployment.bridge, self.user_provider.clone());
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
