//! Frames and the connection handshake.
//!
//! A frame is `u32 length ‖ body ‖ HMAC-SHA256 tag`, the body `u16 version ‖ postcard(message)`.
//! The tag binds the frame's direction, the connection's two nonces (one chosen by each side)
//! and the frame's sequence number in its direction: a frame is valid once, on one connection,
//! at one position, so a recorded frame cannot be replayed within or across connections, to
//! either side.
//!
//! A connection starts with the handshake: the coordinator sends `Hello{nonce}` (frame 0 of its
//! direction, tagged under its nonce alone, so its tag shows that it holds the secret); the
//! prover answers `Auth{prover, nonce}` with a nonce of its own (frame 0 of its direction), and
//! from that frame on every tag covers both nonces. A recorded session replayed to a prover
//! fails at the first frame after the greeting, tagged under another prover nonce. Until the
//! handshake is done no frame body above [`FrameLimits::max_handshake_frame`] is read: an
//! unauthenticated peer costs a few KB.

use std::{sync::Arc, time::Duration};

use alloy_primitives::B256;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    sync::{OwnedSemaphorePermit, Semaphore},
};

use crate::{Auth, Hello, Message, PROTOCOL_VERSION};

/// Bytes before the body: the big-endian body length.
pub const FRAME_HEADER_BYTES: usize = 4;
/// Bytes after the body: the HMAC-SHA256 tag.
pub const TAG_BYTES: usize = 32;
/// Longest prover identity an `Auth` may carry.
pub const MAX_IDENTITY_BYTES: usize = 128;
const VERSION_BYTES: usize = 2;

/// Which way a frame travels; bound into its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Direction {
    /// Prover to coordinator.
    ToCoordinator = 1,
    /// Coordinator to prover.
    ToProver = 2,
}

impl Direction {
    fn reverse(self) -> Self {
        match self {
            Direction::ToCoordinator => Direction::ToProver,
            Direction::ToProver => Direction::ToCoordinator,
        }
    }
}

/// The shared credential. Its bytes never appear in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey(Vec<u8>);

impl AuthKey {
    /// A key from secret bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// A key from its textual form: `0x`-prefixed hex, or the text's own bytes. Surrounding
    /// whitespace (a file's final newline) is ignored. Refuses secrets shorter than 16 bytes.
    pub fn parse(text: &str) -> Result<Self, ProtocolError> {
        let text = text.trim();
        let bytes = match text.strip_prefix("0x") {
            Some(h) => hex::decode(h).map_err(|e| ProtocolError::WeakSecret(format!("not hex: {e}")))?,
            None => text.as_bytes().to_vec(),
        };
        if bytes.len() < 16 {
            return Err(ProtocolError::WeakSecret(format!("{} bytes; at least 16 are required", bytes.len())));
        }
        Ok(Self(bytes))
    }

    /// The empty key: frames are still tagged, but anyone can compute the tags. Development only.
    pub fn insecure() -> Self {
        Self(Vec::new())
    }

    /// Whether this is [`Self::insecure`].
    pub fn is_insecure(&self) -> bool {
        self.0.is_empty()
    }

    fn mac(&self, direction: Direction, nonces: &Nonces, sequence: u64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(&[direction as u8]);
        mac.update(nonces.coordinator.as_slice());
        mac.update(nonces.prover.as_slice());
        mac.update(&sequence.to_be_bytes());
        mac.update(&(body.len() as u32).to_be_bytes());
        mac.update(body);
        mac
    }
}

impl std::fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_insecure() {
            f.write_str("AuthKey(insecure)")
        } else {
            f.write_str("AuthKey(<redacted>)")
        }
    }
}

/// Size and time bounds on frames.
#[derive(Debug, Clone, Copy)]
pub struct FrameLimits {
    /// Largest body accepted (and sent) once the handshake succeeded.
    pub max_frame: usize,
    /// Largest body accepted before it: a `Hello` or an `Auth`.
    pub max_handshake_frame: usize,
    /// Deadline for reading or writing one whole frame once it has started.
    pub io_timeout: Duration,
    /// How long a connection may wait for the next frame to start.
    pub idle_timeout: Duration,
}

impl Default for FrameLimits {
    fn default() -> Self {
        Self {
            max_frame: 256 << 20,
            max_handshake_frame: 4 << 10,
            io_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

/// Bytes of frame bodies being read at once, over all connections. A body is allocated only
/// once its length fits in the budget, and counts against it until it is decoded.
#[derive(Debug, Clone)]
pub struct FrameBudget {
    semaphore: Arc<Semaphore>,
    total: usize,
}

impl FrameBudget {
    /// A budget of `total` bytes.
    pub fn new(total: usize) -> Self {
        Self { semaphore: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))), total }
    }

    /// The budget.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes held by frames being read now.
    pub fn held(&self) -> usize {
        self.total.min(Semaphore::MAX_PERMITS).saturating_sub(self.semaphore.available_permits())
    }

    /// Waits up to `timeout` for `bytes` of the budget.
    async fn take(&self, bytes: usize, timeout: Duration) -> Result<OwnedSemaphorePermit, ProtocolError> {
        let permits = u32::try_from(bytes).map_err(|_| ProtocolError::Busy)?;
        let acquire = self.semaphore.clone().acquire_many_owned(permits);
        match tokio::time::timeout(timeout, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ProtocolError::Busy),
        }
    }
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// The peer closed the connection between frames.
    #[error("connection closed")]
    Closed,
    /// The peer closed the connection inside a frame.
    #[error("connection closed in the middle of a frame")]
    Truncated,
    /// No frame started within the idle deadline.
    #[error("no frame within {0:?}")]
    Idle(Duration),
    /// A frame did not arrive (or could not be sent) in time once it started.
    #[error("no complete frame within {0:?}")]
    Timeout(Duration),
    /// A frame larger than the limit (before the handshake: the handshake limit).
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    Oversized {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The frames being read already hold the whole byte budget.
    #[error("the coordinator is reading too many frames at once")]
    Busy,
    /// The frame's tag does not verify: another secret, or a frame replayed from another
    /// connection or another position in this one.
    #[error("frame tag does not verify: wrong credential, or a replayed frame")]
    BadTag,
    /// The peer speaks another protocol version.
    #[error("peer speaks protocol version {0}, this build speaks {PROTOCOL_VERSION}")]
    Version(u16),
    /// An authenticated frame whose message cannot be decoded.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The handshake was not followed.
    #[error("handshake: expected {expected}, got {got}")]
    Handshake {
        /// What should have come.
        expected: &'static str,
        /// What came.
        got: &'static str,
    },
    /// A prover identity that is too long or not printable.
    #[error("prover identity: {0}")]
    Identity(String),
    /// A secret too short or not decodable.
    #[error("unusable secret: {0}")]
    WeakSecret(String),
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The two nonces a connection's tags cover: the coordinator's (its `Hello`) and the prover's
/// (its `Auth`; zero in the tag of the `Hello` itself, which comes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Nonces {
    /// Chosen by the coordinator for this connection.
    pub coordinator: B256,
    /// Chosen by the prover for this connection.
    pub prover: B256,
}

impl Nonces {
    /// What the greeting's tag covers: the coordinator's nonce alone.
    pub fn greeting(coordinator: B256) -> Self {
        Self { coordinator, prover: B256::ZERO }
    }
}

/// One side of an authenticated connection: the connection's nonces and the next sequence
/// number of each direction.
#[derive(Debug)]
pub struct Session {
    key: AuthKey,
    nonces: Nonces,
    outgoing: Direction,
    sent: u64,
    received: u64,
}

impl Session {
    /// The coordinator's side of a new connection: greets with `nonce` (fresh for every
    /// connection) and reads the prover's `Auth`, at most [`FrameLimits::max_handshake_frame`]
    /// bytes. Returns the session and the prover's identity.
    pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
        stream: &mut S,
        key: &AuthKey,
        nonce: B256,
        limits: &FrameLimits,
    ) -> Result<(Self, String), ProtocolError> {
        let mut session = Self {
            key: key.clone(),
            nonces: Nonces::greeting(nonce),
            outgoing: Direction::ToProver,
            sent: 0,
            received: 0,
        };
        session.send(stream, &Message::Hello(Hello { nonce }), limits).await?;
        // The prover's nonce is in the body of the frame whose tag covers it: decode first,
        // then verify under both nonces.
        let (body, tag) = read_frame(stream, limits.max_handshake_frame, limits, None).await?;
        let message = decode_body(&body)?;
        let Message::Auth(Auth { prover, nonce: prover_nonce }) = message else {
            return Err(ProtocolError::Handshake { expected: "Auth", got: message.kind() });
        };
        session.nonces.prover = prover_nonce;
        key.mac(Direction::ToCoordinator, &session.nonces, 0, &body)
            .verify_slice(&tag)
            .map_err(|_| ProtocolError::BadTag)?;
        session.received = 1;
        check_identity(&prover)?;
        Ok((session, prover))
    }

    /// The prover's side: reads the coordinator's greeting (checking that its tag verifies under
    /// `key` for the nonce it carries) and answers with `prover`, its identity.
    pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        stream: &mut S,
        key: &AuthKey,
        prover: &str,
        limits: &FrameLimits,
    ) -> Result<Self, ProtocolError> {
        check_identity(prover)?;
        let (body, tag) = read_frame(stream, limits.max_handshake_frame, limits, None).await?;
        let message = decode_body(&body)?;
        let Message::Hello(Hello { nonce }) = message else {
            return Err(ProtocolError::Handshake { expected: "Hello", got: message.kind() });
        };
        key.mac(Direction::ToProver, &Nonces::greeting(nonce), 0, &body)
            .verify_slice(&tag)
            .map_err(|_| ProtocolError::BadTag)?;
        let nonces = Nonces { coordinator: nonce, prover: B256::random() };
        let mut session = Self { key: key.clone(), nonces, outgoing: Direction::ToCoordinator, sent: 0, received: 1 };
        let auth = Auth { prover: prover.to_owned(), nonce: nonces.prover };
        session.send(stream, &Message::Auth(auth), limits).await?;
        Ok(session)
    }

    /// The prover's side of a connection whose handshake a tool or test did by hand: the
    /// greeting read, an `Auth` with `nonces.prover` sent.
    pub fn resume(key: AuthKey, nonces: Nonces) -> Self {
        Self { key, nonces, outgoing: Direction::ToCoordinator, sent: 1, received: 1 }
    }

    /// The next frame of this side around an arbitrary `body`, counted as sent. Tools and tests
    /// use it to build frames a well-behaved peer would not send.
    pub fn seal(&mut self, body: &[u8]) -> Vec<u8> {
        let frame = encode_frame(&self.key, self.outgoing, &self.nonces, self.sent, body);
        self.sent += 1;
        frame
    }

    /// Encodes, tags and writes one message within the deadline.
    pub async fn send<W: AsyncWrite + Unpin>(
        &mut self,
        writer: &mut W,
        message: &Message,
        limits: &FrameLimits,
    ) -> Result<(), ProtocolError> {
        let body = encode_body(message, limits.max_frame)?;
        let frame = encode_frame(&self.key, self.outgoing, &self.nonces, self.sent, &body);
        self.sent += 1;
        let write = async {
            writer.write_all(&frame).await?;
            writer.flush().await
        };
        tokio::time::timeout(limits.io_timeout, write)
            .await
            .map_err(|_| ProtocolError::Timeout(limits.io_timeout))??;
        Ok(())
    }

    /// Reads the next frame (at most `limits.max_frame` bytes, holding `budget` while it is
    /// read), authenticates it as the next one of the peer's direction and decodes its message.
    pub async fn receive<R: AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
        limits: &FrameLimits,
        budget: Option<&FrameBudget>,
    ) -> Result<Message, ProtocolError> {
        let (body, tag) = read_frame(reader, limits.max_frame, limits, budget).await?;
        self.key
            .mac(self.outgoing.reverse(), &self.nonces, self.received, &body)
            .verify_slice(&tag)
            .map_err(|_| ProtocolError::BadTag)?;
        self.received += 1;
        decode_body(&body)
    }
}

fn check_identity(prover: &str) -> Result<(), ProtocolError> {
    if prover.is_empty() || prover.len() > MAX_IDENTITY_BYTES {
        return Err(ProtocolError::Identity(format!("{} bytes, expected 1 to {MAX_IDENTITY_BYTES}", prover.len())));
    }
    if prover.chars().any(|c| c.is_control()) {
        return Err(ProtocolError::Identity("contains control characters".into()));
    }
    Ok(())
}

/// The body of a frame carrying `message`: the protocol version, then the message in postcard;
/// refused if over `max_frame` bytes.
pub fn encode_body(message: &Message, max_frame: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    postcard::to_io(message, &mut body).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if body.len() > max_frame {
        return Err(ProtocolError::Oversized { len: body.len(), max: max_frame });
    }
    Ok(body)
}

fn decode_body(body: &[u8]) -> Result<Message, ProtocolError> {
    let version = u16::from_be_bytes([body[0], body[1]]);
    if version != PROTOCOL_VERSION {
        return Err(ProtocolError::Version(version));
    }
    let (message, rest) =
        postcard::take_from_bytes(&body[VERSION_BYTES..]).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(ProtocolError::Malformed(format!("{} bytes after the message", rest.len())));
    }
    Ok(message)
}

/// A whole frame around `body`: frame `sequence` of `direction` on the connection with
/// `nonces`. (Tools and tests use it to build frames a well-behaved peer would not send.)
pub fn encode_frame(key: &AuthKey, direction: Direction, nonces: &Nonces, sequence: u64, body: &[u8]) -> Vec<u8> {
    let tag = key.mac(direction, nonces, sequence, body).finalize().into_bytes();
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + body.len() + TAG_BYTES);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(body);
    frame.extend_from_slice(&tag);
    frame
}

/// The body and tag of one frame: the length is checked against `max_len` before anything is
/// allocated, the first byte awaited at most `idle_timeout`, the rest at most `io_timeout`.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max_len: usize,
    limits: &FrameLimits,
    budget: Option<&FrameBudget>,
) -> Result<(Vec<u8>, [u8; TAG_BYTES]), ProtocolError> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    let first = tokio::time::timeout(limits.idle_timeout, reader.read(&mut header))
        .await
        .map_err(|_| ProtocolError::Idle(limits.idle_timeout))??;
    if first == 0 {
        return Err(ProtocolError::Closed);
    }
    let timeout = limits.io_timeout;
    let rest = async {
        reader.read_exact(&mut header[first..]).await.map_err(eof_is_truncation)?;
        let len = u32::from_be_bytes(header) as usize;
        if len > max_len {
            return Err(ProtocolError::Oversized { len, max: max_len });
        }
        if len < VERSION_BYTES {
            return Err(ProtocolError::Malformed(format!("a {len}-byte body has no version")));
        }
        let _held = match budget {
            Some(budget) => Some(budget.take(len, timeout).await?),
            None => None,
        };
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).await.map_err(eof_is_truncation)?;
        let mut tag = [0u8; TAG_BYTES];
        reader.read_exact(&mut tag).await.map_err(eof_is_truncation)?;
        Ok((body, tag))
    };
    tokio::time::timeout(timeout, rest).await.map_err(|_| ProtocolError::Timeout(timeout))?
}

fn eof_is_truncation(e: std::io::Error) -> ProtocolError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ProtocolError::Truncated
    } else {
        ProtocolError::Io(e)
    }
}
