//! Proving backends: what turns a program input into a proof of the program's public outputs,
//! and checks such a proof. The CLI, the prover client and the coordinator use them only
//! through [`Backend`].
//!
//! - [`ExecBackend`] (`exec`): runs the program natively. Its "proof" carries the public outputs
//!   and nothing else: it convinces no one who does not re-execute. Its verification therefore
//!   *is* re-execution of the batch's input, which the coordinator holds.
//! - zkVM backends (RISC Zero, SP1) are cargo features of the binary; a build without them
//!   answers [`BackendError::NotBuilt`].

mod exec;

pub use exec::ExecBackend;

use alloy_primitives::B256;
use bp_program::ProgramOutput;
use serde::{Deserialize, Serialize};

/// A kind of proof. The wire protocol carries it as its index (see docs/protocol.md), so new
/// kinds are only ever appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ProofType {
    /// Native execution, no cryptographic proof.
    Exec,
    /// A RISC Zero receipt.
    Risc0,
    /// An SP1 proof.
    Sp1,
}

impl ProofType {
    /// Every kind, in wire order.
    pub const ALL: [ProofType; 3] = [ProofType::Exec, ProofType::Risc0, ProofType::Sp1];

    /// The name used on the command line, in logs and in metrics.
    pub fn name(self) -> &'static str {
        match self {
            ProofType::Exec => "exec",
            ProofType::Risc0 => "risc0",
            ProofType::Sp1 => "sp1",
        }
    }

    /// A stable small number, for storage.
    pub fn index(self) -> u8 {
        self as u8
    }

    /// The inverse of [`Self::index`].
    pub fn from_index(index: u8) -> Option<Self> {
        Self::ALL.get(usize::from(index)).copied()
    }
}

impl std::fmt::Display for ProofType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ProofType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown proof type {s:?} (expected exec, risc0 or sp1)"))
    }
}

/// A proof of one batch: which program it is of, the public outputs it commits, and the
/// backend's evidence (empty for `exec`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The backend that produced it.
    pub proof_type: ProofType,
    /// The program's identity for that backend (an image id, a verifying key hash…).
    pub program_id: B256,
    /// [`ProgramOutput::to_public_bytes`] as committed by the proof.
    #[serde(with = "serde_bytes")]
    pub public_outputs: Vec<u8>,
    /// The backend's receipt; empty for `exec`.
    #[serde(with = "serde_bytes")]
    pub receipt: Vec<u8>,
}

impl Proof {
    /// The compact encoding used on the wire and on disk (postcard).
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("a proof always serializes")
    }

    /// Reads [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BackendError> {
        postcard::from_bytes(bytes).map_err(|e| BackendError::MalformedProof(e.to_string()))
    }

    /// The public outputs the proof claims.
    pub fn outputs(&self) -> Result<ProgramOutput, BackendError> {
        ProgramOutput::from_public_bytes(&self.public_outputs)
            .ok_or_else(|| BackendError::MalformedProof(format!("{} bytes of public outputs", self.public_outputs.len())))
    }
}

/// Why a backend could not prove or verify.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// This binary was built without the backend.
    #[error("the {0} backend is not built into this binary (rebuild with `--features {0}`)")]
    NotBuilt(ProofType),
    /// The input bytes are not a program input.
    #[error("the input cannot be read: {0}")]
    Input(#[from] bp_input::CodecError),
    /// The program rejected the input.
    #[error("the program rejected the input: {0}")]
    Program(#[from] bp_program::ProgramError),
    /// The proof bytes cannot be read.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The proof is of another backend or another program.
    #[error("the proof is a {found} proof of program {found_id}, expected a {expected} proof of {expected_id}")]
    WrongProgram { expected: ProofType, expected_id: B256, found: ProofType, found_id: B256 },
    /// The proof does not establish its outputs.
    #[error("the proof does not verify: {0}")]
    Invalid(String),
}

/// A proving backend.
pub trait Backend: Send + Sync {
    /// The kind of proof it makes.
    fn proof_type(&self) -> ProofType;
    /// The identity of the program it proves; a proof of another program is refused.
    fn program_id(&self) -> B256;
    /// Proves the program on a binary program input (`bp_input` `BPIN` form).
    fn prove(&self, input: &[u8]) -> Result<Proof, BackendError>;
    /// Checks `proof` and returns the outputs it establishes. `input` is the batch's binary
    /// input: zkVM backends do not need it, `exec` re-executes it.
    fn verify(&self, proof: &Proof, input: &[u8]) -> Result<ProgramOutput, BackendError>;
}

/// The backend for `proof_type`, if this binary has it.
pub fn backend(proof_type: ProofType) -> Result<Box<dyn Backend>, BackendError> {
    match proof_type {
        ProofType::Exec => Ok(Box::new(ExecBackend)),
        other => Err(BackendError::NotBuilt(other)),
    }
}

/// Checks that `proof` is of `backend`'s kind and program.
pub fn check_identity(backend: &dyn Backend, proof: &Proof) -> Result<(), BackendError> {
    if proof.proof_type != backend.proof_type() || proof.program_id != backend.program_id() {
        return Err(BackendError::WrongProgram {
            expected: backend.proof_type(),
            expected_id: backend.program_id(),
            found: proof.proof_type,
            found_id: proof.program_id,
        });
    }
    Ok(())
}
