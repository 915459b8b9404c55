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

use crate::{source::now_ms, Coordinator, Counts};

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
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("blockprover");
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
        Self { registry, batches, proving_seconds, rejected, requests, submissions }
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

/// Batch counts for every required proof type, read off the async runtime.
async fn batch_counts(c: Arc<Coordinator>) -> Result<Vec<(ProofType, Counts)>, String> {
    let counts = tokio::task::spawn_blocking(move || {
        let now = now_ms();
        c.required().iter().map(|t| c.store().counts(*t, now).map(|n| (*t, n))).collect::<Result<Vec<_>, _>>()
    })
    .await;
    match counts {
        Ok(Ok(counts)) => Ok(counts),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn health(State(c): State<Arc<Coordinator>>) -> impl IntoResponse {
    match batch_counts(c).await {
        Ok(counts) => {
            let batches: serde_json::Map<_, _> = counts
                .into_iter()
                .map(|(t, n)| {
                    (t.name().to_owned(), json!({"pending": n.pending, "assigned": n.assigned, "proved": n.proved}))
                })
                .collect();
            (StatusCode::OK, Json(json!({"status": "ok", "batches": batches})))
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "error", "error": e}))),
    }
}

async fn metrics(State(c): State<Arc<Coordinator>>) -> impl IntoResponse {
    let Ok(counts) = batch_counts(c.clone()).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n".to_owned()).into_response();
    };
    for (proof_type, n) in counts {
        c.metrics().set_batches(proof_type, "pending", n.pending);
        c.metrics().set_batches(proof_type, "assigned", n.assigned);
        c.metrics().set_batches(proof_type, "proved", n.proved);
    }
    let mut text = String::new();
    match encode(&mut text, &c.metrics().registry) {
        Ok(()) => {
            ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}
