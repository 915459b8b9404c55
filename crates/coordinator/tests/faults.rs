//! Faults: a dead prover, wrong proofs, missing credentials, bad frames — each refused with a
//! reason, none harming other clients.

mod common;

use std::time::{Duration, Instant};

use alloy_primitives::B256;
use bp_backend::{Backend, ExecBackend, Proof, ProofType};
use bp_protocol::{AuthKey, Direction, Message, RejectReason, Request, Submission, PROTOCOL_VERSION};
use common::*;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

fn assigned(answer: Message) -> bp_protocol::Assignment {
    match answer {
        Message::Response(Some(assignment)) => assignment,
        other => panic!("expected work, got {other:?}"),
    }
}

fn rejected(answer: Message) -> RejectReason {
    match answer {
        Message::Rejected(rejection) => rejection.reason,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn submission(batch: u64, proof: &Proof) -> Message {
    Message::Submit(Submission {
        batch,
        proof_type: proof.proof_type,
        proof: proof.to_bytes(),
        prover: "t".into(),
        proving_ms: 1,
    })
}

async fn coordinator_with(
    n: usize,
    tweak: impl FnOnce(&mut bp_coordinator::CoordinatorConfig),
) -> (bp_coordinator::Running, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inputs")).unwrap();
    write_inputs(&dir.path().join("inputs"), &conformance_inputs(n));
    let mut config = config(dir.path());
    tweak(&mut config);
    let running = start(config, &dir.path().join("inputs"), n as u64).await;
    (running, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_provers_batch_is_handed_out_again_after_the_timeout() {
    let (running, _dir) = coordinator_with(1, |c| c.assignment_timeout = Duration::from_millis(800)).await;
    let endpoint = running.addr.to_string();
    // This prover takes the batch and dies without a word.
    let doomed = assigned(send(&endpoint, &key(), &request("doomed")).await.unwrap());
    let taken_at = Instant::now();
    assert_eq!(send(&endpoint, &key(), &request("healthy")).await.unwrap(), Message::Response(None));
    wait_for(Duration::from_secs(5), || taken_at.elapsed() > Duration::from_millis(850)).await;
    let again = assigned(send(&endpoint, &key(), &request("healthy")).await.unwrap());
    assert_eq!(again.batch, doomed.batch);
    let store = running.coordinator().store();
    assert_eq!(store.times_assigned(again.batch, ProofType::Exec).unwrap(), 2);
    let proof = ExecBackend.prove(&again.input).unwrap();
    assert!(matches!(send(&endpoint, &key(), &submission(again.batch, &proof)).await.unwrap(), Message::SubmitAck(_)));
    assert_eq!(store.counts(ProofType::Exec, 0).unwrap().proved, 1);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_proofs_and_requests_are_refused_with_a_reason() {
    let (running, _dir) = coordinator_with(3, |_| {}).await;
    let endpoint = running.addr.to_string();
    let store = running.coordinator().store();
    let first = assigned(send(&endpoint, &key(), &request("p")).await.unwrap());
    let second = assigned(send(&endpoint, &key(), &request("p")).await.unwrap());
    let good = ExecBackend.prove(&first.input).unwrap();
    let other = ExecBackend.prove(&second.input).unwrap();
    let submit = |batch, proof: Proof| {
        let endpoint = endpoint.clone();
        async move { send(&endpoint, &key(), &submission(batch, &proof)).await.unwrap() }
    };

    // Outputs of another batch.
    assert_eq!(rejected(submit(first.batch, other.clone()).await), RejectReason::OutputMismatch);
    // The batch's outputs with evidence attached: an exec proof carries none, so it does not verify.
    let mut forged = good.clone();
    forged.receipt = vec![1, 2, 3];
    assert_eq!(rejected(submit(first.batch, forged).await), RejectReason::InvalidProof);
    // A proof of another program version.
    let mut foreign = good.clone();
    foreign.program_id = B256::repeat_byte(9);
    assert_eq!(rejected(submit(first.batch, foreign).await), RejectReason::VersionMismatch);
    // Garbage in place of a proof.
    let garbage = Message::Submit(Submission {
        batch: first.batch,
        proof_type: ProofType::Exec,
        proof: vec![0xff; 40],
        prover: "t".into(),
        proving_ms: 0,
    });
    assert_eq!(rejected(send(&endpoint, &key(), &garbage).await.unwrap()), RejectReason::Malformed);
    // No such batch; a batch never handed out.
    assert_eq!(rejected(submit(99, good.clone()).await), RejectReason::UnknownBatch);
    assert_eq!(rejected(submit(2, good.clone()).await), RejectReason::NotAssigned);
    assert_eq!(store.counts(ProofType::Exec, 0).unwrap().proved, 0, "nothing stored so far");

    // The right proof, twice: stored once, acknowledged both times.
    assert!(matches!(submit(first.batch, good.clone()).await, Message::SubmitAck(a) if a.batch == first.batch));
    assert!(matches!(submit(first.batch, good.clone()).await, Message::SubmitAck(a) if a.batch == first.batch));
    assert_eq!(store.proofs().unwrap().len(), 1);

    // A prover of an unneeded type, or of another program version.
    let risc0 = Message::Request(Request { proof_type: ProofType::Risc0, program_id: B256::ZERO, prover: "r".into() });
    assert_eq!(rejected(send(&endpoint, &key(), &risc0).await.unwrap()), RejectReason::TypeNotNeeded);
    let stale = Message::Request(Request { proof_type: ProofType::Exec, program_id: B256::ZERO, prover: "old".into() });
    assert_eq!(rejected(send(&endpoint, &key(), &stale).await.unwrap()), RejectReason::VersionMismatch);
    // A message only a coordinator sends.
    assert_eq!(rejected(send(&endpoint, &key(), &Message::Response(None)).await.unwrap()), RejectReason::Malformed);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_the_credential_get_nothing() {
    let (running, _dir) = coordinator_with(1, |_| {}).await;
    let endpoint = running.addr.to_string();
    for wrong in [AuthKey::insecure(), AuthKey::parse("a guess at the shared secret").unwrap()] {
        // The refusal is tagged with the real credential, so the impostor cannot even read it.
        let answer = send(&endpoint, &wrong, &request("intruder")).await;
        assert!(
            matches!(
                answer,
                Err(bp_prover::ExchangeError::Protocol { source: bp_protocol::ProtocolError::BadTag, .. })
            ),
            "{answer:?}"
        );
    }
    // Under the real credential the refusal reads as `unauthorized`.
    let mut stream = TcpStream::connect(running.addr).await.unwrap();
    let frame = encode(&AuthKey::parse("a guess at the shared secret").unwrap(), &request("intruder")).await;
    stream.write_all(&frame).await.unwrap();
    let answer =
        bp_protocol::read_message(&mut stream, &key(), Direction::ToProver, &Default::default()).await.unwrap();
    assert_eq!(rejected(answer), RejectReason::Unauthorized);
    let store = running.coordinator().store();
    assert_eq!(store.times_assigned(0, ProofType::Exec).unwrap(), 0, "no work handed out");
    assert!(assigned(send(&endpoint, &key(), &request("member")).await.unwrap()).batch == 0);
    running.shutdown().await;
}

async fn encode(key: &AuthKey, message: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    bp_protocol::write_message(&mut out, key, Direction::ToCoordinator, message, &Default::default()).await.unwrap();
    out
}

/// A frame with a valid tag around an arbitrary body.
fn tagged(body: &[u8]) -> Vec<u8> {
    bp_protocol::encode_frame(&key(), Direction::ToCoordinator, body)
}

/// Sends raw bytes, then reads the answer (if any) and whether the coordinator closed.
async fn raw(addr: std::net::SocketAddr, bytes: &[u8], close_write: bool) -> (Option<Message>, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    if close_write {
        stream.shutdown().await.unwrap();
    }
    let limits = bp_protocol::FrameLimits { max_frame: 1 << 20, io_timeout: Duration::from_secs(5) };
    let answer = bp_protocol::read_message(&mut stream, &key(), Direction::ToProver, &limits).await.ok();
    let mut rest = [0u8; 1];
    let closed =
        matches!(tokio::time::timeout(Duration::from_secs(5), stream.read(&mut rest)).await, Ok(Ok(0)) | Ok(Err(_)));
    (answer, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_truncated_oversized_and_slow_frames_are_refused_alone() {
    let (running, _dir) = coordinator_with(1, |c| {
        c.limits.max_frame = 1 << 20;
        c.limits.io_timeout = Duration::from_millis(700);
    })
    .await;
    let addr = running.addr;

    // A slow client holds a connection open mid-frame...
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let whole = encode(&key(), &request("slow")).await;
    slow.write_all(&whole[..7]).await.unwrap();
    // ...while others are served at once.
    let started = Instant::now();
    assert!(matches!(send(&addr.to_string(), &key(), &request("quick")).await.unwrap(), Message::Response(Some(_))));
    assert!(started.elapsed() < Duration::from_millis(500), "served while a slow frame is pending");

    // Garbage after a valid tag: malformed.
    let mut body = PROTOCOL_VERSION.to_be_bytes().to_vec();
    body.extend_from_slice(&[0xee; 9]);
    let (answer, closed) = raw(addr, &tagged(&body), false).await;
    assert_eq!(rejected(answer.unwrap()), RejectReason::Malformed);
    assert!(closed);
    // A future protocol version: version mismatch.
    let (answer, _) = raw(addr, &tagged(&[0, 99, 0]), false).await;
    assert_eq!(rejected(answer.unwrap()), RejectReason::VersionMismatch);
    // Oversized: refused from the length alone.
    let (answer, closed) = raw(addr, &(2u32 << 20).to_be_bytes(), false).await;
    assert_eq!(rejected(answer.unwrap()), RejectReason::Malformed);
    assert!(closed);
    // Truncated: the peer leaves mid-frame; nothing to answer.
    let (answer, closed) = raw(addr, &whole[..whole.len() - 5], true).await;
    assert!(answer.is_none() && closed);
    // A short body without its tag, then the peer leaves.
    let (answer, closed) = raw(addr, &[0, 0, 0, 3, 1, 2, 3, 4, 5, 6], true).await;
    assert!(answer.is_none() && closed);
    // A whole frame whose tag is random: unauthorized.
    let mut forged = whole.clone();
    let end = forged.len();
    forged[end - 32..].fill(0x42);
    let (answer, closed) = raw(addr, &forged, false).await;
    assert_eq!(rejected(answer.unwrap()), RejectReason::Unauthorized);
    assert!(closed);

    // The slow client is cut off after the I/O deadline.
    let mut rest = [0u8; 64];
    let cut = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut rest)).await.expect("closed in time");
    assert!(matches!(cut, Ok(0) | Err(_)), "{cut:?}");

    // And the coordinator still works.
    assert_eq!(send(&addr.to_string(), &key(), &request("after")).await.unwrap(), Message::Response(None));
    let metrics = running.coordinator().store().counts(ProofType::Exec, 0).unwrap();
    assert_eq!(metrics.assigned, 1);
    running.shutdown().await;
}
