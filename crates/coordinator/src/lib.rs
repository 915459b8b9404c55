//! The ProofCoordinator: hands batches to provers over TCP, checks and keeps their proofs.
//!
//! - Batches come from [`BatchSource`]s (a directory of inputs, a JSON-RPC node) into the
//!   [`Store`] (SQLite), with what their proofs must establish taken from their own headers.
//! - A free prover's `Request` gets the oldest batch lacking its proof type that is not
//!   assigned, or whose assignment expired: a prover's heartbeats keep its assignment alive
//!   however long the proof takes; one that falls silent (it died, or lost its network) loses the
//!   batch to the next prover that asks, so work is never stuck behind a dead prover. A prover
//!   that stops mid-proof gives its batch back at once.
//! - A `Submit` is stored only if the batch exists and was assigned, the proof is of the
//!   required program, its public outputs are the batch's, and it verifies. A second proof of an
//!   already proved (batch, type) is acknowledged without being stored again.
//! - Assignments and proofs are committed before the prover is answered: a crash loses nothing
//!   acknowledged and re-hands nothing still assigned.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod connections;
mod metrics;
mod server;
mod settle;
mod source;
mod store;

pub use metrics::Metrics;
pub use settle::SettlementConfig;
pub use source::{new_batch, now_ms, BatchSource, DirSource, RpcSource, SourceError};
pub use store::{
    Added, Batch, BlobOpening, Continuity, Counts, Expected, L1State, NewBatch, OpenAssignment, Settlement, Store,
    StoreError, StoredProof,
};

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use backon::{BackoffBuilder, ExponentialBuilder};
use bp_backend::{Backend, ProofType};
use bp_program::ErrorChain;
use bp_protocol::{AuthKey, FrameBudget, FrameLimits};
use connections::Connections;
use tokio::{
    net::{TcpListener, TcpSocket},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

/// How the coordinator runs.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// Where provers connect.
    pub listen: SocketAddr,
    /// Where `/health` and `/metrics` are served; `None`: not served.
    pub metrics_listen: Option<SocketAddr>,
    /// The SQLite database file.
    pub db: PathBuf,
    /// The provers' shared credential.
    pub key: AuthKey,
    /// Frame sizes (before and after the handshake) and deadlines.
    pub limits: FrameLimits,
    /// What connections may hold.
    pub connections: ConnectionLimits,
    /// Proof types every batch needs.
    pub required: Vec<ProofType>,
    /// After this long without a heartbeat or a proof from its prover, an assigned batch is
    /// handed to another prover; provers are asked to send a heartbeat every quarter of it.
    pub assignment_timeout: Duration,
    /// How often batch sources are polled.
    pub source_poll: Duration,
    /// Where proved batches are verified on L1 (`None`: they are not).
    pub settlement: Option<SettlementConfig>,
}

/// Bounds on what connections hold, before and after they authenticate (docs/protocol.md).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once; more are closed unread.
    pub max_connections: usize,
    /// Connections open at once from one IP address; more are closed unread.
    pub max_connections_per_peer: usize,
    /// Time a new connection has to complete the handshake.
    pub handshake_timeout: Duration,
    /// Connections the kernel holds for the accept loop (the listen backlog; the kernel caps it
    /// at `net.core.somaxconn`). When it is full, new connections are dropped in the kernel, and
    /// one that the peer already thinks open (a SYN cookie's) is lost without a word: it must
    /// exceed the connections a flood keeps in flight, or an honest prover waits out its idle
    /// deadline.
    pub listen_backlog: u32,
    /// Bytes of frame bodies being read at once, over all connections (at least the largest
    /// frame).
    pub frame_budget: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_peer: 256,
            handshake_timeout: Duration::from_secs(10),
            listen_backlog: 4096,
            frame_budget: 1 << 30,
        }
    }
}

/// Why the coordinator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// The database cannot be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A required proof type's backend cannot be opened (not built into this binary…).
    #[error("proof type {proof_type} is required")]
    Backend {
        /// The proof type.
        proof_type: ProofType,
        /// Why its backend is unavailable.
        source: bp_backend::BackendError,
    },
    /// No proof type was required.
    #[error("no proof type is required")]
    NothingRequired,
    /// The frame budget cannot hold one frame of the largest size.
    #[error("the frame budget of {budget} bytes is smaller than the largest frame ({max_frame} bytes)")]
    FrameBudget {
        /// The budget.
        budget: usize,
        /// The largest frame.
        max_frame: usize,
    },
    /// A listening address cannot be bound.
    #[error("binding {addr} (another process on that port? choose another address or port)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The coordinator's shared state.
#[derive(Debug)]
pub struct Coordinator {
    sources: std::sync::Mutex<Vec<SourceHealth>>,
    store: Store,
    backends: Vec<Box<dyn Backend>>,
    config: CoordinatorConfig,
    metrics: Metrics,
    budget: FrameBudget,
    connections: Connections,
}

impl Coordinator {
    /// Opens the store and the required backends.
    pub fn new(config: CoordinatorConfig) -> Result<Self, CoordinatorError> {
        if config.required.is_empty() {
            return Err(CoordinatorError::NothingRequired);
        }
        let mut backends = Vec::new();
        for proof_type in &config.required {
            let backend = bp_backend::backend(*proof_type)
                .map_err(|source| CoordinatorError::Backend { proof_type: *proof_type, source })?;
            backends.push(backend);
        }
        let (budget, max_frame) = (config.connections.frame_budget, config.limits.max_frame);
        if budget < max_frame {
            return Err(CoordinatorError::FrameBudget { budget, max_frame });
        }
        let connections =
            Connections::new(config.connections.max_connections, config.connections.max_connections_per_peer);
        let metrics = Metrics::new(&config);
        Ok(Self {
            sources: std::sync::Mutex::default(),
            store: Store::open(&config.db)?,
            backends,
            budget: FrameBudget::new(budget),
            connections,
            config,
            metrics,
        })
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The proof types every batch needs.
    pub fn required(&self) -> &[ProofType] {
        &self.config.required
    }

    /// How each batch source fares.
    pub fn sources(&self) -> Vec<SourceHealth> {
        self.sources.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn source_health(&self, index: usize, update: impl FnOnce(&mut SourceHealth)) {
        if let Some(health) = self.sources.lock().unwrap_or_else(|p| p.into_inner()).get_mut(index) {
            update(health);
        }
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub(crate) fn backend(&self, proof_type: ProofType) -> Option<&dyn Backend> {
        self.backends.iter().find(|b| b.proof_type() == proof_type).map(|b| b.as_ref())
    }
}

/// How a batch source fares, for `/health` and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceHealth {
    /// The source, as its logs name it.
    pub source: String,
    /// Polls that failed in a row (0: the last one succeeded).
    pub failures: u64,
    /// The last failure, if the last poll failed.
    pub error: Option<String>,
    /// The source stopped on a failure that polling again cannot cure.
    pub stopped: bool,
}

impl SourceHealth {
    /// Whether the source is failing: it stopped, or failed this many polls in a row.
    pub fn is_failing(&self) -> bool {
        self.stopped || self.failures >= 3
    }
}

/// A running coordinator; dropping it without [`Running::shutdown`] leaves its tasks running
/// until the runtime ends.
#[derive(Debug)]
pub struct Running {
    /// The bound prover address (useful with port 0).
    pub addr: SocketAddr,
    /// The bound metrics address, if served.
    pub metrics_addr: Option<SocketAddr>,
    coordinator: Arc<Coordinator>,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Running {
    /// The coordinator's state.
    pub fn coordinator(&self) -> &Arc<Coordinator> {
        &self.coordinator
    }

    /// Stops accepting, lets connections in progress finish their current message, stops the
    /// sources after their current poll, and waits for all of it.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A listener on `addr` with room for `backlog` connections not yet accepted (tokio's `bind`
/// allows 1024, fewer than a flood keeps in flight).
fn listen_on(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    // As std and tokio do: a restarted coordinator can bind while old connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// Starts the coordinator: binds its ports, serves provers and metrics, polls its sources.
pub async fn start(config: CoordinatorConfig, sources: Vec<Box<dyn BatchSource>>) -> Result<Running, CoordinatorError> {
    if config.key.is_insecure() {
        tracing::warn!("no credential configured: any client can take work and submit proofs (development only)");
    }
    let listen = config.listen;
    let metrics_listen = config.metrics_listen;
    let coordinator = Arc::new(Coordinator::new(config)?);
    let listener = listen_on(listen, coordinator.config.connections.listen_backlog)
        .map_err(|source| CoordinatorError::Bind { addr: listen, source })?;
    let addr = listener.local_addr().map_err(|source| CoordinatorError::Bind { addr: listen, source })?;
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    tasks.spawn(server::serve(coordinator.clone(), listener, stop.clone()));

    let mut metrics_addr = None;
    if let Some(metrics_listen) = metrics_listen {
        let http = TcpListener::bind(metrics_listen)
            .await
            .map_err(|source| CoordinatorError::Bind { addr: metrics_listen, source })?;
        metrics_addr =
            Some(http.local_addr().map_err(|source| CoordinatorError::Bind { addr: metrics_listen, source })?);
        let router = metrics::router(coordinator.clone());
        let stopped = stop.clone();
        tasks.spawn(async move {
            let serve = axum::serve(http, router).with_graceful_shutdown(stopped.cancelled_owned());
            if let Err(e) = serve.await {
                tracing::error!("metrics endpoint failed: {e}");
            }
        });
    }
    for (index, source) in sources.into_iter().enumerate() {
        let health = SourceHealth { source: source.describe(), failures: 0, error: None, stopped: false };
        coordinator.sources.lock().unwrap_or_else(|p| p.into_inner()).push(health);
        tasks.spawn(poll_source(coordinator.clone(), index, source, stop.clone()));
    }
    if let Some(settlement) = coordinator.config.settlement.clone() {
        tasks.spawn(settle::send_proofs(coordinator.clone(), settlement, stop.clone()));
    }
    tracing::info!(%addr, metrics = ?metrics_addr, "coordinator listening");
    Ok(Running { addr, metrics_addr, coordinator, stop, tasks })
}

/// Polls `source` (on a blocking thread: sources read files, call nodes and build blocks) every
/// `source_poll`; a failing source is retried with a growing delay, so a persistent error is not
/// logged ten times a second.
/// A failure that polling again cannot cure stops the source (the rest of the coordinator
/// serves on).
async fn poll_source(
    coordinator: Arc<Coordinator>,
    index: usize,
    mut source: Box<dyn BatchSource>,
    stop: CancellationToken,
) {
    tracing::info!("batch source: {}", source.describe());
    let poll = coordinator.config.source_poll;
    let backoff =
        ExponentialBuilder::default().with_min_delay(poll).with_max_delay(Duration::from_secs(60)).without_max_times();
    let mut delays = backoff.build();
    while !stop.is_cancelled() {
        let store = coordinator.clone();
        let polled = tokio::task::spawn_blocking(move || {
            let result = source.poll(store.store());
            (source, result)
        })
        .await;
        let Ok((returned, result)) = polled else {
            tracing::error!("a batch source panicked; it is not polled again");
            return;
        };
        source = returned;
        let delay = match result {
            Ok(_) => {
                delays = backoff.build();
                coordinator.source_health(index, |h| (h.failures, h.error) = (0, None));
                poll
            }
            Err(e) if e.is_permanent() => {
                let error = ErrorChain(&e).to_string();
                tracing::error!(
                    "batch source {} stopped: {error} (polling again gives the same answer: fix it and restart)",
                    source.describe()
                );
                coordinator.source_health(index, |h| {
                    (h.failures, h.error, h.stopped) = (h.failures + 1, Some(error), true);
                });
                return;
            }
            Err(e) => {
                let delay = delays.next().unwrap_or(poll);
                let error = ErrorChain(&e).to_string();
                tracing::warn!("batch source {}: {error} (retrying in {delay:?})", source.describe());
                coordinator.source_health(index, |h| (h.failures, h.error) = (h.failures + 1, Some(error)));
                delay
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => {}
        }
    }
}
