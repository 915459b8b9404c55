//! The messages. Field and variant order is the wire format: within a protocol version, only
//! append.

use alloy_primitives::B256;
use bp_backend::ProofType;
use serde::{Deserialize, Serialize};

/// The version of the message set and framing this build speaks.
pub const PROTOCOL_VERSION: u16 = 4;

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Prover → coordinator: "I am free, give me work".
    Request(Request),
    /// Coordinator → prover: a batch to prove, or `None`: nothing to do, retry later.
    Response(Option<Assignment>),
    /// Prover → coordinator: a proof of a batch.
    Submit(Submission),
    /// Coordinator → prover: the proof is stored (also for a proof it already had).
    SubmitAck(SubmitAck),
    /// Coordinator → prover: refused, with why.
    Rejected(Rejection),
    /// Coordinator → prover, first on every connection: the connection's nonce.
    Hello(Hello),
    /// Prover → coordinator, first on every connection: who it is.
    Auth(Auth),
    /// Prover → coordinator, while it proves an assigned batch: "still working", or, once, "I
    /// give it up" (it is stopping).
    Heartbeat(Heartbeat),
    /// Coordinator → prover: the answer to a heartbeat.
    HeartbeatAck(HeartbeatAck),
}

impl Message {
    /// A short name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Request(_) => "Request",
            Message::Response(_) => "Response",
            Message::Submit(_) => "Submit",
            Message::SubmitAck(_) => "SubmitAck",
            Message::Rejected(_) => "Rejected",
            Message::Hello(_) => "Hello",
            Message::Auth(_) => "Auth",
            Message::Heartbeat(_) => "Heartbeat",
            Message::HeartbeatAck(_) => "HeartbeatAck",
        }
    }
}

/// What a free prover says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The kind of proof it makes.
    pub proof_type: ProofType,
    /// The identity of the program it proves (see `bp_backend::Backend::program_id`).
    pub program_id: B256,
}

/// The coordinator's greeting: every later frame of the connection, in both directions, is
/// tagged under this nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Fresh random bytes, one value per connection.
    pub nonce: B256,
}

/// The prover's answer to the greeting; its tag (under both nonces) is what authenticates it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auth {
    /// A name for logs and metrics (1 to 128 printable bytes); the credential is the secret.
    pub prover: String,
    /// Fresh random bytes of the prover, one value per connection: every later tag covers them,
    /// so a session recorded with another prover nonce cannot be replayed to this prover.
    pub nonce: B256,
}

/// A batch handed to a prover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The batch number.
    pub batch: u64,
    /// The proof kind wanted.
    pub proof_type: ProofType,
    /// First block of the batch (for progress lines).
    pub first_block: u64,
    /// Last block of the batch.
    pub last_block: u64,
    /// Gas used by the batch's blocks.
    pub gas_used: u64,
    /// The binary program input.
    #[serde(with = "serde_bytes")]
    pub input: Vec<u8>,
    /// How often to send a [`Heartbeat`] while proving, in milliseconds: a prover silent for
    /// several times this long loses the batch to another.
    pub heartbeat_ms: u64,
}

/// A prover's word on a batch it was assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// The batch.
    pub batch: u64,
    /// The proof kind it was assigned for.
    pub proof_type: ProofType,
    /// Units proved so far (RISC Zero: segments); 0 of 0 where the backend cannot tell.
    pub done: u64,
    /// Units in all.
    pub total: u64,
    /// The prover stops without a proof: the batch goes back to the queue now.
    pub abandon: bool,
}

/// The coordinator's answer to a [`Heartbeat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// The batch.
    pub batch: u64,
    /// The proof kind.
    pub proof_type: ProofType,
    /// Whether the batch is still this prover's (false: it went to another prover after this
    /// one fell silent, or it is proved already; a proof still counts if it comes first).
    pub held: bool,
}

/// A proof of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    /// The batch proved.
    pub batch: u64,
    /// The proof's kind.
    pub proof_type: ProofType,
    /// `bp_backend::Proof::to_bytes`.
    #[serde(with = "serde_bytes")]
    pub proof: Vec<u8>,
    /// How long proving took, as the prover measured it.
    pub proving_ms: u64,
}

/// A stored proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitAck {
    /// The batch.
    pub batch: u64,
    /// The proof's kind.
    pub proof_type: ProofType,
}

/// A refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Why, as a stable code.
    pub reason: RejectReason,
    /// A human-readable explanation.
    pub detail: String,
}

/// Why a message was refused. Stable: metrics are labelled by [`RejectReason::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectReason {
    /// Another protocol version, or a proof/request for another program version.
    VersionMismatch,
    /// The coordinator needs no proofs of this kind.
    TypeNotNeeded,
    /// The frame's tag does not verify under the coordinator's credential.
    Unauthorized,
    /// The frame or message cannot be read, or it is a message the coordinator never takes.
    Malformed,
    /// No such batch.
    UnknownBatch,
    /// The batch was never handed out for this proof kind.
    NotAssigned,
    /// The proof's public outputs are not the batch's.
    OutputMismatch,
    /// The proof does not verify.
    InvalidProof,
    /// The coordinator cannot take the connection now.
    Busy,
    /// The coordinator failed (storage); retry later.
    Internal,
}

impl RejectReason {
    /// Every reason, for metrics.
    pub const ALL: [RejectReason; 10] = [
        RejectReason::VersionMismatch,
        RejectReason::TypeNotNeeded,
        RejectReason::Unauthorized,
        RejectReason::Malformed,
        RejectReason::UnknownBatch,
        RejectReason::NotAssigned,
        RejectReason::OutputMismatch,
        RejectReason::InvalidProof,
        RejectReason::Busy,
        RejectReason::Internal,
    ];

    /// snake_case name for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            RejectReason::VersionMismatch => "version_mismatch",
            RejectReason::TypeNotNeeded => "type_not_needed",
            RejectReason::Unauthorized => "unauthorized",
            RejectReason::Malformed => "malformed",
            RejectReason::UnknownBatch => "unknown_batch",
            RejectReason::NotAssigned => "not_assigned",
            RejectReason::OutputMismatch => "output_mismatch",
            RejectReason::InvalidProof => "invalid_proof",
            RejectReason::Busy => "busy",
            RejectReason::Internal => "internal",
        }
    }

    /// Whether retrying the same message later can succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, RejectReason::Busy | RejectReason::Internal)
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason.name(), self.detail)
    }
}
