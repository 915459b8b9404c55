//! The L2 JSON-RPC server: JSON-RPC 2.0 over HTTP POST (axum), single and batch requests,
//! every size bounded before it is buffered.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    body::Bytes,
    extract::DefaultBodyLimit,
    http::StatusCode,
    routing::{get, post},
    Router,
};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::eth::{Chain, RpcError};

/// Largest request body accepted.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
/// Most calls in one batch request.
pub const MAX_BATCH: usize = 100;

/// Serves `chain` on `listener` until `stop` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    chain: Arc<Chain>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/", post(handle))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(chain);
    axum::serve(listener, app).with_graceful_shutdown(async move { stop.cancelled().await }).await
}

/// Binds `addr` and serves in the background; returns the bound address.
pub async fn spawn(
    addr: SocketAddr,
    chain: Arc<Chain>,
    stop: CancellationToken,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((bound, tokio::spawn(serve(listener, chain, stop))))
}

async fn handle(
    axum::extract::State(chain): axum::extract::State<Arc<Chain>>,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    // The calls take the chain's locks and may execute: off the async workers.
    let answer = tokio::task::spawn_blocking(move || answer(&chain, &body))
        .await
        .unwrap_or_else(|_| error_response(Value::Null, RpcError::internal("the call failed")));
    (StatusCode::OK, [("content-type", "application/json")], answer.to_string())
}

/// `GET /metrics`: the block loop's gauges and the calls served, per method (Prometheus text).
async fn metrics(
    axum::extract::State(chain): axum::extract::State<Arc<Chain>>,
) -> ([(&'static str, &'static str); 1], String) {
    let mut out = chain.status.render();
    out.push_str("# HELP blockprover_rpc_calls_total L2 JSON-RPC calls, by method.\n");
    out.push_str("# TYPE blockprover_rpc_calls_total counter\n");
    let calls = chain.metrics.snapshot();
    for (method, count, _, _) in &calls {
        out.push_str(&format!("blockprover_rpc_calls_total{{method=\"{method}\"}} {count}\n"));
    }
    out.push_str("# HELP blockprover_rpc_errors_total L2 JSON-RPC calls answered with an error, by method.\n");
    out.push_str("# TYPE blockprover_rpc_errors_total counter\n");
    for (method, _, errors, _) in &calls {
        out.push_str(&format!("blockprover_rpc_errors_total{{method=\"{method}\"}} {errors}\n"));
    }
    out.push_str("# HELP blockprover_rpc_seconds_total Time spent answering, by method.\n");
    out.push_str("# TYPE blockprover_rpc_seconds_total counter\n");
    for (method, _, _, took) in &calls {
        out.push_str(&format!("blockprover_rpc_seconds_total{{method=\"{method}\"}} {:.6}\n", took.as_secs_f64()));
    }
    ([("content-type", "text/plain; version=0.0.4")], out)
}

/// The response to one request body.
pub fn answer(chain: &Chain, body: &[u8]) -> Value {
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return error_response(Value::Null, RpcError::new(-32700, format!("parse error: {e}"))),
    };
    match request {
        Value::Array(calls) if calls.is_empty() => {
            error_response(Value::Null, RpcError::new(-32600, "invalid request: empty batch"))
        }
        Value::Array(calls) if calls.len() > MAX_BATCH => error_response(
            Value::Null,
            RpcError::new(-32600, format!("invalid request: batch of {} calls, the most is {MAX_BATCH}", calls.len())),
        ),
        Value::Array(calls) => Value::Array(calls.into_iter().map(|call| one(chain, call)).collect()),
        call => one(chain, call),
    }
}

fn one(chain: &Chain, call: Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = call.get("method").and_then(Value::as_str) else {
        return error_response(id, RpcError::new(-32600, "invalid request: no method"));
    };
    let params = call.get("params").cloned().unwrap_or(Value::Array(Vec::new()));
    let params = match params {
        Value::Array(params) => params,
        _ => return error_response(id, RpcError::new(-32602, "invalid params: positional parameters expected")),
    };
    let started = std::time::Instant::now();
    let result = chain.call(method, &params);
    chain.metrics.record(method, started.elapsed(), result.is_ok());
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(e) => error_response(id, e),
    }
}

fn error_response(id: Value, error: RpcError) -> Value {
    let mut body = json!({ "code": error.code, "message": error.message });
    if let Some(data) = error.data {
        body["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": body })
}
