//! The prover ⇄ coordinator protocol (the wire format is specified in docs/protocol.md).
//!
//! A prover that is free sends [`Message::Request`]; the coordinator answers
//! [`Message::Response`] with an [`Assignment`] (a batch and its input) or `None` ("nothing to
//! do, retry later"). The prover proves and sends [`Message::Submit`]; the coordinator checks
//! the proof and answers [`Message::SubmitAck`], or [`Message::Rejected`] with a reason. While
//! it proves, it sends [`Message::Heartbeat`]s, which keep the assignment its own; the
//! coordinator answers [`Message::HeartbeatAck`].
//!
//! Every connection starts with a handshake: the coordinator greets with a fresh nonce
//! ([`Message::Hello`]), the prover answers with its identity ([`Message::Auth`]). Every message
//! travels in one frame: a length, the body (protocol version, then the message in postcard),
//! and an HMAC-SHA256 tag under a shared secret that also binds the direction, the connection's
//! nonce and the frame's sequence number ([`Session`]), so only credential holders can take work
//! or submit, an answer cannot be reflected back as a request, and no frame can be replayed.
//! Frames have a maximum size (a few KB until the handshake succeeds) and every read and write
//! a deadline.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod frame;
mod message;

pub use frame::{
    encode_body, encode_frame, AuthKey, Direction, FrameBudget, FrameLimits, Nonces, ProtocolError, Session,
    FRAME_HEADER_BYTES, MAX_IDENTITY_BYTES, TAG_BYTES,
};
pub use message::{
    Assignment, Auth, Heartbeat, HeartbeatAck, Hello, Message, RejectReason, Rejection, Request, Submission, SubmitAck,
    PROTOCOL_VERSION,
};
