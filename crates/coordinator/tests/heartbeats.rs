//! Long proofs: a prover's heartbeats keep its batch its own past the assignment deadline, a
//! silent prover loses it, a stopping prover gives it back at once, and `/health` and
//! `/metrics` show who proves what.

mod common;

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use bp_backend::{
    Backend, BackendError, ExecBackend, Execution, Progress, Proof, ProofFormat, ProofType, PublicOutput,
};
use bp_coordinator::{now_ms, Running};
use bp_protocol::{Heartbeat, HeartbeatAck, Message};
use bp_prover::Prover;
use common::*;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_millis(800);

async fn coordinator(batches: usize) -> (Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inputs")).unwrap();
    write_inputs(&dir.path().join("inputs"), &conformance_inputs(batches));
    let mut config = config(dir.path());
    config.assignment_timeout = DEADLINE;
    let running = start(config, &dir.path().join("inputs"), batches as u64).await;
    (running, dir)
}

fn beat(batch: u64, done: u64, abandon: bool) -> Message {
    Message::Heartbeat(Heartbeat { batch, proof_type: ProofType::Exec, done, total: 10, abandon })
}

/// Whether the coordinator still counts the batch as `name`'s.
async fn held(endpoint: &str, name: &str, message: &Message) -> bool {
    match send_as(endpoint, &key(), name, message).await.unwrap() {
        Message::HeartbeatAck(HeartbeatAck { held, .. }) => held,
        other => panic!("expected a heartbeat's answer, got {other:?}"),
    }
}

async fn take(endpoint: &str, name: &str) -> Option<bp_protocol::Assignment> {
    match send_as(endpoint, &key(), name, &request()).await.unwrap() {
        Message::Response(assignment) => assignment,
        other => panic!("expected a response, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_batch_past_its_deadline_and_a_silent_prover_loses_it() {
    let (running, _dir) = coordinator(1).await;
    let endpoint = running.addr.to_string();
    let assignment = take(&endpoint, "slow").await.expect("work");
    assert_eq!(assignment.heartbeat_ms, 200, "four heartbeats fit in the deadline");

    // Three deadlines long, the prover says every 200 ms that it is still proving: nobody else
    // gets the batch.
    let started = Instant::now();
    let mut done = 0;
    while started.elapsed() < 3 * DEADLINE {
        done += 1;
        assert!(held(&endpoint, "slow", &beat(assignment.batch, done, false)).await);
        assert!(take(&endpoint, "eager").await.is_none(), "the batch is under way");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Who proves what, in /health and /metrics.
    let metrics_addr = running.metrics_addr.unwrap();
    let health = http_get(metrics_addr, "/health").await;
    assert!(
        health.contains(r#""prover":"slow""#) && health.contains(&format!(r#""segments_done":{done}"#)),
        "{health}"
    );
    let metrics = http_get(metrics_addr, "/metrics").await;
    assert!(metrics.contains(r#"blockprover_prover_batch{prover="slow",proof_type="exec"} 0"#), "{metrics}");
    assert!(metrics.contains(r#"blockprover_prover_segments_total{prover="slow",proof_type="exec"} 10"#), "{metrics}");
    assert!(metrics.contains(r#"blockprover_heartbeats_total{outcome="kept"}"#), "{metrics}");

    // Then it falls silent: after the deadline the next prover gets the batch, and the silent
    // one hears that it is no longer its own.
    tokio::time::sleep(DEADLINE + Duration::from_millis(100)).await;
    let again = take(&endpoint, "eager").await.expect("the silent prover's batch is handed out again");
    assert_eq!(again.batch, assignment.batch);
    assert!(!held(&endpoint, "slow", &beat(assignment.batch, done, false)).await);
    assert!(held(&endpoint, "eager", &beat(assignment.batch, 1, false)).await);
    let metrics = http_get(metrics_addr, "/metrics").await;
    assert!(!metrics.contains(r#"prover_batch{prover="slow""#), "a prover that lost its batch drops out: {metrics}");
    // Its proof still counts if it comes first: the first proof that verifies is kept.
    let proof = ExecBackend.prove(&assignment.input).unwrap();
    let submitted = Message::Submit(bp_protocol::Submission {
        batch: assignment.batch,
        proof_type: ProofType::Exec,
        proof: proof.to_bytes(),
        proving_ms: 1,
    });
    assert!(matches!(send_as(&endpoint, &key(), "slow", &submitted).await.unwrap(), Message::SubmitAck(_)));
    assert!(!held(&endpoint, "eager", &beat(assignment.batch, 2, false)).await, "proved: no longer anyone's");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_given_back_goes_to_the_next_prover_at_once_and_strangers_hold_nothing() {
    let (running, _dir) = coordinator(1).await;
    let endpoint = running.addr.to_string();
    let assignment = take(&endpoint, "leaving").await.expect("work");
    // A prover that was never given the batch cannot keep it or give it back, nor any batch.
    assert!(!held(&endpoint, "stranger", &beat(assignment.batch, 0, false)).await);
    assert!(!held(&endpoint, "stranger", &beat(assignment.batch, 0, true)).await);
    assert!(!held(&endpoint, "leaving", &beat(99, 0, false)).await);
    assert!(take(&endpoint, "next").await.is_none());

    assert!(held(&endpoint, "leaving", &beat(assignment.batch, 3, true)).await);
    let next = take(&endpoint, "next").await.expect("given back: handed out without waiting for the deadline");
    assert_eq!(next.batch, assignment.batch);
    assert!(!held(&endpoint, "leaving", &beat(assignment.batch, 3, false)).await);
    running.shutdown().await;
}

/// The exec backend, made slow: ten "segments" of 100 ms each (or until `quit`), counted in the
/// progress as RISC Zero's are.
#[derive(Debug)]
struct Slow {
    quit: Arc<AtomicBool>,
    segments: u64,
}

impl Backend for Slow {
    fn proof_type(&self) -> ProofType {
        ProofType::Exec
    }
    fn program_id(&self) -> alloy_primitives::B256 {
        ExecBackend.program_id()
    }
    fn execute(&self, input: &[u8]) -> Result<Execution, BackendError> {
        ExecBackend.execute(input)
    }
    fn prove_as(&self, input: &[u8], format: ProofFormat, progress: &Progress) -> Result<Proof, BackendError> {
        progress.start(self.segments);
        for _ in 0..self.segments {
            if self.quit.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            progress.advance();
        }
        ExecBackend.prove_as(input, format, progress)
    }
    fn verify_needs_input(&self) -> bool {
        true
    }
    fn verify(&self, proof: &Proof, input: &[u8]) -> Result<PublicOutput, BackendError> {
        ExecBackend.verify(proof, input)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prover_keeps_its_long_proof_alive_and_a_stopped_one_gives_the_batch_back_within_a_second() {
    let (running, dir) = coordinator(2).await;
    let endpoint = running.addr.to_string();
    let store = running.coordinator().store();
    let quit = Arc::new(AtomicBool::new(false));
    let backend = Arc::new(Slow { quit: quit.clone(), segments: 30 });
    let stop = CancellationToken::new();
    let config = prover_config(&endpoint, dir.path().join("prover"), "slow");
    let prover = tokio::spawn(Prover::new(config, backend).unwrap().run(stop.clone()));

    // A 3-second proof against a 0.8-second deadline: the heartbeats keep it the prover's,
    // with its progress.
    wait_for(Duration::from_secs(10), || {
        store.open_assignments().unwrap().iter().any(|a| {
            a.prover == "slow" && a.is_held(now_ms()) && a.heartbeat_ms > a.assigned_ms + DEADLINE.as_millis() as u64
        })
    })
    .await;
    let open = store.open_assignments().unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].total, 30);
    assert!(open[0].done > 0, "{open:?}");
    assert_eq!(store.times_assigned(open[0].batch, ProofType::Exec).unwrap(), 1, "never handed to another");

    // Stopped mid-proof: the prover returns at once and the batch is free again.
    let stopped = Instant::now();
    stop.cancel();
    let stats = tokio::time::timeout(Duration::from_secs(1), prover).await.expect("stops within a second");
    assert_eq!(stats.unwrap().unwrap().proved, 0);
    assert!(stopped.elapsed() < Duration::from_secs(1));
    assert_eq!(store.open_assignments().unwrap()[0].expires_ms, 0, "given back");
    assert_eq!(take(&endpoint, "next").await.map(|a| a.batch), Some(open[0].batch));
    quit.store(true, Ordering::Relaxed);
    running.shutdown().await;
}
