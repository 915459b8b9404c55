//! `blockprover node` and `blockprover claim`: the L2 as a chain people use, and a user's
//! withdrawal claimed on L1.

use crate::output::{errln, outln};
use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy_primitives::B256;
use anyhow::{bail, Context, Result};
use bp_backend::ProofType;
use bp_coordinator::{ConnectionLimits, CoordinatorConfig};
use bp_devnet::{Builder, DevnetSource};
use bp_node::{claim::ClaimError, Chain, Connected, L1Target, Sequencer, Settlement, Settler};
use bp_protocol::FrameLimits;
use bp_prover::{Prover, ProverConfig};
use tokio_util::sync::CancellationToken;

use crate::{
    devnet_l1::L1KeyArgs,
    service::{runtime, shutdown_signal, AuthArgs},
};

/// `blockprover node`.
#[derive(clap::Args, Debug)]
pub(crate) struct NodeArgs {
    /// The L1 it settles on: `anvil` starts a local one for this run (BLOCKPROVER_ANVIL, else
    /// `anvil` on the PATH), anything else is a JSON-RPC URL. The contracts are deployed on
    /// first use (in dev mode: the node's provers make exec proofs) and remembered in the data
    /// dir's `l1.json`. Without it the chain has no deposits and settles nowhere.
    #[arg(long, env = "BLOCKPROVER_L1")]
    l1: Option<String>,
    #[command(flatten)]
    keys: L1KeyArgs,
    /// Milliseconds between blocks (at least 1000: a block's timestamp is in seconds and
    /// grows by at least one).
    #[arg(long, default_value_t = 1000)]
    block_time: u64,
    /// Blocks per batch: every this many blocks a batch is sealed, committed on L1 and handed
    /// to the provers.
    #[arg(long, default_value_t = 10)]
    blocks_per_batch: u64,
    /// Prover clients to run in this process (0: batches wait for provers that connect).
    #[arg(long, default_value_t = 0)]
    provers: usize,
    /// Proof type the batches need and the in-process provers make (`exec`: native
    /// execution, no zero-knowledge proof; risc0 and sp1 need builds with those features).
    #[arg(long, env = "BLOCKPROVER_BACKEND", default_value = "exec")]
    backend: ProofType,
    /// Address the L2 JSON-RPC listens on.
    #[arg(long, default_value = "127.0.0.1")]
    http_ip: IpAddr,
    /// Port of the L2 JSON-RPC (wallets, `cast`); `GET /metrics` is served there too.
    #[arg(long, default_value_t = 8545)]
    http_port: u16,
    /// Address provers connect to.
    #[arg(long, env = "PROVER_SERVER_LISTEN_IP", default_value = "127.0.0.1")]
    listen_ip: IpAddr,
    /// Port provers connect to.
    #[arg(long, env = "PROVER_SERVER_LISTEN_PORT", default_value_t = 3900)]
    listen_port: u16,
    /// Where the coordinator's `/health` and `/metrics` are served; `off` to serve nothing.
    #[arg(long, env = "BLOCKPROVER_METRICS_ADDR", default_value = "127.0.0.1:3901")]
    metrics_addr: String,
    /// Seconds a prover may stay silent before its batch goes to another: a prover at work sends a
    /// heartbeat every quarter of this, so a proof may take as long as it needs.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    assignment_timeout_secs: u64,
    /// Where the chain (`l2.sqlite`), the coordinator's database and `l1.json` live.
    #[arg(long, env = "BLOCKPROVER_DATA_DIR", default_value = "blockprover-node")]
    data_dir: PathBuf,
    #[command(flatten)]
    auth: AuthArgs,
}

/// Runs the node until Ctrl-C or SIGTERM.
pub(crate) fn run(args: NodeArgs) -> Result<()> {
    if args.block_time < 1000 {
        bail!("--block-time {} ms: at least 1000 (timestamps are in seconds and grow every block)", args.block_time);
    }
    if args.blocks_per_batch == 0 {
        bail!("--blocks-per-batch must be at least 1");
    }
    let key = args.auth.key(None)?;
    let metrics_listen = match args.metrics_addr.as_str() {
        "off" | "" => None,
        addr => Some(addr.parse::<SocketAddr>().with_context(|| format!("--metrics-addr {addr}"))?),
    };
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let backend: Arc<dyn bp_backend::Backend> = bp_backend::backend(args.backend)?.into();
    crate::service::warn_if_provers_exceed_memory("node", args.provers, args.backend);
    let builder = Builder::open(&args.data_dir.join("l2.sqlite")).context("opening the L2 chain")?;
    errln!(
        "node: chain {} in {}, at block {} with {} batch(es) sealed",
        builder.chain().chain_id,
        args.data_dir.display(),
        builder.head().number,
        builder.sealed().len()
    );
    let runtime = runtime()?;
    let keys = args.keys.keys()?;
    let l1 = match &args.l1 {
        Some(spec) => {
            let target = L1Target::parse(spec);
            let l1 = runtime
                .block_on(Connected::open(&target, &keys, args.keys.l1_confirmations, &builder, &args.data_dir))
                .with_context(|| format!("settling on {spec}"))?;
            if let Some(anvil) = &l1.anvil {
                errln!("node: L1 anvil on {} (pid {}), for this run only", anvil.url, anvil.pid());
            }
            let verb = if l1.deployed { "deployed" } else { "reused from l1.json" };
            errln!(
                "node: L1 bridge {}, proposer {} ({verb}; {}); deposits count with {} L1 block(s) on top",
                l1.deployment.bridge,
                l1.deployment.proposer,
                l1.requirements,
                l1.config.confirmations
            );
            let settler = Settler::new(&l1, &keys.committer, &builder)?;
            Some((l1, settler))
        }
        None => None,
    };
    let builder = Arc::new(Mutex::new(builder));
    let settlement =
        l1.as_ref().map(|(l1, _)| Settlement { bridge: l1.deployment.bridge, proposer: l1.deployment.proposer });
    let chain = Arc::new(Chain::new(builder.clone(), settlement));
    let sequencer = Arc::new(Sequencer::new(chain.clone(), args.blocks_per_batch));
    let limits = FrameLimits::default();
    let config = CoordinatorConfig {
        listen: SocketAddr::new(args.listen_ip, args.listen_port),
        metrics_listen,
        db: args.data_dir.join("coordinator.sqlite"),
        key: key.clone(),
        limits,
        required: vec![args.backend],
        assignment_timeout: Duration::from_secs(args.assignment_timeout_secs),
        connections: ConnectionLimits::default(),
        source_poll: Duration::from_millis(200),
        settlement: l1.as_ref().map(|(l1, _)| bp_coordinator::SettlementConfig {
            l1: l1.config.clone(),
            proposer: l1.deployment.proposer,
            key: keys.proof_sender.clone(),
            poll: Duration::from_secs(1),
        }),
    };
    let (l1, settler) = match l1 {
        Some((l1, settler)) => (Some(l1), Some(settler)),
        None => (None, None),
    };
    let resume = match &l1 {
        Some(l1) if l1.anvil.is_some() => {
            "the embedded anvil stops with the node and its L1 state is gone: this data dir cannot resume"
        }
        _ => "the chain, the queue and acknowledged proofs are kept: run the same command to resume",
    };
    let result = runtime.block_on(async {
        let stop = CancellationToken::new();
        let source = DevnetSource::hand_over(builder.clone());
        let running = bp_coordinator::start(config, vec![Box::new(source)]).await?;
        let http = SocketAddr::new(args.http_ip, args.http_port);
        let (http, server) = bp_node::rpc::spawn(http, chain.clone(), stop.clone())
            .await
            .with_context(|| format!("listening on {http} (--http-port)"))?;
        outln!("node: L2 JSON-RPC on http://{http} (metrics on http://{http}/metrics)");
        outln!("node: provers connect to {}", running.addr);
        if let Some(addr) = running.metrics_addr {
            outln!("node: coordinator health and metrics on http://{addr}/health and /metrics");
        }
        let mut provers = tokio::task::JoinSet::new();
        for i in 0..args.provers {
            let config = ProverConfig {
                endpoints: vec![running.addr.to_string()],
                poll_interval: Duration::from_millis(500),
                name: format!("node-prover-{i}"),
                data_dir: args.data_dir.join("provers").join(i.to_string()),
                key: key.clone(),
                limits,
                reply_timeout: Duration::from_secs(600),
                submit_attempts: 8,
                submit_backoff: Duration::from_millis(500),
                max_batches: None,
                max_refusals: 3,
                idle_report: Duration::from_secs(300),
            };
            provers.spawn(Prover::new(config, backend.clone())?.run(stop.clone()));
        }
        let block_time = Duration::from_millis(args.block_time);
        let mut blocks = tokio::spawn(bp_node::sequence(sequencer, settler, block_time, stop.clone()));
        let outcome = tokio::select! {
            _ = shutdown_signal() => {
                errln!("node: stopping; {resume}");
                Ok(())
            }
            ended = &mut blocks => match ended {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(anyhow::Error::new(e).context("the block loop stopped")),
                Err(e) => Err(anyhow::anyhow!("the block loop stopped: {e}")),
            },
        };
        stop.cancel();
        if !blocks.is_finished() {
            let _ = blocks.await;
        }
        while provers.join_next().await.is_some() {}
        let _ = server.await;
        running.shutdown().await;
        outcome
    });
    crate::service::leave(runtime);
    let head = builder.lock().unwrap_or_else(|p| p.into_inner()).head().number;
    errln!(
        "node: stopped at block {head}; {} transaction(s) and {} deposit(s) included this run",
        chain.status.transactions.load(std::sync::atomic::Ordering::Relaxed),
        chain.status.deposits.load(std::sync::atomic::Ordering::Relaxed)
    );
    drop(l1);
    result
}

/// `blockprover claim`.
#[derive(clap::Args, Debug)]
pub(crate) struct ClaimArgs {
    /// The L2 node's JSON-RPC URL (`blockprover node`'s --http-port).
    #[arg(long, env = "BLOCKPROVER_L2_RPC_URL")]
    l2_rpc_url: String,
    /// The L1's JSON-RPC URL.
    #[arg(long, env = "BLOCKPROVER_L1_RPC_URL")]
    l1_rpc_url: String,
    /// The L2 transaction that withdrew (called the L2 bridge's `withdraw(address)`).
    #[arg(long)]
    tx: B256,
    /// The L1 account that sends the claim and pays its gas (the receiver is paid, whoever
    /// sends it).
    #[arg(long, env = "BLOCKPROVER_L1_PRIVATE_KEY", hide_env_values = true)]
    private_key: String,
    /// L1 blocks on top of the claim before it counts.
    #[arg(long, default_value_t = 0)]
    l1_confirmations: u64,
}

/// Claims a transaction's withdrawals, or says why not yet.
pub(crate) fn claim(args: ClaimArgs) -> Result<()> {
    let key = bp_l1::signer(&args.private_key).context("--private-key")?;
    let l1 = bp_l1::L1Config { confirmations: args.l1_confirmations, ..bp_l1::L1Config::new(args.l1_rpc_url) };
    let claimed = match runtime()?.block_on(bp_node::claim::claim(&args.l2_rpc_url, &l1, &key, args.tx)) {
        Ok(claimed) => claimed,
        // Said plainly: the usual answer until the batch's proof is on L1.
        Err(e @ ClaimError::NotVerified { .. }) => bail!("{e}; try again once it is"),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("claiming the withdrawals of {}", args.tx))),
    };
    for c in claimed {
        match c.tx {
            Some(tx) => outln!(
                "withdrawal {}: paid {} wei to {} (L1 transaction {tx}); its balance is {} wei",
                c.message_id,
                c.amount,
                c.receiver,
                c.balance
            ),
            None => outln!("withdrawal {}: already claimed for {}", c.message_id, c.receiver),
        }
    }
    Ok(())
}
