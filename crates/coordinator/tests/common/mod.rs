//! Shared by the coordinator's service tests: inputs, a coordinator on 127.0.0.1, provers.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use bp_backend::{Backend, ExecBackend, ProofType};
use bp_conformance::{for_each_file, stateless_inputs};
use bp_coordinator::{ConnectionLimits, CoordinatorConfig, DirSource, Running};
use bp_input::ProgramInput;
use bp_protocol::{AuthKey, FrameLimits, Message, Request};
use bp_prover::{Prover, ProverConfig, ProverStats};
use tokio_util::sync::CancellationToken;

/// Logs to the test's captured output (shown when a test fails); `BLOCKPROVER_LOG` filters.
pub(crate) fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BLOCKPROVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

pub(crate) fn key() -> AuthKey {
    init_logs();
    AuthKey::parse("a shared secret for the service tests").unwrap()
}

/// Up to `n` single-block inputs with transactions from the EEST Prague suite, one per test.
pub(crate) fn conformance_inputs(n: usize) -> Vec<ProgramInput> {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/for_prague.tar.zst");
    let mut found = Vec::new();
    for_each_file(&archive, &mut |_, text| {
        if found.len() >= n {
            return;
        }
        let Ok(tests) = serde_json::from_str::<serde_json::Value>(&text) else { return };
        for fixture in tests.as_object().into_iter().flat_map(|o| o.values()) {
            if found.len() >= n {
                return;
            }
            if let Ok(inputs) = stateless_inputs(fixture) {
                if let Some(input) = inputs.into_iter().find(|i| !i.blocks[0].body.transactions.is_empty()) {
                    found.push(input);
                }
            }
        }
    })
    .expect("the Prague suite is readable");
    assert_eq!(found.len(), n, "enough Prague tests with transactions");
    found
}

/// Writes `inputs` into `dir` as binary program inputs named `c00.bin`, `c01.bin`…
pub(crate) fn write_inputs(dir: &Path, inputs: &[ProgramInput]) {
    for (i, input) in inputs.iter().enumerate() {
        std::fs::write(dir.join(format!("c{i:02}.bin")), input.to_binary()).unwrap();
    }
}

/// Links the four real blocks of the fixtures into `dir`.
pub(crate) fn link_real_blocks(dir: &Path) -> usize {
    let real = bp_testkit::fixtures().join("real-blocks");
    let files = [
        "hoodi-prague-ethrex-replay/cache_hoodi_1281069.json.zst",
        "mainnet-raiko-guest-input/ethereum-20612842.json.zst",
        "mainnet-zeth-rpc-cache/1-18884864.json.gz",
        "mainnet-zeth-rpc-cache/1-21230867.json.gz",
    ];
    for file in files {
        let target = real.join(file).canonicalize().expect("fixture present");
        let name = format!("r-{}", Path::new(file).file_name().unwrap().to_str().unwrap());
        std::os::unix::fs::symlink(target, dir.join(name)).unwrap();
    }
    files.len()
}

pub(crate) fn config(data: &Path) -> CoordinatorConfig {
    CoordinatorConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        db: data.join("coordinator.sqlite"),
        key: key(),
        limits: FrameLimits { max_frame: 64 << 20, io_timeout: Duration::from_secs(2), ..FrameLimits::default() },
        connections: ConnectionLimits { frame_budget: 256 << 20, ..ConnectionLimits::default() },
        required: vec![ProofType::Exec],
        assignment_timeout: Duration::from_secs(60),
        source_poll: Duration::from_millis(100),
        settlement: None,
    }
}

/// Starts a coordinator over `inputs` and waits until it has `batches` batches.
pub(crate) async fn start(config: CoordinatorConfig, inputs: &Path, batches: u64) -> Running {
    let source = Box::new(DirSource::new(inputs, None));
    let running = bp_coordinator::start(config, vec![source]).await.expect("coordinator starts");
    wait_for(Duration::from_secs(60), || {
        running.coordinator().store().counts(ProofType::Exec, 0).map(|c| c.pending + c.assigned + c.proved).unwrap_or(0)
            == batches
    })
    .await;
    running
}

pub(crate) async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "condition not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub(crate) fn prover_config(endpoint: &str, data: PathBuf, name: &str) -> ProverConfig {
    ProverConfig {
        endpoints: vec![endpoint.to_owned()],
        poll_interval: Duration::from_millis(50),
        name: name.to_owned(),
        data_dir: data,
        key: key(),
        limits: limits(),
        reply_timeout: Duration::from_secs(60),
        submit_attempts: 5,
        submit_backoff: Duration::from_millis(50),
        max_batches: None,
        max_refusals: 3,
        idle_report: Duration::from_secs(60),
    }
}

/// A client's frame limits.
pub(crate) fn limits() -> FrameLimits {
    FrameLimits { max_frame: 64 << 20, io_timeout: Duration::from_secs(5), ..FrameLimits::default() }
}

/// Runs a prover until `stop` is cancelled; returns its stats.
pub(crate) fn spawn_prover(config: ProverConfig, stop: CancellationToken) -> tokio::task::JoinHandle<ProverStats> {
    let prover = Prover::new(config, Arc::new(ExecBackend)).expect("prover");
    tokio::spawn(async move { prover.run(stop).await.expect("the prover is not refused") })
}

/// An exec prover's work request.
pub(crate) fn request() -> Message {
    Message::Request(Request { proof_type: ProofType::Exec, program_id: ExecBackend.program_id() })
}

/// One exchange on a fresh connection, as prover `name`.
pub(crate) async fn send_as(
    endpoint: &str,
    key: &AuthKey,
    name: &str,
    message: &Message,
) -> Result<Message, bp_prover::ExchangeError> {
    bp_prover::exchange(endpoint, key, name, &limits(), Duration::from_secs(60), message).await
}

/// One exchange on a fresh connection, as prover `test`.
pub(crate) async fn send(
    endpoint: &str,
    key: &AuthKey,
    message: &Message,
) -> Result<Message, bp_prover::ExchangeError> {
    send_as(endpoint, key, "test", message).await
}

/// A minimal HTTP GET (the endpoint is ours; no client crate needed for one request) that must
/// answer 200.
pub(crate) async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let text = http_get_any(addr, path).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}

/// The whole HTTP answer to a GET, status line first.
pub(crate) async fn http_get_any(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text
}
