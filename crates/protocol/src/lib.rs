//! The prover ⇄ coordinator protocol (the wire format is specified in docs/protocol.md).
//!
//! A prover that is free sends [`Message::Request`]; the coordinator answers
//! [`Message::Response`] with an [`Assignment`] (a batch and its input) or `None` ("nothing to
//! do, retry later"). The prover proves and sends [`Message::Submit`]; the coordinator checks
//! the proof and answers [`Message::SubmitAck`], or [`Message::Rejected`] with a reason.
//!
//! Every message travels in one frame: a length, the body (protocol version, then the message in
//! postcard), and an HMAC-SHA256 tag under a shared secret that also binds the direction, so
//! only credential holders can take work or submit, and an answer cannot be reflected back as a
//! request. Frames have a maximum size and every read and write a deadline.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod frame;
mod message;

pub use frame::{
    encode_frame, read_message, write_message, AuthKey, Direction, FrameLimits, ProtocolError, FRAME_HEADER_BYTES,
    TAG_BYTES,
};
pub use message::{Assignment, Message, RejectReason, Rejection, Request, Submission, SubmitAck, PROTOCOL_VERSION};
