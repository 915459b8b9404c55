//! The ProofCoordinator: hands batches to provers over TCP, checks and keeps their proofs.
//!
//! - Batches come from [`BatchSource`]s (a directory of inputs, a JSON-RPC node) into the
//!   [`Store`] (SQLite), with what their proofs must establish taken from their own headers.
//! - A free prover's `Request` gets the oldest batch lacking its proof type that is not
//!   assigned, or whose assignment expired (the prover died or is too slow): it is handed out
//!   again, so work is never stuck behind a dead prover.
//! - A `Submit` is stored only if the batch exists and was assigned, the proof is of the
//!   required program, its public outputs are the batch's, and it verifies. A second proof of an
//!   already proved (batch, type) is acknowledged without being stored again.
//! - Assignments and proofs are committed before the prover is answered: a crash loses nothing
//!   acknowledged and re-hands nothing still assigned.

mod metrics;
mod server;
mod source;
mod store;

pub use metrics::Metrics;
pub use source::{new_batch, new_batch_with, now_ms, BatchSource, DirSource, RpcSource, SourceError};
pub use store::{Batch, Counts, Expected, NewBatch, Store, StoreError, StoredProof};

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use bp_backend::{Backend, ProofType};
use bp_protocol::{AuthKey, FrameLimits};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

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
    /// Frame size and I/O deadline.
    pub limits: FrameLimits,
    /// Proof types every batch needs.
    pub required: Vec<ProofType>,
    /// After this long without a proof, an assigned batch is handed to another prover.
    pub assignment_timeout: Duration,
    /// Connections served at once; more are refused with `Busy`.
    pub max_connections: usize,
    /// How often batch sources are polled.
    pub source_poll: Duration,
}

/// Why the coordinator cannot start.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("proof type {0} is required but {1}")]
    Backend(ProofType, bp_backend::BackendError),
    #[error("no proof type is required")]
    NothingRequired,
    #[error("binding {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// The coordinator's shared state.
pub struct Coordinator {
    store: Store,
    backends: Vec<Box<dyn Backend>>,
    config: CoordinatorConfig,
    metrics: Metrics,
}

impl Coordinator {
    /// Opens the store and the required backends.
    pub fn new(config: CoordinatorConfig) -> Result<Self, CoordinatorError> {
        if config.required.is_empty() {
            return Err(CoordinatorError::NothingRequired);
        }
        let mut backends = Vec::new();
        for proof_type in &config.required {
            backends.push(bp_backend::backend(*proof_type).map_err(|e| CoordinatorError::Backend(*proof_type, e))?);
        }
        Ok(Self { store: Store::open(&config.db)?, backends, config, metrics: Metrics::new() })
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The proof types every batch needs.
    pub fn required(&self) -> &[ProofType] {
        &self.config.required
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    pub(crate) fn backend(&self, proof_type: ProofType) -> Option<&dyn Backend> {
        self.backends.iter().find(|b| b.proof_type() == proof_type).map(|b| b.as_ref())
    }
}

/// A running coordinator; dropping it without [`Running::shutdown`] leaves its tasks running
/// until the runtime ends.
pub struct Running {
    /// The bound prover address (useful with port 0).
    pub addr: SocketAddr,
    /// The bound metrics address, if served.
    pub metrics_addr: Option<SocketAddr>,
    coordinator: Arc<Coordinator>,
    stop: watch::Sender<bool>,
    stop_sources: Arc<AtomicBool>,
    tasks: JoinSet<()>,
    sources: Vec<JoinHandle<()>>,
}

impl Running {
    /// The coordinator's state.
    pub fn coordinator(&self) -> &Arc<Coordinator> {
        &self.coordinator
    }

    /// Stops accepting, lets connections in progress finish their current message, stops the
    /// sources after their current poll, and waits for all of it.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        self.stop_sources.store(true, Ordering::SeqCst);
        while self.tasks.join_next().await.is_some() {}
        let sources = std::mem::take(&mut self.sources);
        let _ = tokio::task::spawn_blocking(move || {
            for source in sources {
                let _ = source.join();
            }
        })
        .await;
    }
}

/// Starts the coordinator: binds its ports, polls its sources on their own threads.
pub async fn start(config: CoordinatorConfig, sources: Vec<Box<dyn BatchSource>>) -> Result<Running, CoordinatorError> {
    if config.key.is_insecure() {
        tracing::warn!("no credential configured: any client can take work and submit proofs (development only)");
    }
    let listen = config.listen;
    let metrics_listen = config.metrics_listen;
    let source_poll = config.source_poll;
    let coordinator = Arc::new(Coordinator::new(config)?);
    let listener = TcpListener::bind(listen).await.map_err(|source| CoordinatorError::Bind { addr: listen, source })?;
    let addr = listener.local_addr().map_err(|source| CoordinatorError::Bind { addr: listen, source })?;
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    tasks.spawn(server::serve(coordinator.clone(), listener, stopped.clone()));

    let mut metrics_addr = None;
    if let Some(metrics_listen) = metrics_listen {
        let http = TcpListener::bind(metrics_listen)
            .await
            .map_err(|source| CoordinatorError::Bind { addr: metrics_listen, source })?;
        metrics_addr =
            Some(http.local_addr().map_err(|source| CoordinatorError::Bind { addr: metrics_listen, source })?);
        let router = metrics::router(coordinator.clone());
        let mut stopped = stopped.clone();
        tasks.spawn(async move {
            let serve = axum::serve(http, router).with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!("metrics endpoint failed: {e}");
            }
        });
    }

    let stop_sources = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for mut source in sources {
        let coordinator = coordinator.clone();
        let stop = stop_sources.clone();
        threads.push(std::thread::spawn(move || {
            tracing::info!("batch source: {}", source.describe());
            // A failing source is retried with a growing delay, so a persistent error is not
            // logged ten times a second.
            let mut delay = source_poll;
            while !stop.load(Ordering::SeqCst) {
                match source.poll(coordinator.store()) {
                    Ok(_) => delay = source_poll,
                    Err(e) => {
                        tracing::warn!("batch source {}: {e} (retrying in {delay:?})", source.describe());
                        delay = (delay * 2).min(Duration::from_secs(60)).max(source_poll);
                    }
                }
                let deadline = std::time::Instant::now() + delay;
                while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }));
    }
    tracing::info!(%addr, metrics = ?metrics_addr, "coordinator listening");
    Ok(Running { addr, metrics_addr, coordinator, stop, stop_sources, tasks, sources: threads })
}
