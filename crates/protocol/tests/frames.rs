//! Frames and sessions: the handshake, round trips, and every way a frame can be wrong refused
//! with its own error, replays included.

use std::time::Duration;

use alloy_primitives::B256;
use bp_backend::ProofType;
use bp_protocol::{
    encode_body, encode_frame, AuthKey, Direction, FrameLimits, Message, Nonces, ProtocolError, Request, Session,
    PROTOCOL_VERSION,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

fn key() -> AuthKey {
    AuthKey::parse("0x000102030405060708090a0b0c0d0e0f").unwrap()
}

fn limits() -> FrameLimits {
    FrameLimits {
        max_frame: 1 << 16,
        max_handshake_frame: 256,
        io_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(300),
    }
}

fn request() -> Message {
    Message::Request(Request { proof_type: ProofType::Exec, program_id: B256::repeat_byte(7) })
}

/// Both sides of a fresh connection, handshake done: (coordinator session and stream, prover
/// session and stream). Every connection has its own nonce, as the coordinator draws them.
async fn connected() -> ((Session, DuplexStream), (Session, DuplexStream)) {
    static CONNECTIONS: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);
    let (mut a, mut b) = tokio::io::duplex(1 << 20);
    let nonce = B256::repeat_byte(CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let coordinator = async { Session::accept(&mut a, &key(), nonce, &limits()).await };
    let prover = async { Session::connect(&mut b, &key(), "p1", &limits()).await };
    let (coordinator, prover) = tokio::join!(coordinator, prover);
    let (coordinator, name) = coordinator.unwrap();
    assert_eq!(name, "p1");
    ((coordinator, a), (prover.unwrap(), b))
}

#[tokio::test]
async fn handshake_then_round_trip_in_both_directions() {
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    for _ in 0..3 {
        prover.send(&mut b, &request(), &limits()).await.unwrap();
        assert_eq!(coordinator.receive(&mut a, &limits(), None).await.unwrap(), request());
        coordinator.send(&mut a, &Message::Response(None), &limits()).await.unwrap();
        assert_eq!(prover.receive(&mut b, &limits(), None).await.unwrap(), Message::Response(None));
    }
}

#[tokio::test]
async fn layout() {
    let body = encode_body(&request(), 1 << 16).unwrap();
    assert_eq!(u16::from_be_bytes([body[0], body[1]]), PROTOCOL_VERSION);
    // Variant 0 (Request), proof type 0 (Exec), then the 32-byte id as a length-prefixed byte string.
    assert_eq!(&body[2..5], &[0, 0, 32]);
    let frame = encode_frame(&key(), Direction::ToCoordinator, &Nonces::default(), 0, &body);
    assert_eq!(frame.len(), 4 + body.len() + 32);
    assert_eq!(u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize, body.len());
}

#[tokio::test]
async fn a_wrong_secret_fails_the_handshake_on_both_sides() {
    let (mut a, mut b) = tokio::io::duplex(1 << 20);
    let other = AuthKey::parse("another secret of enough bytes").unwrap();
    let coordinator = async { Session::accept(&mut a, &key(), B256::ZERO, &limits()).await };
    let prover = async {
        let result = Session::connect(&mut b, &other, "p1", &limits()).await;
        drop(b);
        result
    };
    let (coordinator, prover) = tokio::join!(coordinator, prover);
    assert!(matches!(prover, Err(ProtocolError::BadTag)), "the prover cannot verify the greeting");
    assert!(coordinator.is_err());
}

#[tokio::test]
async fn replayed_reflected_and_forged_frames_are_refused() {
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    let body = encode_body(&request(), 1 << 16).unwrap();
    let frame = prover.seal(&body);
    b.write_all(&frame).await.unwrap();
    assert_eq!(coordinator.receive(&mut a, &limits(), None).await.unwrap(), request());
    // The same frame again: its sequence number is spent.
    b.write_all(&frame).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::BadTag)));

    // On another connection (another nonce) the recorded frame does not verify either.
    let ((mut other, mut c), (_, mut d)) = connected().await;
    d.write_all(&frame).await.unwrap();
    assert!(matches!(other.receive(&mut c, &limits(), None).await, Err(ProtocolError::BadTag)));

    // A coordinator's frame reflected back to it as if the prover sent it.
    let ((mut coordinator, mut a), (_, mut b)) = connected().await;
    let reflected = coordinator.seal(&body);
    b.write_all(&reflected).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::BadTag)));

    // A flipped bit.
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    let mut flipped = prover.seal(&body);
    flipped[8] ^= 1;
    b.write_all(&flipped).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::BadTag)));
}

/// A man in the middle replays a recorded session to a prover: the greeting still verifies (it
/// is tagged under the coordinator's nonce alone), but the prover answers with a nonce of its
/// own, and the recorded coordinator frames, tagged under the recorded prover's nonce, do not.
#[tokio::test]
async fn a_recorded_session_replayed_to_a_prover_is_refused() {
    let coordinator_nonce = B256::repeat_byte(0xc0);
    let recorded = Nonces { coordinator: coordinator_nonce, prover: B256::repeat_byte(0x9a) };
    let hello = encode_body(&Message::Hello(bp_protocol::Hello { nonce: coordinator_nonce }), 1 << 16).unwrap();
    let response = encode_body(&Message::Response(None), 1 << 16).unwrap();
    let mut replay = encode_frame(&key(), Direction::ToProver, &Nonces::greeting(coordinator_nonce), 0, &hello);
    let answer = encode_frame(&key(), Direction::ToProver, &recorded, 1, &response);
    replay.extend_from_slice(&answer);

    let (mut middle, mut b) = tokio::io::duplex(1 << 20);
    middle.write_all(&replay).await.unwrap();
    let mut prover = Session::connect(&mut b, &key(), "p1", &limits()).await.expect("the greeting verifies");
    assert!(matches!(prover.receive(&mut b, &limits(), None).await, Err(ProtocolError::BadTag)));
    // The same frame does verify for the prover whose nonce it was recorded with.
    let (mut middle, mut c) = tokio::io::duplex(1 << 20);
    middle.write_all(&answer).await.unwrap();
    let mut original = Session::resume(key(), recorded);
    assert_eq!(original.receive(&mut c, &limits(), None).await.unwrap(), Message::Response(None));
}

#[tokio::test]
async fn oversized_truncated_version_and_garbage() {
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    b.write_all(&(1u32 << 30).to_be_bytes()).await.unwrap();
    assert!(matches!(
        coordinator.receive(&mut a, &limits(), None).await,
        Err(ProtocolError::Oversized { len, .. }) if len == 1 << 30
    ));
    let big = Message::Rejected(bp_protocol::Rejection {
        reason: bp_protocol::RejectReason::Internal,
        detail: "x".repeat(1 << 17),
    });
    let mut sink = Vec::new();
    assert!(matches!(prover.send(&mut sink, &big, &limits()).await, Err(ProtocolError::Oversized { .. })));
    assert!(sink.is_empty(), "nothing is sent when the frame is too big");

    let ((mut coordinator, mut a), (mut prover, b)) = connected().await;
    let frame = prover.seal(&encode_body(&request(), 1 << 16).unwrap());
    let mut b = b;
    b.write_all(&frame[..frame.len() - 1]).await.unwrap();
    drop(b);
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::Truncated)));

    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    b.write_all(&prover.seal(&[0, 99, 0])).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::Version(99))));
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    let [high, low] = PROTOCOL_VERSION.to_be_bytes();
    b.write_all(&prover.seal(&[high, low, 0xff, 0xff, 0xff])).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::Malformed(_))));
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    let mut trailing = encode_body(&request(), 1 << 16).unwrap();
    trailing.push(0);
    b.write_all(&prover.seal(&trailing)).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::Malformed(_))));
}

#[tokio::test]
async fn before_the_handshake_only_small_frames_are_read() {
    let (mut a, mut b) = tokio::io::duplex(1 << 20);
    let coordinator = async { Session::accept(&mut a, &key(), B256::ZERO, &limits()).await };
    let attacker = async {
        let mut hello = [0u8; 128];
        let _ = b.read(&mut hello).await;
        b.write_all(&(4096u32).to_be_bytes()).await.unwrap();
        b
    };
    let (coordinator, _b) = tokio::join!(coordinator, attacker);
    assert!(matches!(coordinator, Err(ProtocolError::Oversized { len: 4096, max: 256 })));
}

#[tokio::test]
async fn slow_and_idle_peers_time_out() {
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    // Nothing at all: the idle deadline.
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::Idle(_))));
    // Part of a frame: the I/O deadline.
    let frame = prover.seal(&encode_body(&request(), 1 << 16).unwrap());
    b.write_all(&frame[..5]).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), None).await, Err(ProtocolError::Timeout(_))));
}

#[tokio::test]
async fn the_frame_budget_holds_what_frames_being_read_take() {
    let budget = bp_protocol::FrameBudget::new(100);
    let ((mut coordinator, mut a), (mut prover, mut b)) = connected().await;
    let body = encode_body(&request(), 1 << 16).unwrap();
    assert!(body.len() < 100);
    b.write_all(&prover.seal(&body)).await.unwrap();
    assert_eq!(coordinator.receive(&mut a, &limits(), Some(&budget)).await.unwrap(), request());
    assert_eq!(budget.held(), 0, "given back once read");
    // A frame larger than what is left waits, then is refused as busy.
    let small = bp_protocol::FrameBudget::new(10);
    b.write_all(&prover.seal(&body)).await.unwrap();
    assert!(matches!(coordinator.receive(&mut a, &limits(), Some(&small)).await, Err(ProtocolError::Busy)));
}

#[test]
fn secrets() {
    assert!(AuthKey::parse("short").is_err());
    assert!(AuthKey::parse("0xzz").is_err());
    assert_eq!(AuthKey::parse("0123456789abcdef\n").unwrap(), AuthKey::parse("0123456789abcdef").unwrap());
    assert_eq!(format!("{:?}", key()), "AuthKey(<redacted>)");
}
