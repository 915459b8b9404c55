//! Faults: a dead prover, wrong proofs, missing credentials, bad frames — each refused with a
//! reason, none harming other clients.

mod common;

use std::time::{Duration, Instant};

use alloy_primitives::B256;
use bp_backend::{Backend, ExecBackend, Proof, ProofType};
use bp_protocol::{
    encode_frame, Auth, AuthKey, Direction, Hello, Message, Nonces, RejectReason, Request, Session, Submission,
    PROTOCOL_VERSION,
};
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
    Message::Submit(Submission { batch, proof_type: proof.proof_type, proof: proof.to_bytes(), proving_ms: 1 })
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
    let doomed = assigned(send(&endpoint, &key(), &request()).await.unwrap());
    let taken_at = Instant::now();
    assert_eq!(send(&endpoint, &key(), &request()).await.unwrap(), Message::Response(None));
    wait_for(Duration::from_secs(5), || taken_at.elapsed() > Duration::from_millis(850)).await;
    let again = assigned(send(&endpoint, &key(), &request()).await.unwrap());
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
    let first = assigned(send(&endpoint, &key(), &request()).await.unwrap());
    let second = assigned(send(&endpoint, &key(), &request()).await.unwrap());
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
    let risc0 = Message::Request(Request { proof_type: ProofType::Risc0, program_id: B256::ZERO });
    assert_eq!(rejected(send(&endpoint, &key(), &risc0).await.unwrap()), RejectReason::TypeNotNeeded);
    let stale = Message::Request(Request { proof_type: ProofType::Exec, program_id: B256::ZERO });
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
        // The coordinator's greeting does not verify under another secret: the client knows at
        // once, before it sends anything.
        let answer = send(&endpoint, &wrong, &request()).await;
        assert!(answer.as_ref().is_err_and(|e| e.is_unauthorized()), "{answer:?}");
    }
    // A client that ignores the greeting's tag and answers under its guess is cut off unanswered.
    let (closed, _) =
        handshake_then(running.addr, &AuthKey::parse("a guess at the shared secret").unwrap(), |_| Vec::new()).await;
    assert!(closed);
    let store = running.coordinator().store();
    assert_eq!(store.times_assigned(0, ProofType::Exec).unwrap(), 0, "no work handed out");
    assert!(assigned(send(&endpoint, &key(), &request()).await.unwrap()).batch == 0);
    running.shutdown().await;
}

/// Connects, reads the greeting without checking it, answers `Auth` tagged under `key`, then
/// sends what `after` builds from the session; returns whether the coordinator closed the
/// connection without another frame, and the frames it sent after the greeting (raw).
async fn handshake_then(
    addr: std::net::SocketAddr,
    key: &AuthKey,
    after: impl FnOnce(&mut Session) -> Vec<u8>,
) -> (bool, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.unwrap();
    let mut hello = vec![0u8; u32::from_be_bytes(header) as usize + 32];
    stream.read_exact(&mut hello).await.unwrap();
    let Ok(Message::Hello(Hello { nonce })) = postcard::from_bytes(&hello[2..hello.len() - 32]) else {
        panic!("a greeting comes first");
    };
    let nonces = Nonces { coordinator: nonce, prover: B256::repeat_byte(0x99) };
    let auth = Auth { prover: "raw".into(), nonce: nonces.prover };
    let auth = bp_protocol::encode_body(&Message::Auth(auth), 1 << 20).unwrap();
    stream.write_all(&encode_frame(key, Direction::ToCoordinator, &nonces, 0, &auth)).await.unwrap();
    let mut session = Session::resume(key.clone(), nonces);
    let more = after(&mut session);
    stream.write_all(&more).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    (matches!(read, Ok(Ok(_)) | Ok(Err(_))), answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_frame_is_refused_within_and_across_connections() {
    let (running, _dir) = coordinator_with(2, |_| {}).await;
    let addr = running.addr;
    let body = bp_protocol::encode_body(&request(), 1 << 20).unwrap();

    // Within a connection: the same request frame twice. The first is answered, the copy (frame
    // 1 again where frame 2 is due) is refused and the connection closed.
    let mut recorded = Vec::new();
    let (closed, answers) = handshake_then(addr, &key(), |session| {
        let frame = session.seal(&body);
        recorded = frame.clone();
        [frame.clone(), frame].concat()
    })
    .await;
    assert!(closed);
    assert_eq!(count_frames(&answers), 2, "one answer, then the refusal of the copy");

    // Across connections: a frame recorded on one connection is refused on another.
    let (closed, answers) = handshake_then(addr, &key(), |_| recorded.clone()).await;
    assert!(closed);
    assert_eq!(count_frames(&answers), 1, "only the refusal");

    let store = running.coordinator().store();
    let counts = store.counts(ProofType::Exec, 0).unwrap();
    assert_eq!(counts.assigned, 1, "the replays took no work");
    running.shutdown().await;
}

/// How many whole frames `bytes` holds.
fn count_frames(mut bytes: &[u8]) -> usize {
    let mut frames = 0;
    while bytes.len() >= 4 {
        let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize + 4 + 32;
        if bytes.len() < len {
            break;
        }
        bytes = &bytes[len..];
        frames += 1;
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_truncated_oversized_and_slow_frames_are_refused_alone() {
    let (running, _dir) = coordinator_with(1, |c| {
        c.limits.max_frame = 1 << 20;
        c.limits.io_timeout = Duration::from_millis(700);
        c.connections.handshake_timeout = Duration::from_millis(700);
    })
    .await;
    let addr = running.addr;

    // A slow client holds a connection open mid-frame...
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(&[0, 0]).await.unwrap();
    // ...while others are served at once.
    let started = Instant::now();
    assert!(matches!(send(&addr.to_string(), &key(), &request()).await.unwrap(), Message::Response(Some(_))));
    assert!(started.elapsed() < Duration::from_millis(500), "served while a slow frame is pending");

    // Before the handshake, a frame over the handshake limit is refused from its length alone.
    let mut early = TcpStream::connect(addr).await.unwrap();
    early.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
    let mut sink = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), early.read_to_end(&mut sink)).await;
    assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "closed at once");

    // After it: garbage after a valid tag is malformed; a future protocol version a version
    // mismatch; an oversized length is refused from the length alone; a random tag is
    // unauthorized. Each is answered with the reason, then the connection is closed.
    let mut garbage = PROTOCOL_VERSION.to_be_bytes().to_vec();
    garbage.extend_from_slice(&[0xee; 9]);
    for (bytes, reason) in [
        (
            Box::new(move |s: &mut Session| s.seal(&garbage)) as Box<dyn FnOnce(&mut Session) -> Vec<u8> + Send>,
            RejectReason::Malformed,
        ),
        (Box::new(|s: &mut Session| s.seal(&[0, 99, 0])), RejectReason::VersionMismatch),
        (Box::new(|_: &mut Session| (2u32 << 20).to_be_bytes().to_vec()), RejectReason::Malformed),
        (
            Box::new(|s: &mut Session| {
                let mut forged = s.seal(&bp_protocol::encode_body(&request(), 1 << 20).unwrap());
                let end = forged.len();
                forged[end - 32..].fill(0x42);
                forged
            }),
            RejectReason::Unauthorized,
        ),
    ] {
        let (closed, answer) = handshake_then(addr, &key(), bytes).await;
        assert!(closed, "{reason:?}");
        assert_eq!(rejection_in(&answer), Some(reason));
    }
    // Truncated: the peer leaves mid-frame; nothing to answer.
    let whole = {
        let mut s = Session::resume(key(), Nonces::default());
        s.seal(&bp_protocol::encode_body(&request(), 1 << 20).unwrap())
    };
    let (closed, answer) = handshake_then(addr, &key(), |_| whole[..whole.len() - 5].to_vec()).await;
    assert!(closed && answer.is_empty());

    // The slow client is cut off after the handshake deadline.
    let mut rest = [0u8; 256];
    let cut = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match slow.read(&mut rest).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(cut.is_ok(), "closed in time");

    // And the coordinator still works.
    assert_eq!(send(&addr.to_string(), &key(), &request()).await.unwrap(), Message::Response(None));
    let metrics = running.coordinator().store().counts(ProofType::Exec, 0).unwrap();
    assert_eq!(metrics.assigned, 1);
    running.shutdown().await;
}

/// The reason of the `Rejected` message in the frames the coordinator sent (tags not checked).
fn rejection_in(frames: &[u8]) -> Option<RejectReason> {
    let len = u32::from_be_bytes(frames.get(..4)?.try_into().ok()?) as usize;
    match postcard::from_bytes(frames.get(6..4 + len)?) {
        Ok(Message::Rejected(rejection)) => Some(rejection.reason),
        _ => None,
    }
}

/// A source that fails every poll, permanently or not, counting its polls.
struct Failing {
    polls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    permanent: bool,
}

impl bp_coordinator::BatchSource for Failing {
    fn describe(&self) -> String {
        format!("failing (permanent: {})", self.permanent)
    }
    fn poll(&mut self, _: &bp_coordinator::Store) -> Result<usize, bp_coordinator::SourceError> {
        self.polls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(match self.permanent {
            true => bp_coordinator::SourceError::NoBlocks,
            false => bp_coordinator::SourceError::Builder("the node is down".into()),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_cannot_go_on_stops_and_health_says_so() {
    use std::sync::{atomic::Ordering, Arc};
    let dir = tempfile::tempdir().unwrap();
    let permanent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let transient = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sources: Vec<Box<dyn bp_coordinator::BatchSource>> = vec![
        Box::new(Failing { polls: permanent.clone(), permanent: true }),
        Box::new(Failing { polls: transient.clone(), permanent: false }),
    ];
    let running = bp_coordinator::start(config(dir.path()), sources).await.unwrap();
    let transient_polls = transient.clone();
    wait_for(Duration::from_secs(10), move || transient_polls.load(Ordering::Relaxed) >= 3).await;
    // The permanent failure was polled once and never again; the transient one is retried.
    assert_eq!(permanent.load(Ordering::Relaxed), 1);
    let health = http_get_any(running.metrics_addr.unwrap(), "/health").await;
    assert!(health.starts_with("HTTP/1.1 503"), "{health}");
    assert!(health.contains(r#""status":"failing""#) && health.contains(r#""stopped":true"#), "{health}");
    assert!(health.contains("the input has no blocks") && health.contains("the node is down"), "{health}");
    let metrics = http_get(running.metrics_addr.unwrap(), "/metrics").await;
    assert!(metrics.contains(r#"blockprover_source_stopped{source="failing (permanent: true)"} 1"#), "{metrics}");
    // Provers are still served.
    assert_eq!(send(&running.addr.to_string(), &key(), &request()).await.unwrap(), Message::Response(None));
    running.shutdown().await;
}
