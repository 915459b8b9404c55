//! The real binaries: a coordinator killed (SIGKILL) with proofs acknowledged and batches
//! assigned, restarted on the same database, then prover processes finish the work. Nothing
//! acknowledged is lost, nothing assigned is handed out again before its timeout, and every
//! batch ends proved exactly once.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use bp_backend::{Backend, ExecBackend, ProofType};
use bp_conformance::{for_each_file, stateless_inputs};
use bp_protocol::{AuthKey, FrameLimits, Message, Request, Submission};

const SECRET: &str = "restart test shared secret";
const BATCHES: usize = 10;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn coordinator(dir: &Path, port: u16, metrics: u16) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_blockprover"))
        .args(["coordinator", "--poll-ms", "100", "--assignment-timeout-secs", "3"])
        .arg("--inputs")
        .arg(dir.join("inputs"))
        .arg("--data-dir")
        .arg(dir.join("coordinator"))
        .arg("--auth-secret-file")
        .arg(dir.join("secret"))
        .env("PROVER_SERVER_LISTEN_IP", "127.0.0.1")
        .env("PROVER_SERVER_LISTEN_PORT", port.to_string())
        .env("BLOCKPROVER_METRICS_ADDR", format!("127.0.0.1:{metrics}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("coordinator starts");
    Process(child)
}

fn health(metrics: u16) -> Option<serde_json::Value> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", metrics)).ok()?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.split("\r\n\r\n").nth(1)?).ok()
}

fn proved(metrics: u16) -> Option<u64> {
    health(metrics)?["batches"]["exec"]["proved"].as_u64()
}

fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn exchange(port: u16, message: &Message) -> Result<Message, bp_prover::ExchangeError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let limits = FrameLimits { max_frame: 64 << 20, io_timeout: Duration::from_secs(5), ..FrameLimits::default() };
    let key = AuthKey::parse(SECRET).unwrap();
    let endpoint = format!("127.0.0.1:{port}");
    runtime.block_on(bp_prover::exchange(&endpoint, &key, "test", &limits, Duration::from_secs(60), message))
}

fn take_work(port: u16) -> bp_protocol::Assignment {
    let request = Message::Request(Request { proof_type: ProofType::Exec, program_id: ExecBackend.program_id() });
    match exchange(port, &request).unwrap() {
        Message::Response(Some(assignment)) => assignment,
        other => panic!("expected work, got {other:?}"),
    }
}

fn write_inputs(dir: &Path) {
    let archive = bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/for_cancun.tar.zst");
    let mut written = 0;
    for_each_file(&archive, &mut |_, text| {
        let Ok(tests) = serde_json::from_str::<serde_json::Value>(&text) else { return };
        for fixture in tests.as_object().into_iter().flat_map(|o| o.values()) {
            if written == BATCHES {
                return;
            }
            let Ok(inputs) = stateless_inputs(fixture) else { continue };
            if let Some(input) = inputs.into_iter().find(|i| !i.blocks[0].body.transactions.is_empty()) {
                std::fs::write(dir.join(format!("b{written:02}.bin")), input.to_binary()).unwrap();
                written += 1;
            }
        }
    })
    .unwrap();
    assert_eq!(written, BATCHES);
}

#[test]
fn a_killed_coordinator_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inputs")).unwrap();
    write_inputs(&dir.path().join("inputs"));
    std::fs::write(dir.path().join("secret"), SECRET).unwrap();
    let (port, metrics) = (free_port(), free_port());

    let mut first = coordinator(dir.path(), port, metrics);
    wait_until(Duration::from_secs(30), "batches loaded", || {
        health(metrics).is_some_and(|h| h["batches"]["exec"]["pending"].as_u64() == Some(BATCHES as u64))
    });
    // A prover process proves three batches and exits.
    let status = Command::new(env!("CARGO_BIN_EXE_blockprover"))
        .args(["prover", "--max-batches", "3", "--name", "early"])
        .arg("--data-dir")
        .arg(dir.path().join("early"))
        .env("PROVER_CLIENT_PROVER_SERVER_ENDPOINT", format!("127.0.0.1:{port}"))
        .env("PROVER_CLIENT_PROVING_TIME_MS", "50")
        .env("BLOCKPROVER_AUTH_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(proved(metrics), Some(3));
    // Two batches are out with a prover when the coordinator dies.
    let in_flight = take_work(port);
    let abandoned = take_work(port);
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    let proof = ExecBackend.prove(&in_flight.input).unwrap();
    let submit = Message::Submit(Submission {
        batch: in_flight.batch,
        proof_type: ProofType::Exec,
        proof: proof.to_bytes(),
        proving_ms: 1,
    });
    assert!(exchange(port, &submit).is_err(), "the coordinator is down");

    let _second = coordinator(dir.path(), port, metrics);
    wait_until(Duration::from_secs(30), "restarted", || health(metrics).is_some());
    assert_eq!(proved(metrics), Some(3), "acknowledged proofs survived the kill");
    // The proof made while the coordinator was down is taken: its assignment survived.
    assert!(matches!(exchange(port, &submit).unwrap(), Message::SubmitAck(_)));
    // The abandoned batch is still assigned: the next request gets a fresh one.
    let next = take_work(port);
    assert!(next.batch != abandoned.batch && next.batch != in_flight.batch);

    // Three prover processes finish everything, including the batches this test abandoned
    // (after their 3 s timeout).
    let provers: Vec<Process> = (0..3)
        .map(|i| {
            Process(
                Command::new(env!("CARGO_BIN_EXE_blockprover"))
                    .args(["prover", "--name", &format!("late{i}")])
                    .arg("--data-dir")
                    .arg(dir.path().join(format!("late{i}")))
                    .env("PROVER_CLIENT_PROVER_SERVER_ENDPOINT", format!("127.0.0.1:{port}"))
                    .env("PROVER_CLIENT_PROVING_TIME_MS", "100")
                    .env("BLOCKPROVER_AUTH_SECRET", SECRET)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    wait_until(Duration::from_secs(120), "all proved", || proved(metrics) == Some(BATCHES as u64));
    drop(provers);
    drop(_second);

    let store = bp_coordinator::Store::open(&dir.path().join("coordinator/coordinator.sqlite")).unwrap();
    let proofs = store.proofs().unwrap();
    assert_eq!(proofs.len(), BATCHES);
    for batch in store.batches().unwrap() {
        let times = store.times_assigned(batch.number, ProofType::Exec).unwrap();
        let expected = if batch.number == abandoned.batch || batch.number == next.batch { 2 } else { 1 };
        assert_eq!(times, expected, "batch {} handed out {times} times", batch.number);
        let stored = &proofs[batch.number as usize];
        let outputs = bp_backend::Proof::from_bytes(&stored.proof).unwrap().outputs().unwrap();
        assert_eq!(outputs.final_state_root, batch.expected.final_state_root);
    }
    assert_eq!(proofs.iter().filter(|p| p.prover == "early").count(), 3);
}
