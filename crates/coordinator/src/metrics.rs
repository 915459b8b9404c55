//! Prometheus metrics and the health endpoint.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{header::CONTENT_TYPE, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use bp_backend::ProofType;
use bp_protocol::RejectReason;
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use serde_json::json;

use crate::{connections::Refusal, source::now_ms, Coordinator, CoordinatorConfig, Counts, OpenAssignment};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BatchLabels {
    proof_type: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabel {
    proof_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabel {
    limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProverLabels {
    prover: String,
    proof_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabel {
    name: String,
}

type HistogramFamily = Family<TypeLabel, Histogram, fn() -> Histogram>;

/// The coordinator's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    batches: Family<BatchLabels, Gauge>,
    proving_seconds: HistogramFamily,
    rejected: Family<ReasonLabel, Counter>,
    requests: Family<OutcomeLabel, Counter>,
    submissions: Family<OutcomeLabel, Counter>,
    connections_open: Gauge,
    l1_last_committed: Gauge,
    l1_last_verified: Gauge,
    l1_gas: Family<OutcomeLabel, Counter>,
    connections_refused: Family<LimitLabel, Counter>,
    connections_evicted: Family<LimitLabel, Counter>,
    handshakes: Family<OutcomeLabel, Counter>,
    heartbeats: Family<OutcomeLabel, Counter>,
    frame_bytes_held: Gauge,
    prover_batch: Family<ProverLabels, Gauge>,
    prover_assigned_seconds: Family<ProverLabels, Gauge>,
    prover_heartbeat_age_seconds: Family<ProverLabels, Gauge>,
    prover_segments_done: Family<ProverLabels, Gauge>,
    prover_segments_total: Family<ProverLabels, Gauge>,
    source_failures: Family<SourceLabel, Gauge>,
    source_stopped: Family<SourceLabel, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: String,
}

impl Metrics {
    pub(crate) fn new(config: &CoordinatorConfig) -> Self {
        let mut registry = Registry::with_prefix("blockprover");
        let connections_open = Gauge::default();
        registry.register("connections_open", "Prover connections open now", connections_open.clone());
        let connections_refused = Family::<LimitLabel, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections closed unread at a connection limit (total, per_peer)",
            connections_refused.clone(),
        );
        let connections_evicted = Family::<LimitLabel, Counter>::default();
        registry.register(
            "connections_evicted",
            "Unauthenticated connections closed to make room for a newer one at a connection limit (total, per_peer)",
            connections_evicted.clone(),
        );
        let handshakes = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "handshakes",
            "Connection handshakes, by outcome (ok, failed, timeout, evicted)",
            handshakes.clone(),
        );
        let heartbeats = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "heartbeats",
            "Provers' heartbeats, by outcome (kept, abandoned: the prover gave its batch back, not_held: the batch \
             was no longer its own)",
            heartbeats.clone(),
        );
        let prover_family = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<ProverLabels, Gauge>::default();
            registry.register(name, help, family.clone());
            family
        };
        let prover_batch = prover_family(
            &mut registry,
            "prover_batch",
            "The batch each prover holds now (one series per prover at work)",
        );
        let prover_assigned_seconds = prover_family(
            &mut registry,
            "prover_assigned_seconds",
            "How long ago each prover at work was given its batch",
        );
        let prover_heartbeat_age_seconds = prover_family(
            &mut registry,
            "prover_heartbeat_age_seconds",
            "How long ago each prover at work last said it is still proving",
        );
        let prover_segments_done =
            prover_family(&mut registry, "prover_segments_done", "Segments each prover at work has proved (RISC Zero)");
        let prover_segments_total = prover_family(
            &mut registry,
            "prover_segments_total",
            "Segments of each prover's proof at work (RISC Zero; 0: the backend does not tell)",
        );
        let source_failures = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "source_failures",
            "Polls of each batch source that failed in a row (0: its last poll succeeded)",
            source_failures.clone(),
        );
        let source_stopped = Family::<SourceLabel, Gauge>::default();
        registry.register(
            "source_stopped",
            "1 for a batch source stopped on a failure that polling again cannot cure",
            source_stopped.clone(),
        );
        let frame_bytes_held = Gauge::default();
        registry.register(
            "frame_budget_bytes_held",
            "Bytes of frame bodies being read now, over all connections",
            frame_bytes_held.clone(),
        );
        let l1_last_committed = Gauge::default();
        registry.register(
            "l1_last_committed_batch",
            "The L1 contract's last committed batch",
            l1_last_committed.clone(),
        );
        let l1_last_verified = Gauge::default();
        registry.register("l1_last_verified_batch", "The L1 contract's last verified batch", l1_last_verified.clone());
        let l1_gas = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "l1_gas",
            "L1 gas spent by this coordinator's transactions, by kind (verify)",
            l1_gas.clone(),
        );
        let limits = Family::<NameLabel, Gauge>::default();
        registry.register("limit", "Every configured limit, by name (bytes, seconds or counts)", limits.clone());
        let (frames, connections) = (&config.limits, &config.connections);
        for (name, value) in [
            ("max_connections", connections.max_connections as u64),
            ("max_connections_per_peer", connections.max_connections_per_peer as u64),
            ("handshake_timeout_seconds", connections.handshake_timeout.as_secs()),
            ("listen_backlog", u64::from(connections.listen_backlog)),
            ("frame_budget_bytes", connections.frame_budget as u64),
            ("max_frame_bytes", frames.max_frame as u64),
            ("max_handshake_frame_bytes", frames.max_handshake_frame as u64),
            ("io_timeout_seconds", frames.io_timeout.as_secs()),
            ("idle_timeout_seconds", frames.idle_timeout.as_secs()),
            ("assignment_timeout_seconds", config.assignment_timeout.as_secs()),
        ] {
            limits.get_or_create(&NameLabel { name: name.into() }).set(i64::try_from(value).unwrap_or(i64::MAX));
        }
        let batches = Family::<BatchLabels, Gauge>::default();
        registry.register("batches", "Batches by state (pending, assigned, proved) and proof type", batches.clone());
        let proving_seconds: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.005, 2.0, 20)));
        registry.register(
            "batch_proving_seconds",
            "Proving time per batch as reported by the prover, by proof type",
            proving_seconds.clone(),
        );
        let rejected = Family::<ReasonLabel, Counter>::default();
        registry.register("rejected", "Refused messages and submissions, by reason", rejected.clone());
        let requests = Family::<OutcomeLabel, Counter>::default();
        registry.register("requests", "Work requests, by outcome (assigned, empty, rejected)", requests.clone());
        let submissions = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "submissions",
            "Proof submissions, by outcome (stored, duplicate, rejected)",
            submissions.clone(),
        );
        Self {
            registry,
            batches,
            proving_seconds,
            rejected,
            requests,
            submissions,
            connections_open,
            l1_last_committed,
            l1_last_verified,
            l1_gas,
            connections_refused,
            connections_evicted,
            handshakes,
            heartbeats,
            frame_bytes_held,
            prover_batch,
            prover_assigned_seconds,
            prover_heartbeat_age_seconds,
            prover_segments_done,
            prover_segments_total,
            source_failures,
            source_stopped,
        }
    }

    fn set_sources(&self, sources: &[crate::SourceHealth]) {
        for s in sources {
            let label = SourceLabel { source: s.source.clone() };
            self.source_failures.get_or_create(&label).set(i64::try_from(s.failures).unwrap_or(i64::MAX));
            self.source_stopped.get_or_create(&label).set(i64::from(s.stopped));
        }
    }

    pub(crate) fn heartbeat(&self, outcome: &str) {
        self.heartbeats.get_or_create(&OutcomeLabel { outcome: outcome.into() }).inc();
    }

    /// One series per prover at work now: provers that finished or fell silent drop out.
    fn set_provers(&self, assignments: &[OpenAssignment], now_ms: u64) {
        let families = [
            &self.prover_batch,
            &self.prover_assigned_seconds,
            &self.prover_heartbeat_age_seconds,
            &self.prover_segments_done,
            &self.prover_segments_total,
        ];
        for family in families {
            family.clear();
        }
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        for a in assignments.iter().filter(|a| a.is_held(now_ms)) {
            let labels = ProverLabels { prover: a.prover.clone(), proof_type: a.proof_type.name().into() };
            self.prover_batch.get_or_create(&labels).set(gauge(a.batch));
            self.prover_assigned_seconds.get_or_create(&labels).set(gauge(now_ms.saturating_sub(a.assigned_ms) / 1000));
            self.prover_heartbeat_age_seconds
                .get_or_create(&labels)
                .set(gauge(now_ms.saturating_sub(a.heartbeat_ms) / 1000));
            self.prover_segments_done.get_or_create(&labels).set(gauge(a.done));
            self.prover_segments_total.get_or_create(&labels).set(gauge(a.total));
        }
    }

    pub(crate) fn connection_refused(&self, refusal: Refusal) {
        self.connections_refused.get_or_create(&LimitLabel { limit: refusal.name().into() }).inc();
    }

    pub(crate) fn connection_evicted(&self, limit: Refusal) {
        self.connections_evicted.get_or_create(&LimitLabel { limit: limit.name().into() }).inc();
    }

    pub(crate) fn l1_batches(&self, committed: u64, verified: u64) {
        self.l1_last_committed.set(i64::try_from(committed).unwrap_or(i64::MAX));
        self.l1_last_verified.set(i64::try_from(verified).unwrap_or(i64::MAX));
    }

    pub(crate) fn l1_gas(&self, kind: &str, gas: u64) {
        self.l1_gas.get_or_create(&OutcomeLabel { outcome: kind.into() }).inc_by(gas);
    }

    pub(crate) fn handshake(&self, outcome: &str) {
        self.handshakes.get_or_create(&OutcomeLabel { outcome: outcome.into() }).inc();
    }

    pub(crate) fn rejected(&self, reason: RejectReason) {
        self.rejected.get_or_create(&ReasonLabel { reason: reason.name().into() }).inc();
    }

    pub(crate) fn request(&self, outcome: &str) {
        self.requests.get_or_create(&OutcomeLabel { outcome: outcome.into() }).inc();
    }

    pub(crate) fn submission(&self, outcome: &str) {
        self.submissions.get_or_create(&OutcomeLabel { outcome: outcome.into() }).inc();
    }

    pub(crate) fn proved(&self, proof_type: ProofType, proving_ms: u64) {
        self.proving_seconds
            .get_or_create(&TypeLabel { proof_type: proof_type.name().into() })
            .observe(proving_ms as f64 / 1e3);
    }

    fn set_batches(&self, proof_type: ProofType, state: &str, value: u64) {
        let labels = BatchLabels { proof_type: proof_type.name().into(), state: state.into() };
        self.batches.get_or_create(&labels).set(value as i64);
    }
}

/// The HTTP routes: `/health` (JSON counts; 503 if the database cannot be read) and `/metrics`.
pub(crate) fn router(coordinator: Arc<Coordinator>) -> Router {
    Router::new().route("/health", get(health)).route("/metrics", get(metrics)).with_state(coordinator)
}

/// Batch counts for every required proof type and the open assignments, read off the async
/// runtime.
async fn batch_counts(c: Arc<Coordinator>) -> Result<(Vec<(ProofType, Counts)>, Vec<OpenAssignment>), String> {
    let counts = tokio::task::spawn_blocking(move || {
        let now = now_ms();
        let counts =
            c.required().iter().map(|t| c.store().counts(*t, now).map(|n| (*t, n))).collect::<Result<Vec<_>, _>>()?;
        Ok::<_, crate::StoreError>((counts, c.store().open_assignments()?))
    })
    .await;
    match counts {
        Ok(Ok(counts)) => Ok(counts),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// 503 while a batch source fails (it stopped, or failed three polls in a row): new batches are
/// not coming in.
async fn health(State(c): State<Arc<Coordinator>>) -> impl IntoResponse {
    match batch_counts(c.clone()).await {
        Ok((counts, assignments)) => {
            let now = now_ms();
            let provers: Vec<_> = assignments
                .iter()
                .filter(|a| a.is_held(now))
                .map(|a| {
                    json!({
                        "prover": a.prover,
                        "proof_type": a.proof_type.name(),
                        "batch": a.batch,
                        "assigned_ms": a.assigned_ms,
                        "heartbeat_ms": a.heartbeat_ms,
                        "segments_done": a.done,
                        "segments_total": a.total,
                    })
                })
                .collect();
            let batches: serde_json::Map<_, _> = counts
                .into_iter()
                .map(|(t, n)| {
                    (t.name().to_owned(), json!({"pending": n.pending, "assigned": n.assigned, "proved": n.proved}))
                })
                .collect();
            let sources = c.sources();
            let failing = sources.iter().any(|s| s.is_failing());
            let sources: Vec<_> = sources
                .iter()
                .map(|s| json!({"source": s.source, "failures": s.failures, "error": s.error, "stopped": s.stopped}))
                .collect();
            let (code, status) =
                if failing { (StatusCode::SERVICE_UNAVAILABLE, "failing") } else { (StatusCode::OK, "ok") };
            (code, Json(json!({"status": status, "batches": batches, "provers": provers, "sources": sources})))
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "error", "error": e}))),
    }
}

async fn metrics(State(c): State<Arc<Coordinator>>) -> impl IntoResponse {
    let Ok((counts, assignments)) = batch_counts(c.clone()).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n".to_owned()).into_response();
    };
    c.metrics().set_provers(&assignments, now_ms());
    c.metrics().set_sources(&c.sources());
    for (proof_type, n) in counts {
        c.metrics().set_batches(proof_type, "pending", n.pending);
        c.metrics().set_batches(proof_type, "assigned", n.assigned);
        c.metrics().set_batches(proof_type, "proved", n.proved);
    }
    c.metrics().connections_open.set(c.connections.open() as i64);
    c.metrics().frame_bytes_held.set(c.budget.held() as i64);
    let mut text = String::new();
    match encode(&mut text, &c.metrics().registry) {
        Ok(()) => {
            ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}
