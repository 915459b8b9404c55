//! Frames: round trip, and every way a frame can be wrong is refused with its own error.

use std::time::Duration;

use alloy_primitives::B256;
use bp_backend::ProofType;
use bp_protocol::{
    read_message, write_message, AuthKey, Direction, FrameLimits, Message, ProtocolError, Request, PROTOCOL_VERSION,
};

fn key() -> AuthKey {
    AuthKey::parse("0x000102030405060708090a0b0c0d0e0f").unwrap()
}

fn limits() -> FrameLimits {
    FrameLimits { max_frame: 1 << 16, io_timeout: Duration::from_millis(300) }
}

fn request() -> Message {
    Message::Request(Request { proof_type: ProofType::Exec, program_id: B256::repeat_byte(7), prover: "p1".into() })
}

async fn encode(message: &Message, key: &AuthKey, direction: Direction) -> Vec<u8> {
    let mut out = Vec::new();
    write_message(&mut out, key, direction, message, &limits()).await.unwrap();
    out
}

async fn decode(bytes: &[u8], key: &AuthKey, direction: Direction) -> Result<Message, ProtocolError> {
    read_message(&mut &bytes[..], key, direction, &limits()).await
}

#[tokio::test]
async fn round_trip_and_layout() {
    let bytes = encode(&request(), &key(), Direction::ToCoordinator).await;
    let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(bytes.len(), 4 + len + 32);
    assert_eq!(u16::from_be_bytes([bytes[4], bytes[5]]), PROTOCOL_VERSION);
    assert_eq!(decode(&bytes, &key(), Direction::ToCoordinator).await.unwrap(), request());
    // Variant 0 (Request), proof type 0 (Exec), then the 32-byte id as a length-prefixed byte string.
    assert_eq!(&bytes[6..9], &[0, 0, 32]);
}

#[tokio::test]
async fn wrong_key_or_direction_is_refused() {
    let bytes = encode(&request(), &key(), Direction::ToCoordinator).await;
    let other = AuthKey::parse("another secret of enough bytes").unwrap();
    assert!(matches!(decode(&bytes, &other, Direction::ToCoordinator).await, Err(ProtocolError::BadTag)));
    assert!(matches!(decode(&bytes, &AuthKey::insecure(), Direction::ToCoordinator).await, Err(ProtocolError::BadTag)));
    // A coordinator's answer cannot be replayed to it as if it came from a prover.
    assert!(matches!(decode(&bytes, &key(), Direction::ToProver).await, Err(ProtocolError::BadTag)));
    let mut flipped = bytes.clone();
    flipped[8] ^= 1;
    assert!(matches!(decode(&flipped, &key(), Direction::ToCoordinator).await, Err(ProtocolError::BadTag)));
}

#[tokio::test]
async fn truncated_oversized_and_empty() {
    let bytes = encode(&request(), &key(), Direction::ToCoordinator).await;
    assert!(matches!(decode(&[], &key(), Direction::ToCoordinator).await, Err(ProtocolError::Closed)));
    for cut in [2, 4, 10, bytes.len() - 1] {
        let got = decode(&bytes[..cut], &key(), Direction::ToCoordinator).await;
        assert!(matches!(got, Err(ProtocolError::Truncated)), "cut at {cut}: {got:?}");
    }
    let huge = (1u32 << 30).to_be_bytes();
    assert!(matches!(
        decode(&huge, &key(), Direction::ToCoordinator).await,
        Err(ProtocolError::Oversized { len, .. }) if len == 1 << 30
    ));
    let big =
        Message::Request(Request { proof_type: ProofType::Exec, program_id: B256::ZERO, prover: "x".repeat(1 << 17) });
    let mut sink = Vec::new();
    let err = write_message(&mut sink, &key(), Direction::ToCoordinator, &big, &limits()).await;
    assert!(matches!(err, Err(ProtocolError::Oversized { .. })));
    assert!(sink.is_empty(), "nothing is sent when the frame is too big");
}

fn frame(body: &[u8]) -> Vec<u8> {
    bp_protocol::encode_frame(&key(), Direction::ToCoordinator, body)
}

#[tokio::test]
async fn version_and_garbage_bodies() {
    let future = frame(&[0, 2, 0, 0]);
    assert!(matches!(decode(&future, &key(), Direction::ToCoordinator).await, Err(ProtocolError::Version(2))));
    let garbage = frame(&[0, 1, 0xff, 0xff, 0xff]);
    assert!(matches!(decode(&garbage, &key(), Direction::ToCoordinator).await, Err(ProtocolError::Malformed(_))));
    let mut trailing = encode(&request(), &key(), Direction::ToCoordinator).await;
    let body_len = trailing.len() - 36;
    let mut body = trailing[4..4 + body_len].to_vec();
    body.push(0);
    trailing = frame(&body);
    assert!(matches!(decode(&trailing, &key(), Direction::ToCoordinator).await, Err(ProtocolError::Malformed(_))));
    let short = frame(&[0]);
    assert!(matches!(decode(&short, &key(), Direction::ToCoordinator).await, Err(ProtocolError::Malformed(_))));
}

#[tokio::test]
async fn a_slow_frame_times_out() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    let bytes = encode(&request(), &key(), Direction::ToCoordinator).await;
    tokio::io::AsyncWriteExt::write_all(&mut client, &bytes[..5]).await.unwrap();
    let got = read_message(&mut server, &key(), Direction::ToCoordinator, &limits()).await;
    assert!(matches!(got, Err(ProtocolError::Timeout(_))), "{got:?}");
}

#[test]
fn secrets() {
    assert!(AuthKey::parse("short").is_err());
    assert!(AuthKey::parse("0xzz").is_err());
    assert_eq!(AuthKey::parse("0123456789abcdef\n").unwrap(), AuthKey::parse("0123456789abcdef").unwrap());
    assert_eq!(format!("{:?}", key()), "AuthKey(<redacted>)");
}
