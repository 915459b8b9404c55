//! `coordinator` and `prover`: the proving service's two sides.

use crate::output::{errln, outln};
use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use anyhow::{bail, Context, Result};
use bp_backend::ProofType;
use bp_coordinator::{BatchSource, ConnectionLimits, CoordinatorConfig, DirSource, RpcSource};
use bp_protocol::{AuthKey, FrameLimits};
use bp_prover::{Prover, ProverConfig};
use bp_rpc_witness::RpcClient;
use serde::Deserialize;

use crate::ChainArgs;

/// The shared credential, from the command line or the environment.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct AuthArgs {
    /// File holding the shared secret (its text, or 0x-prefixed hex; at least 16 bytes).
    #[arg(long, env = "BLOCKPROVER_AUTH_SECRET_FILE")]
    auth_secret_file: Option<PathBuf>,
    /// The shared secret itself (prefer the file: the environment of a process can be read by
    /// its user's other processes).
    #[arg(long, env = "BLOCKPROVER_AUTH_SECRET", hide_env_values = true, conflicts_with = "auth_secret_file")]
    auth_secret: Option<String>,
    /// Run without a credential: anyone who reaches the port can take work and submit.
    /// Development only.
    #[arg(long, conflicts_with_all = ["auth_secret_file", "auth_secret"])]
    insecure_no_auth: bool,
}

impl AuthArgs {
    pub(crate) fn key(&self, file_from_config: Option<&Path>) -> Result<AuthKey> {
        if self.insecure_no_auth {
            return Ok(AuthKey::insecure());
        }
        if let Some(secret) = &self.auth_secret {
            return Ok(AuthKey::parse(secret)?);
        }
        let Some(path) = self.auth_secret_file.as_deref().or(file_from_config) else {
            bail!(
                "a shared secret is required: --auth-secret-file FILE or BLOCKPROVER_AUTH_SECRET \
                 (or --insecure-no-auth for local development)"
            );
        };
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the secret {}", path.display()))?;
        AuthKey::parse(&text).with_context(|| format!("the secret in {}", path.display()))
    }
}

/// Where proved batches are sent for verification on L1, and as whom.
#[derive(clap::Args, Debug)]
pub(crate) struct SettlementArgs {
    /// JSON-RPC URL of the L1 whose OnChainProposer verifies the proved batches (with
    /// --l1-proposer and the proof sender's key); without it proofs stay in the database.
    #[arg(long, env = "BLOCKPROVER_L1_RPC_URL", requires_all = ["l1_proposer", "proof_sender_key"])]
    l1_rpc_url: Option<String>,
    /// Address of the OnChainProposer (`l1.json` of the devnet names it).
    #[arg(long, env = "BLOCKPROVER_L1_PROPOSER")]
    l1_proposer: Option<alloy_primitives::Address>,
    /// The proof sender's private key: its own L1 account, never the committer's.
    #[arg(long, env = "PROVER_SERVER_VERIFIER_PRIVATE_KEY", hide_env_values = true)]
    proof_sender_key: Option<String>,
    /// The proof sender's address, checked against its key (optional).
    #[arg(long, env = "PROVER_SERVER_VERIFIER_ADDRESS")]
    proof_sender_address: Option<alloy_primitives::Address>,
    /// L1 blocks on top of a verify transaction before it counts.
    #[arg(long, env = "BLOCKPROVER_L1_CONFIRMATIONS", default_value_t = 0)]
    l1_confirmations: u64,
}

impl SettlementArgs {
    /// The settlement config, after checking with the contract that the key is its proof sender
    /// and not its committer, and that `collected` holds every proof type it requires.
    async fn resolve(&self, collected: &[ProofType]) -> Result<Option<bp_coordinator::SettlementConfig>> {
        let (Some(url), Some(proposer), Some(key)) = (&self.l1_rpc_url, self.l1_proposer, &self.proof_sender_key)
        else {
            return Ok(None);
        };
        let key = bp_l1::signer(key).context("--proof-sender-key / PROVER_SERVER_VERIFIER_PRIVATE_KEY")?;
        if let Some(address) = self.proof_sender_address {
            if address != key.address() {
                bail!(
                    "the proof sender's key is for {}, not {address} (PROVER_SERVER_VERIFIER_ADDRESS)",
                    key.address()
                );
            }
        }
        let l1 = bp_l1::L1Config { confirmations: self.l1_confirmations, ..bp_l1::L1Config::new(url) };
        let provider = bp_l1::provider(&l1, Some(&key))?;
        bp_l1::ProofSender::new(provider.clone(), proposer, l1.clone())
            .check_account(key.address())
            .await
            .with_context(|| format!("checking the proof sender with the proposer {proposer} on {url}"))?;
        let requirements = bp_l1::ProofRequirements::read(&provider, proposer).await?;
        for (proof_type, required) in
            [(ProofType::Risc0, requirements.risc0.is_some()), (ProofType::Sp1, requirements.sp1.is_some())]
        {
            if required && !collected.contains(&proof_type) {
                bail!("the proposer {proposer} requires {proof_type} proofs: add {proof_type} to --proof-types");
            }
        }
        tracing::info!(%proposer, "the proposer is in {requirements}");
        Ok(Some(bp_coordinator::SettlementConfig { l1, proposer, key, poll: Duration::from_secs(2) }))
    }
}

#[derive(clap::Args, Debug)]
pub(crate) struct CoordinatorArgs {
    /// Address provers connect to.
    #[arg(long, env = "PROVER_SERVER_LISTEN_IP", default_value = "127.0.0.1")]
    listen_ip: IpAddr,
    /// Port provers connect to.
    #[arg(long, env = "PROVER_SERVER_LISTEN_PORT", default_value_t = 3900)]
    listen_port: u16,
    /// Where `/health` and `/metrics` (Prometheus) are served; `off` to serve nothing.
    #[arg(long, env = "BLOCKPROVER_METRICS_ADDR", default_value = "127.0.0.1:3901")]
    metrics_addr: String,
    /// Directory of the database (`coordinator.sqlite`): batches, inputs, assignments, proofs.
    #[arg(long, env = "BLOCKPROVER_DATA_DIR", default_value = "blockprover-data")]
    data_dir: PathBuf,
    /// Batches from a directory: every file is one batch (any input format `execute` reads),
    /// taken in name order; new files are picked up while running.
    #[arg(long, required_unless_present = "rpc")]
    inputs: Option<PathBuf>,
    /// Batches from a JSON-RPC node, followed as it grows.
    #[arg(long, env = "BLOCKPROVER_RPC_URL")]
    rpc: Option<String>,
    /// Blocks per batch for --rpc.
    #[arg(long, default_value_t = 1)]
    blocks_per_batch: u64,
    /// First block to batch for --rpc when the database has none (default: the node's next block).
    #[arg(long)]
    from_block: Option<u64>,
    /// Directory for cached RPC answers (--rpc).
    #[arg(long, env = "BLOCKPROVER_RPC_CACHE")]
    rpc_cache: Option<PathBuf>,
    /// Proof types every batch needs, comma-separated (exec; risc0 and sp1 need builds with
    /// those features).
    #[arg(long, env = "BLOCKPROVER_PROOF_TYPES", value_delimiter = ',', default_value = "exec")]
    proof_types: Vec<ProofType>,
    /// Seconds a prover may stay silent before its batch goes to another: a prover at work sends a
    /// heartbeat every quarter of this, so a proof may take as long as it needs.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    assignment_timeout_secs: u64,
    /// Largest frame accepted, in MiB (inputs and proofs travel in one frame).
    #[arg(long, default_value_t = 256)]
    max_frame_mib: usize,
    /// Seconds a client has to send a whole frame once it started (slow clients are cut off).
    #[arg(long, default_value_t = 30)]
    io_timeout_secs: u64,
    /// Seconds a connection may wait between frames before it is closed.
    #[arg(long, default_value_t = 30)]
    idle_timeout_secs: u64,
    /// Connections open at once; more are closed unread.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Connections open at once from one IP address; more are closed unread.
    #[arg(long, default_value_t = 256)]
    max_connections_per_peer: usize,
    /// Seconds a new connection has to complete the handshake.
    #[arg(long, default_value_t = 10)]
    handshake_timeout_secs: u64,
    /// Connections the kernel queues for acceptance (capped by net.core.somaxconn). Beyond it a
    /// flood makes the kernel drop new connections, honest ones included.
    #[arg(long, default_value_t = 4096)]
    listen_backlog: u32,
    /// Largest frame accepted before the handshake, in bytes.
    #[arg(long, default_value_t = 4096)]
    max_handshake_frame_bytes: usize,
    /// MiB of frame bodies being read at once over all connections (at least --max-frame-mib).
    #[arg(long, default_value_t = 1024)]
    frame_budget_mib: usize,
    /// How often batch sources are polled, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    #[command(flatten)]
    settlement: SettlementArgs,
    #[command(flatten)]
    auth: AuthArgs,
    #[command(flatten)]
    chain: ChainArgs,
}

pub(crate) fn coordinator(args: CoordinatorArgs, max_input_bytes: u64) -> Result<()> {
    let key = args.auth.key(None)?;
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let metrics_listen = match args.metrics_addr.as_str() {
        "off" | "" => None,
        addr => Some(addr.parse::<SocketAddr>().with_context(|| format!("--metrics-addr {addr}"))?),
    };
    let chain = args.chain.resolve()?;
    let mut sources: Vec<Box<dyn BatchSource>> = Vec::new();
    if let Some(dir) = &args.inputs {
        if !dir.is_dir() {
            bail!("--inputs {} is not a directory", dir.display());
        }
        sources.push(Box::new(DirSource::new(dir, chain.clone()).with_max_input_bytes(max_input_bytes)));
    }
    if let Some(url) = &args.rpc {
        let client = RpcClient::new(url, args.rpc_cache.as_deref());
        let chain =
            bp_rpc_witness::resolve_chain(&client, chain).with_context(|| format!("asking {url} for its chain"))?;
        sources.push(Box::new(RpcSource::new(client, chain, args.blocks_per_batch, args.from_block)));
    }
    let config = CoordinatorConfig {
        listen: SocketAddr::new(args.listen_ip, args.listen_port),
        metrics_listen,
        db: args.data_dir.join("coordinator.sqlite"),
        key,
        limits: FrameLimits {
            max_frame: args.max_frame_mib << 20,
            max_handshake_frame: args.max_handshake_frame_bytes,
            io_timeout: Duration::from_secs(args.io_timeout_secs),
            idle_timeout: Duration::from_secs(args.idle_timeout_secs),
        },
        connections: ConnectionLimits {
            max_connections: args.max_connections,
            max_connections_per_peer: args.max_connections_per_peer,
            handshake_timeout: Duration::from_secs(args.handshake_timeout_secs),
            listen_backlog: args.listen_backlog,
            frame_budget: args.frame_budget_mib << 20,
        },
        required: args.proof_types,
        assignment_timeout: Duration::from_secs(args.assignment_timeout_secs),
        source_poll: Duration::from_millis(args.poll_ms),
        settlement: None,
    };
    let runtime = runtime()?;
    let settlement = runtime.block_on(args.settlement.resolve(&config.required))?;
    let config = CoordinatorConfig { settlement, ..config };
    runtime.block_on(async {
        let running = bp_coordinator::start(config, sources).await?;
        outln!("coordinator listening on {}", running.addr);
        if let Some(addr) = running.metrics_addr {
            outln!("health and metrics on http://{addr}/health and /metrics");
        }
        shutdown_signal().await;
        tracing::info!("shutting down");
        running.shutdown().await;
        anyhow::Ok(())
    })
}

#[derive(clap::Args, Debug)]
pub(crate) struct ProverArgs {
    /// Coordinators to ask for work (`host:port`, comma-separated), in turn.
    #[arg(long, env = "PROVER_CLIENT_PROVER_SERVER_ENDPOINT", value_delimiter = ',')]
    endpoint: Vec<String>,
    /// Milliseconds to wait before asking again when no coordinator has work.
    #[arg(long, env = "PROVER_CLIENT_PROVING_TIME_MS")]
    proving_time_ms: Option<u64>,
    /// Proving backend: exec (native, no proof); risc0 and sp1 need builds with those features.
    #[arg(long, env = "PROVER_CLIENT_BACKEND")]
    backend: Option<ProofType>,
    /// Where risc0 proves: auto (on a GPU where this machine has one and blockprover-gpu is
    /// beside this binary, else on the CPU), cpu, or gpu (refuses to start without one).
    #[arg(long, env = "PROVER_CLIENT_DEVICE")]
    device: Option<bp_backend::gpu::Device>,
    /// Directory where proofs are kept until a coordinator acknowledges them (default:
    /// blockprover-prover).
    #[arg(long, env = "PROVER_CLIENT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A name for the coordinators' logs (default: the host name and process id).
    #[arg(long, env = "PROVER_CLIENT_NAME")]
    name: Option<String>,
    /// Stop after proving this many batches (and seeing them acknowledged).
    #[arg(long)]
    max_batches: Option<u64>,
    /// A TOML file with any of: endpoints (a list, or one string as on the command line),
    /// proving_time_ms, backend, device, data_dir, name, auth_secret_file, max_frame_mib,
    /// reply_timeout_secs. Flags and environment win over it. A relative name is looked up in
    /// CONFIGS_PATH; relative paths inside it are relative to the file.
    #[arg(long, env = "PROVER_CLIENT_CONFIG_FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    auth: AuthArgs,
}

/// The prover's TOML configuration file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProverFile {
    #[serde(default, deserialize_with = "one_or_many")]
    endpoints: Option<Vec<String>>,
    proving_time_ms: Option<u64>,
    backend: Option<String>,
    device: Option<String>,
    data_dir: Option<PathBuf>,
    name: Option<String>,
    auth_secret_file: Option<PathBuf>,
    max_frame_mib: Option<usize>,
    reply_timeout_secs: Option<u64>,
}

/// `endpoints = "a:1,b:2"` as on the command line, or `endpoints = ["a:1", "b:2"]`.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Some(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(list) => list.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect(),
        OneOrMany::Many(list) => list,
    }))
}

fn read_prover_file(path: &Path) -> Result<ProverFile> {
    let path = match std::env::var_os("CONFIGS_PATH") {
        Some(dir) if path.is_relative() => PathBuf::from(dir).join(path),
        _ => path.to_path_buf(),
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut file: ProverFile = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    // Paths in the file are relative to the file, not to wherever the prover is started.
    let base = path.parent().unwrap_or(Path::new("."));
    for relative in [&mut file.data_dir, &mut file.auth_secret_file].into_iter().flatten() {
        if relative.is_relative() {
            *relative = base.join(&*relative);
        }
    }
    Ok(file)
}

pub(crate) fn prover(args: ProverArgs) -> Result<()> {
    let file = match &args.config {
        Some(path) => read_prover_file(path)?,
        None => ProverFile::default(),
    };
    let endpoints = if args.endpoint.is_empty() { file.endpoints.unwrap_or_default() } else { args.endpoint };
    if endpoints.is_empty() {
        bail!("no coordinator: --endpoint HOST:PORT, PROVER_CLIENT_PROVER_SERVER_ENDPOINT or `endpoints` in the config file");
    }
    bp_prover::check_endpoints(&endpoints)?;
    let backend = match (args.backend, file.backend) {
        (Some(b), _) => b,
        (None, Some(name)) => name.parse().map_err(anyhow::Error::msg).context("`backend` in the config file")?,
        (None, None) => ProofType::Exec,
    };
    let device = match (args.device, file.device) {
        (Some(d), _) => d,
        (None, Some(name)) => name.parse().map_err(anyhow::Error::msg).context("`device` in the config file")?,
        (None, None) => bp_backend::gpu::Device::Auto,
    };
    let (backend, placement) = bp_backend::placed_backend(backend, device)?;
    tracing::info!(backend = %backend.proof_type(), "{placement}");
    let backend: Arc<dyn bp_backend::Backend> = backend.into();
    let name = args.name.or(file.name).unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    });
    let config = ProverConfig {
        endpoints,
        poll_interval: Duration::from_millis(args.proving_time_ms.or(file.proving_time_ms).unwrap_or(5000)),
        name,
        data_dir: args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("blockprover-prover")),
        key: args.auth.key(file.auth_secret_file.as_deref())?,
        limits: FrameLimits { max_frame: file.max_frame_mib.unwrap_or(256) << 20, ..FrameLimits::default() },
        reply_timeout: Duration::from_secs(file.reply_timeout_secs.unwrap_or(600)),
        submit_attempts: 8,
        submit_backoff: Duration::from_millis(500),
        max_batches: args.max_batches,
        max_refusals: 3,
        idle_report: Duration::from_secs(60),
    };
    let prover = Prover::new(config, backend)?;
    let runtime = runtime()?;
    let result = runtime.block_on(async {
        let stop = tokio_util::sync::CancellationToken::new();
        let mut run = tokio::spawn(prover.run(stop.clone()));
        let stats = tokio::select! {
            stats = &mut run => stats??,
            _ = shutdown_signal() => {
                tracing::info!("stopping (a proof under way is abandoned and its batch given back)");
                stop.cancel();
                run.await??
            }
        };
        outln!(
            "proved {}, acknowledged {}, rejected {}, failed {}",
            stats.proved,
            stats.acknowledged,
            stats.rejected,
            stats.failed
        );
        anyhow::Ok(())
    });
    leave(runtime);
    result
}

/// Warns when `provers` proving with `proof_type` at once would need more memory than the
/// machine has available: the kernel would kill the process mid-proof, losing every proof under
/// way.
pub(crate) fn warn_if_provers_exceed_memory(what: &str, provers: usize, proof_type: ProofType) {
    if let Some(warning) = available_memory_bytes().and_then(|a| memory_warning(provers, proof_type, a)) {
        errln!("{what}: warning: {warning}");
    }
}

fn memory_warning(provers: usize, proof_type: ProofType, available: u64) -> Option<String> {
    let each = bp_backend::proving_memory_bytes(proof_type);
    let needed = each.saturating_mul(provers as u64);
    if needed <= available {
        return None;
    }
    let advice = match available / each.max(1) {
        0 => "prove on a larger machine (`blockprover prover` there, --provers 0 here)".to_owned(),
        n => format!("use --provers {n} or fewer, or add provers on other machines"),
    };
    Some(format!(
        "{provers} in-process {proof_type} prover(s) need about {:.1} GB ({:.1} GB each at their peak) and this \
         machine has {:.1} GB available: it may be killed for memory mid-proof; {advice}",
        needed as f64 / 1e9,
        each as f64 / 1e9,
        available as f64 / 1e9,
    ))
}

/// `MemAvailable` of /proc/meminfo (Linux), in bytes.
fn available_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// Ends a runtime without waiting for its blocking threads: a proof abandoned by a stop keeps
/// running on one (a zkVM prover cannot be interrupted) until the process exits, which a plain
/// drop would wait for, for minutes.
pub(crate) fn leave(runtime: tokio::runtime::Runtime) {
    runtime.shutdown_timeout(Duration::from_millis(500));
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

pub(crate) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provers_that_do_not_fit_in_memory_are_warned_of_with_what_fits() {
        let gb = 1_000_000_000;
        assert_eq!(memory_warning(64, ProofType::Exec, gb), None);
        assert_eq!(memory_warning(2, ProofType::Risc0, 20 * gb), None);
        let two = memory_warning(2, ProofType::Risc0, 16 * gb).expect("19.4 GB > 16 GB");
        assert!(two.contains("need about 19.4 GB") && two.contains("use --provers 1 or fewer"), "{two}");
        let none = memory_warning(1, ProofType::Sp1, 8 * gb).expect("17 GB > 8 GB");
        assert!(none.contains("prove on a larger machine"), "{none}");
    }
}
