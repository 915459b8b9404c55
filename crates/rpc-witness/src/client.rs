//! A JSON-RPC client that retries transient failures and keeps every answer on disk.

use std::{
    cell::Cell,
    path::{Path, PathBuf},
    time::Duration,
};

use alloy_primitives::keccak256;
use backon::{BlockingRetryable, ExponentialBuilder};
use serde_json::{json, Value};

/// A call that did not produce a result.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The node answered with a JSON-RPC error.
    #[error("{method}: node error {code}: {message}")]
    Node {
        /// The method called.
        method: String,
        /// The JSON-RPC error code.
        code: i64,
        /// The node's message.
        message: String,
    },
    /// No usable answer after all retries (connection, HTTP status, malformed body).
    #[error("{method}: {reason} (after {attempts} attempts)")]
    Transport {
        /// The method called.
        method: String,
        /// The last failure.
        reason: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The answer is not what the method returns.
    #[error("{method}: unexpected answer: {reason}")]
    Shape {
        /// The method called.
        method: String,
        /// What is wrong with the answer.
        reason: String,
    },
}

impl RpcError {
    /// Whether the node does not offer the method (so another path should be tried).
    pub fn is_unsupported(&self) -> bool {
        match self {
            // -32601: method not found; geth answers -32600/-32000 with "not supported"/"not available" texts.
            RpcError::Node { code, message, .. } => {
                let m = message.to_ascii_lowercase();
                *code == -32601
                    || m.contains("not found")
                    || m.contains("not supported")
                    || m.contains("not available")
                    || m.contains("unsupported")
                    || m.contains("does not exist")
            }
            _ => false,
        }
    }
}

/// A JSON-RPC endpoint with a disk cache keyed by (endpoint, method, params).
///
/// Results and node errors are cached (both are answers about a fixed block); null results and
/// transport failures are not. Only immutable queries (by block number) belong behind a cache.
/// With a cache, a second run over the same blocks needs no node at all.
#[derive(Debug)]
pub struct RpcClient {
    url: String,
    agent: ureq::Agent,
    cache: Option<PathBuf>,
    attempts: u32,
    backoff: Duration,
    calls: Cell<u64>,
    cache_hits: Cell<u64>,
}

impl RpcClient {
    /// A client for `url`; `cache` is a directory for answers (created if missing).
    pub fn new(url: &str, cache: Option<&Path>) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build();
        Self {
            url: url.to_owned(),
            agent,
            cache: cache.map(Path::to_path_buf),
            attempts: 5,
            backoff: Duration::from_millis(250),
            calls: Cell::new(0),
            cache_hits: Cell::new(0),
        }
    }

    /// Sets how many times a transient failure is tried and the first backoff (doubled each time).
    pub fn with_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.attempts = attempts.max(1);
        self.backoff = backoff;
        self
    }

    /// The endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Requests sent to the node so far (retries not counted twice).
    pub fn calls(&self) -> u64 {
        self.calls.get()
    }

    /// Answers served from the disk cache so far.
    pub fn cache_hits(&self) -> u64 {
        self.cache_hits.get()
    }

    fn cache_path(&self, method: &str, params: &Value) -> Option<PathBuf> {
        let key = keccak256(format!("{}\n{method}\n{params}", self.url));
        self.cache.as_ref().map(|dir| dir.join(format!("{method}-{}.json", &alloy_primitives::hex::encode(key)[..24])))
    }

    /// Calls `method` with `params`, bypassing the cache (for answers that change, such as the
    /// chain head).
    pub fn call_fresh(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        answer_to_result(method, self.send(method, &params)?)
    }

    /// Calls `method` with `params` and returns its `result`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let path = self.cache_path(method, &params);
        if let Some(cached) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
            if let Ok(answer) = serde_json::from_slice::<Value>(&cached) {
                self.cache_hits.set(self.cache_hits.get() + 1);
                return answer_to_result(method, answer);
            }
        }
        let answer = self.send(method, &params)?;
        // A null result ("no such block yet") may change; it is not cached.
        let settled = answer.get("result").is_none_or(|r| !r.is_null());
        if let Some(path) = path.filter(|_| settled) {
            // A failed cache write costs a later refetch, nothing more.
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let tmp = path.with_extension("tmp");
            if std::fs::write(&tmp, answer.to_string()).is_ok() {
                let _ = std::fs::rename(&tmp, &path);
            }
        }
        answer_to_result(method, answer)
    }

    /// One request, retried with exponential backoff on transport errors, HTTP 429 and 5xx,
    /// and rate-limit node errors. Returns the whole JSON-RPC answer (result or error).
    fn send(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        self.calls.set(self.calls.get() + 1);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let attempts = Cell::new(0u32);
        let attempt = || {
            attempts.set(attempts.get() + 1);
            self.send_once(&body)
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.backoff)
            .with_max_delay(Duration::from_secs(30))
            .with_max_times(self.attempts.saturating_sub(1) as usize);
        attempt
            .retry(backoff)
            .sleep(std::thread::sleep)
            .when(|failure: &Failure| failure.transient)
            .notify(|failure: &Failure, delay| tracing::debug!(method, ?delay, reason = %failure.reason, "retrying"))
            .call()
            .map_err(|failure| RpcError::Transport {
                method: method.to_owned(),
                reason: failure.reason,
                attempts: attempts.get(),
            })
    }

    /// One attempt at a request.
    fn send_once(&self, body: &str) -> Result<Value, Failure> {
        let transient = |reason: String| Failure { reason, transient: true };
        match self.agent.post(&self.url).set("content-type", "application/json").send_string(body) {
            Ok(response) => {
                let text = response.into_string().map_err(|e| transient(format!("reading the answer: {e}")))?;
                let answer: Value =
                    serde_json::from_str(&text).map_err(|e| transient(format!("answer is not JSON: {e}")))?;
                let code = answer["error"]["code"].as_i64();
                if code == Some(-32005) || code == Some(429) {
                    return Err(transient(format!("rate limited: {}", answer["error"]["message"])));
                }
                Ok(answer)
            }
            Err(ureq::Error::Status(code, response)) if code != 429 && code < 500 => {
                // A client error is final, but a JSON-RPC error body is still an answer.
                let text = response.into_string().unwrap_or_default();
                match serde_json::from_str::<Value>(&text) {
                    Ok(answer) if answer.get("error").is_some() => Ok(answer),
                    _ => Err(Failure { reason: format!("HTTP {code}"), transient: false }),
                }
            }
            Err(ureq::Error::Status(code, _)) => Err(transient(format!("HTTP {code}"))),
            Err(ureq::Error::Transport(e)) => Err(transient(e.to_string())),
        }
    }
}

/// A failed attempt: why, and whether another attempt can succeed.
#[derive(Debug)]
struct Failure {
    reason: String,
    transient: bool,
}

fn answer_to_result(method: &str, mut answer: Value) -> Result<Value, RpcError> {
    if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
        return Err(RpcError::Node {
            method: method.to_owned(),
            code: error["code"].as_i64().unwrap_or(0),
            message: error["message"].as_str().unwrap_or("").to_owned(),
        });
    }
    match answer.get_mut("result") {
        Some(result) => Ok(result.take()),
        None => Err(RpcError::Shape { method: method.to_owned(), reason: "neither result nor error".into() }),
    }
}
