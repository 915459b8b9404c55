//! The prover client: asks coordinators for work when free, proves, submits, again and again.
//!
//! A proof is written to `DATA_DIR/pending/` before it is submitted and removed only once a
//! coordinator acknowledges it, so a failed submit (coordinator down, network trouble) is
//! retried with backoff — and after a restart of the prover — until it is. A proof a coordinator
//! refuses for good is moved to `DATA_DIR/rejected/` with the reason beside it.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod pending;

pub use pending::{PendingProof, PendingStore};

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use backon::{BackoffBuilder, ExponentialBuilder};
use bp_backend::{Backend, BackendError, Progress, Proof, ProofFormat, ProofType};
use bp_program::ErrorChain;
use bp_protocol::{
    Assignment, AuthKey, FrameLimits, Heartbeat, Message, ProtocolError, Rejection, Request, Session, Submission,
};
use tokio::{net::TcpStream, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// The shortest and longest heartbeat interval a coordinator can ask for.
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
const MAX_HEARTBEAT: Duration = Duration::from_secs(600);

/// How often a proof under way is reported in the log.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// How the prover runs.
#[derive(Debug, Clone)]
pub struct ProverConfig {
    /// Coordinators (`host:port`), asked in turn.
    pub endpoints: Vec<String>,
    /// How long to wait before asking again when no coordinator has work.
    pub poll_interval: Duration,
    /// A name for the coordinators' logs.
    pub name: String,
    /// Where unacknowledged proofs are kept.
    pub data_dir: PathBuf,
    /// The coordinators' shared credential.
    pub key: AuthKey,
    /// Frame size and I/O deadline for requests and submits.
    pub limits: FrameLimits,
    /// Deadline for reading a coordinator's answer (a submit's answer waits for verification).
    pub reply_timeout: Duration,
    /// Submit attempts per round before the proof waits for the next round.
    pub submit_attempts: u32,
    /// First delay between submit attempts (doubled each time, at most 30 s).
    pub submit_backoff: Duration,
    /// Stop after proving this many batches (for tests and one-shot runs).
    pub max_batches: Option<u64>,
    /// Stop with an error after this many refusals in a row that retrying cannot cure: a
    /// coordinator whose greeting does not verify under our secret, or one that refuses our
    /// requests for good (another program, a proof type it does not need).
    pub max_refusals: u32,
    /// How often an idle prover says it is idle.
    pub idle_report: Duration,
}

/// What a prover did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProverStats {
    /// Batches proved (whether acknowledged yet or not).
    pub proved: u64,
    /// Proofs acknowledged.
    pub acknowledged: u64,
    /// Proofs the coordinator rejected for good (kept in `DATA_DIR/rejected/`).
    pub rejected: u64,
    /// Batches whose input the program failed on.
    pub failed: u64,
}

/// Why the prover cannot run at all.
#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    /// No coordinator to ask.
    #[error("no coordinator endpoint given")]
    NoEndpoint,
    /// An endpoint that is not `host:port`.
    #[error("coordinator endpoint {0:?} is not HOST:PORT")]
    Endpoint(String),
    /// The coordinators refused us for good, again and again.
    #[error("{endpoint} refused {times} times in a row, giving up: {reason}")]
    Refused {
        /// The last coordinator that refused.
        endpoint: String,
        /// How many refusals in a row.
        times: u32,
        /// The last refusal.
        reason: String,
    },
    /// The data directory cannot be created or read.
    #[error("data directory {path}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Why one exchange with a coordinator failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// No connection could be made.
    #[error("connecting to {endpoint}: {reason}")]
    Connect {
        /// The coordinator.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The handshake failed: the greeting did not verify under our secret, or the coordinator
    /// closed the connection (at a connection limit, say).
    #[error("handshake with {endpoint}")]
    Handshake {
        /// The coordinator.
        endpoint: String,
        /// Why.
        source: ProtocolError,
    },
    /// The connection failed or the coordinator's frame was refused.
    #[error("{endpoint}")]
    Protocol {
        /// The coordinator.
        endpoint: String,
        /// Why.
        source: ProtocolError,
    },
}

impl ExchangeError {
    /// Whether the coordinator's greeting did not verify under our secret: retrying the same
    /// secret cannot succeed.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ExchangeError::Handshake { source: ProtocolError::BadTag, .. })
    }
}

/// Checks that every endpoint is `host:port` with a numeric port (resolving is left to each
/// connection: a name may resolve later).
pub fn check_endpoints(endpoints: &[String]) -> Result<(), ProverError> {
    if endpoints.is_empty() {
        return Err(ProverError::NoEndpoint);
    }
    for endpoint in endpoints {
        let valid =
            endpoint.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !valid {
            return Err(ProverError::Endpoint(endpoint.clone()));
        }
    }
    Ok(())
}

/// Sends one message to `endpoint` on a fresh connection, as `prover`, and reads the answer.
pub async fn exchange(
    endpoint: &str,
    key: &AuthKey,
    prover: &str,
    limits: &FrameLimits,
    reply_timeout: Duration,
    message: &Message,
) -> Result<Message, ExchangeError> {
    let connect = tokio::time::timeout(limits.io_timeout, TcpStream::connect(endpoint)).await;
    let mut stream = match connect {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(ExchangeError::Connect { endpoint: endpoint.into(), reason: e.to_string() }),
        Err(_) => return Err(ExchangeError::Connect { endpoint: endpoint.into(), reason: "timed out".into() }),
    };
    let _ = stream.set_nodelay(true);
    let mut session = Session::connect(&mut stream, key, prover, limits)
        .await
        .map_err(|source| ExchangeError::Handshake { endpoint: endpoint.into(), source })?;
    let protocol = |source| ExchangeError::Protocol { endpoint: endpoint.into(), source };
    session.send(&mut stream, message, limits).await.map_err(protocol)?;
    let reply_limits = FrameLimits { idle_timeout: reply_timeout, ..*limits };
    session.receive(&mut stream, &reply_limits, None).await.map_err(protocol)
}

/// What asking a coordinator for work gave.
enum Asked {
    /// A batch.
    Work(Assignment),
    /// Nothing to do now, or the coordinator cannot be reached: ask again later.
    Nothing,
    /// A refusal retrying cannot cure, described.
    Refused(String),
}

/// A prover client.
#[derive(Debug)]
pub struct Prover {
    config: ProverConfig,
    backend: Arc<dyn Backend>,
    pending: PendingStore,
    stats: ProverStats,
}

enum SubmitOutcome {
    Acknowledged,
    Refused(Rejection),
    Unreachable,
}

impl Prover {
    /// A prover using `backend`.
    pub fn new(config: ProverConfig, backend: Arc<dyn Backend>) -> Result<Self, ProverError> {
        check_endpoints(&config.endpoints)?;
        let pending = PendingStore::open(&config.data_dir)
            .map_err(|source| ProverError::DataDir { path: config.data_dir.display().to_string(), source })?;
        Ok(Self { config, backend, pending, stats: ProverStats::default() })
    }

    fn proof_type(&self) -> ProofType {
        self.backend.proof_type()
    }

    /// Runs until `stop` is cancelled (a proof under way is abandoned and its batch given back)
    /// or `max_batches` are proved and
    /// acknowledged; fails after [`ProverConfig::max_refusals`] refusals in a row that retrying
    /// cannot cure.
    pub async fn run(mut self, stop: CancellationToken) -> Result<ProverStats, ProverError> {
        tracing::info!(
            prover = %self.config.name,
            backend = %self.proof_type(),
            coordinators = %self.config.endpoints.join(", "),
            "prover started"
        );
        let mut next_endpoint = 0;
        let mut refusals = 0u32;
        let mut idle_since = Instant::now();
        let mut idle_said = Instant::now();
        loop {
            if stop.is_cancelled() || self.done() {
                break;
            }
            self.flush_pending(&stop).await;
            if self.done() {
                break;
            }
            let mut worked = false;
            let quota_reached = self.config.max_batches.is_some_and(|max| self.stats.proved >= max);
            for i in (0..self.config.endpoints.len()).filter(|_| !quota_reached) {
                let endpoint = self.config.endpoints[(next_endpoint + i) % self.config.endpoints.len()].clone();
                match self.ask(&endpoint).await {
                    Asked::Work(assignment) => {
                        refusals = 0;
                        next_endpoint = (next_endpoint + i + 1) % self.config.endpoints.len();
                        self.prove_and_submit(&endpoint, assignment, &stop).await;
                        worked = true;
                        break;
                    }
                    Asked::Nothing => refusals = 0,
                    Asked::Refused(reason) => {
                        refusals += 1;
                        tracing::error!(%endpoint, refusals, "{reason}");
                        if refusals >= self.config.max_refusals.max(1) {
                            return Err(ProverError::Refused { endpoint, times: refusals, reason });
                        }
                    }
                }
            }
            if worked {
                idle_since = Instant::now();
            } else {
                if idle_said.elapsed() >= self.config.idle_report {
                    idle_said = Instant::now();
                    tracing::info!(
                        prover = %self.config.name,
                        "idle: no coordinator has had work for {:.0?}",
                        idle_since.elapsed()
                    );
                }
                let _ = tokio::time::timeout(self.config.poll_interval, stop.cancelled()).await;
            }
        }
        tracing::info!(prover = %self.config.name, stats = ?self.stats, "prover stopped");
        Ok(self.stats)
    }

    fn done(&self) -> bool {
        self.config.max_batches.is_some_and(|max| self.stats.proved >= max) && self.pending.is_empty()
    }

    async fn ask(&self, endpoint: &str) -> Asked {
        let request =
            Message::Request(Request { proof_type: self.proof_type(), program_id: self.backend.program_id() });
        let answer = self.exchange(endpoint, &request).await;
        match answer {
            Ok(Message::Response(Some(assignment))) if assignment.proof_type == self.proof_type() => {
                Asked::Work(assignment)
            }
            Ok(Message::Response(_)) => Asked::Nothing,
            Ok(Message::Rejected(rejection)) if !rejection.reason.is_transient() => {
                Asked::Refused(format!("work request refused: {rejection}"))
            }
            Ok(other) => {
                tracing::warn!(endpoint, "unexpected answer {} to a work request", other.kind());
                Asked::Nothing
            }
            Err(e) if e.is_unauthorized() => Asked::Refused(format!(
                "{}: the coordinator's greeting does not verify under our secret (is the shared secret the \
                 coordinator's?)",
                ErrorChain(&e)
            )),
            Err(e) => {
                tracing::warn!("{}", ErrorChain(&e));
                Asked::Nothing
            }
        }
    }

    async fn exchange(&self, endpoint: &str, message: &Message) -> Result<Message, ExchangeError> {
        let config = &self.config;
        exchange(endpoint, &config.key, &config.name, &config.limits, config.reply_timeout, message).await
    }

    async fn prove_and_submit(&mut self, endpoint: &str, assignment: Assignment, stop: &CancellationToken) {
        let Assignment { batch, first_block, last_block, gas_used, input, heartbeat_ms, .. } = assignment;
        let started = std::time::Instant::now();
        let backend = self.backend.clone();
        let progress = Progress::default();
        let proving = {
            let progress = progress.clone();
            tokio::task::spawn_blocking(move || backend.prove_as(&input, ProofFormat::default(), &progress))
        };
        let every = Duration::from_millis(heartbeat_ms).clamp(MIN_HEARTBEAT, MAX_HEARTBEAT);
        let Some(proved) = self.while_proving(endpoint, batch, every, &progress, proving, stop).await else {
            return;
        };
        let elapsed = started.elapsed();
        let proof = match proved {
            Ok(Ok(proof)) => proof,
            Ok(Err(e)) => {
                self.stats.failed += 1;
                tracing::error!(batch, blocks = %format!("{first_block}..={last_block}"), "cannot prove the batch: {e}");
                return;
            }
            Err(e) => {
                self.stats.failed += 1;
                tracing::error!(batch, "prover task failed: {e}");
                return;
            }
        };
        self.stats.proved += 1;
        let mgas_s = gas_used as f64 / elapsed.as_secs_f64().max(1e-9) / 1e6;
        tracing::info!(
            batch,
            blocks = %format!("{first_block}..={last_block}"),
            gas = gas_used,
            elapsed = ?elapsed,
            mgas_per_s = %format!("{mgas_s:.1}"),
            backend = %self.proof_type(),
            "batch proved"
        );
        let pending = PendingProof {
            endpoint: endpoint.to_owned(),
            submission: Submission {
                batch,
                proof_type: self.proof_type(),
                proof: proof.to_bytes(),
                proving_ms: elapsed.as_millis() as u64,
            },
        };
        match self.pending.save(&pending) {
            Ok(path) => self.submit_pending(path, pending, stop).await,
            Err(e) => {
                // Still submitted; only a crash before the acknowledgement would lose it.
                tracing::error!(batch, "cannot keep the proof on disk: {e}");
                let _ = self.submit_with_backoff(&pending, stop).await;
            }
        }
    }

    /// Waits for the proof, telling the coordinator every `every` that it is still under way
    /// (and the log every minute how far it is). `None`: `stop` came first; the proof is
    /// abandoned (its thread finishes or dies with the process) and the batch given back.
    async fn while_proving(
        &self,
        endpoint: &str,
        batch: u64,
        every: Duration,
        progress: &Progress,
        mut proving: JoinHandle<Result<Proof, BackendError>>,
        stop: &CancellationToken,
    ) -> Option<Result<Result<Proof, BackendError>, tokio::task::JoinError>> {
        let started = Instant::now();
        let mut beats = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut said = Instant::now();
        let mut held = true;
        loop {
            tokio::select! {
                proved = &mut proving => return Some(proved),
                _ = stop.cancelled() => {
                    let given_back = self.heartbeat(endpoint, batch, progress, true).await == Some(true);
                    tracing::warn!(
                        batch,
                        given_back,
                        "stopping mid-proof ({}): the proof is abandoned{}",
                        progress.describe(started.elapsed()),
                        if given_back { " and the batch given back" } else { "; the batch returns to the queue at its deadline" }
                    );
                    return None;
                }
                _ = beats.tick() => {
                    let answer = tokio::select! {
                        answer = self.heartbeat(endpoint, batch, progress, false) => answer,
                        _ = stop.cancelled() => continue,
                    };
                    if answer == Some(false) && held {
                        tracing::warn!(
                            batch,
                            %endpoint,
                            "the batch is no longer ours (reassigned after a silence, or proved); proving on: the \
                             first proof that verifies is kept"
                        );
                    }
                    held = answer.unwrap_or(held);
                    if said.elapsed() >= PROGRESS_EVERY {
                        said = Instant::now();
                        tracing::info!(batch, backend = %self.proof_type(), "proving: {}", progress.describe(started.elapsed()));
                    }
                }
            }
        }
    }

    /// Sends one heartbeat; the coordinator's answer (`Some(held)`), or `None` if it could not
    /// be reached (the next heartbeat tries again).
    async fn heartbeat(&self, endpoint: &str, batch: u64, progress: &Progress, abandon: bool) -> Option<bool> {
        let (done, total) = progress.get();
        let beat = Message::Heartbeat(Heartbeat { batch, proof_type: self.proof_type(), done, total, abandon });
        let config = &self.config;
        match exchange(endpoint, &config.key, &config.name, &config.limits, config.limits.io_timeout, &beat).await {
            Ok(Message::HeartbeatAck(ack)) if ack.batch == batch => Some(ack.held),
            Ok(other) => {
                tracing::warn!(batch, %endpoint, "heartbeat answered with {}", other.kind());
                None
            }
            Err(e) => {
                tracing::warn!(batch, "heartbeat not delivered: {}", ErrorChain(&e));
                None
            }
        }
    }

    async fn flush_pending(&mut self, stop: &CancellationToken) {
        for (path, pending) in self.pending.list() {
            if stop.is_cancelled() {
                return;
            }
            tracing::info!(batch = pending.submission.batch, endpoint = %pending.endpoint, "submitting a kept proof");
            self.submit_pending(path, pending, stop).await;
        }
    }

    async fn submit_pending(&mut self, path: PathBuf, pending: PendingProof, stop: &CancellationToken) {
        let batch = pending.submission.batch;
        match self.submit_with_backoff(&pending, stop).await {
            SubmitOutcome::Acknowledged => {
                self.stats.acknowledged += 1;
                tracing::info!(batch, endpoint = %pending.endpoint, "proof acknowledged");
                self.pending.remove(&path);
            }
            SubmitOutcome::Refused(rejection) => {
                self.stats.rejected += 1;
                tracing::error!(batch, endpoint = %pending.endpoint, "proof rejected (kept in rejected/): {rejection}");
                self.pending.reject(&path, &rejection);
            }
            SubmitOutcome::Unreachable => {
                tracing::warn!(batch, endpoint = %pending.endpoint, "proof kept in {} for a later attempt", path.display());
            }
        }
    }

    async fn submit_with_backoff(&self, pending: &PendingProof, stop: &CancellationToken) -> SubmitOutcome {
        let message = Message::Submit(pending.submission.clone());
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(self.config.submit_backoff)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.config.submit_attempts.saturating_sub(1) as usize)
            .build();
        for attempt in 1.. {
            let answer = self.exchange(&pending.endpoint, &message).await;
            match answer {
                Ok(Message::SubmitAck(ack)) if ack.batch == pending.submission.batch => {
                    return SubmitOutcome::Acknowledged
                }
                Ok(Message::Rejected(rejection)) if !rejection.reason.is_transient() => {
                    return SubmitOutcome::Refused(rejection)
                }
                Ok(other) => tracing::warn!(attempt, "submit answered with {other:?}"),
                Err(e) => tracing::warn!(attempt, "submit failed: {}", ErrorChain(&e)),
            }
            let Some(delay) = delays.next().filter(|_| !stop.is_cancelled()) else { break };
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stop.cancelled() => break,
            }
        }
        SubmitOutcome::Unreachable
    }
}
