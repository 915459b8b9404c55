//! Frames: `u32 length ‖ body ‖ HMAC-SHA256 tag`, body = `u16 version ‖ postcard(message)`.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{Message, PROTOCOL_VERSION};

/// Bytes before the body: the big-endian body length.
pub const FRAME_HEADER_BYTES: usize = 4;
/// Bytes after the body: the HMAC-SHA256 tag.
pub const TAG_BYTES: usize = 32;
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

    fn mac(&self, direction: Direction, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(&[direction as u8]);
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
    /// Largest body accepted (and sent).
    pub max_frame: usize,
    /// Deadline for reading or writing one whole frame.
    pub io_timeout: Duration,
}

impl Default for FrameLimits {
    fn default() -> Self {
        Self { max_frame: 256 << 20, io_timeout: Duration::from_secs(30) }
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
    /// A frame did not arrive (or could not be sent) in time.
    #[error("no complete frame within {0:?}")]
    Timeout(Duration),
    /// A frame larger than the limit.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    Oversized {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The frame's tag does not verify under our credential.
    #[error("frame tag does not verify: wrong or missing credential")]
    BadTag,
    /// The peer speaks another protocol version.
    #[error("peer speaks protocol version {0}, this build speaks {PROTOCOL_VERSION}")]
    Version(u16),
    /// An authenticated frame whose message cannot be decoded.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A secret too short or not decodable.
    #[error("unusable secret: {0}")]
    WeakSecret(String),
    /// The connection failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Encodes and writes one message within the deadline.
pub async fn write_message<W: AsyncWrite + Unpin>(
    writer: &mut W,
    key: &AuthKey,
    direction: Direction,
    message: &Message,
    limits: &FrameLimits,
) -> Result<(), ProtocolError> {
    let mut body = Vec::with_capacity(64);
    body.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    postcard::to_io(message, &mut body).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
    if body.len() > limits.max_frame {
        return Err(ProtocolError::Oversized { len: body.len(), max: limits.max_frame });
    }
    let frame = encode_frame(key, direction, &body);
    let write = async {
        writer.write_all(&frame).await?;
        writer.flush().await
    };
    tokio::time::timeout(limits.io_timeout, write).await.map_err(|_| ProtocolError::Timeout(limits.io_timeout))??;
    Ok(())
}

/// A whole frame around `body` (version and message bytes, or anything else: tools and tests
/// use it to build frames a well-behaved peer would not send).
pub fn encode_frame(key: &AuthKey, direction: Direction, body: &[u8]) -> Vec<u8> {
    let tag = key.mac(direction, body).finalize().into_bytes();
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + body.len() + TAG_BYTES);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(body);
    frame.extend_from_slice(&tag);
    frame
}

/// Reads one whole frame within the deadline, authenticates it and decodes its message.
/// The length is checked before anything is allocated.
pub async fn read_message<R: AsyncRead + Unpin>(
    reader: &mut R,
    key: &AuthKey,
    direction: Direction,
    limits: &FrameLimits,
) -> Result<Message, ProtocolError> {
    let body = tokio::time::timeout(limits.io_timeout, read_frame(reader, limits.max_frame))
        .await
        .map_err(|_| ProtocolError::Timeout(limits.io_timeout))??;
    let (body, tag) = body.split_at(body.len() - TAG_BYTES);
    key.mac(direction, body).verify_slice(tag).map_err(|_| ProtocolError::BadTag)?;
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

/// The body and tag of one frame.
async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R, max_frame: usize) -> Result<Vec<u8>, ProtocolError> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    let first = reader.read(&mut header).await?;
    if first == 0 {
        return Err(ProtocolError::Closed);
    }
    reader.read_exact(&mut header[first..]).await.map_err(eof_is_truncation)?;
    let len = u32::from_be_bytes(header) as usize;
    if len > max_frame {
        return Err(ProtocolError::Oversized { len, max: max_frame });
    }
    if len < VERSION_BYTES {
        return Err(ProtocolError::Malformed(format!("a {len}-byte body has no version")));
    }
    let mut body = vec![0u8; len + TAG_BYTES];
    reader.read_exact(&mut body).await.map_err(eof_is_truncation)?;
    Ok(body)
}

fn eof_is_truncation(e: std::io::Error) -> ProtocolError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ProtocolError::Truncated
    } else {
        ProtocolError::Io(e)
    }
}
