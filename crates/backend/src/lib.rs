//! Proving backends: what turns a program input into a proof of the program's public outputs,
//! and checks such a proof. The CLI, the prover client and the coordinator use them only
//! through [`Backend`].
//!
//! - [`ExecBackend`] (`exec`): runs the program natively. Its "proof" carries the public outputs
//!   and nothing else: it convinces no one who does not re-execute. Its verification therefore
//!   *is* re-execution of the batch's input, which the coordinator holds.
//! - [`Risc0Backend`] (`risc0`, cargo feature `risc0`): the same program as a RISC Zero guest
//!   (guests/risc0). Its proof is a receipt binding the public outputs to the guest's image id;
//!   it verifies without the input.
//! - [`Sp1Backend`] (`sp1`, cargo feature `sp1`): the same program as an SP1 guest (guests/sp1).
//!   Its proof binds the public outputs to the guest's verifying key.
//! - A build without a zkVM backend answers [`BackendError::NotBuilt`] for it (docs/zkvm.md
//!   says what runs where).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod exec;
pub mod gpu;
mod progress;
#[cfg(feature = "risc0")]
mod risc0;
#[cfg(feature = "sp1")]
mod sp1;

pub use exec::ExecBackend;
pub use progress::Progress;
#[cfg(feature = "risc0")]
pub use risc0::Risc0Backend;
#[cfg(feature = "sp1")]
pub use sp1::Sp1Backend;

use alloy_primitives::B256;
use bp_program::{cycles::RegionCycles, ProgramOutput};
pub use bp_stateless::PublicOutput;
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

/// The member of `all` called `s` (any case), or an error listing the names: "unknown proof
/// type \"x\" (expected exec, risc0 or sp1)".
fn by_name<T: Copy>(all: &[T], name: fn(T) -> &'static str, s: &str, what: &str) -> Result<T, String> {
    if let Some(found) = all.iter().copied().find(|t| name(*t).eq_ignore_ascii_case(s)) {
        return Ok(found);
    }
    let names: Vec<&str> = all.iter().map(|t| name(*t)).collect();
    let expected = match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(format!("unknown {what} {s:?} (expected {expected})"))
}

impl std::str::FromStr for ProofType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        by_name(&Self::ALL, Self::name, s, "proof type")
    }
}

/// How much proof to make. RISC Zero names: `composite` is one STARK per segment (size grows with
/// the run), `succinct` one recursive STARK, `groth16` a SNARK for an L1 verifier contract. SP1
/// calls the first two `core` and `compressed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProofFormat {
    /// One STARK per segment.
    #[default]
    Composite,
    /// Segments joined into one STARK by the recursion circuit.
    Succinct,
    /// A succinct proof wrapped in Groth16 over BN254.
    Groth16,
}

impl ProofFormat {
    /// Every format, smallest effort first.
    pub const ALL: [ProofFormat; 3] = [ProofFormat::Composite, ProofFormat::Succinct, ProofFormat::Groth16];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ProofFormat::Composite => "composite",
            ProofFormat::Succinct => "succinct",
            ProofFormat::Groth16 => "groth16",
        }
    }
}

impl std::fmt::Display for ProofFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ProofFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        by_name(&Self::ALL, Self::name, s, "proof format")
    }
}

/// What running the program (without proving) established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// What a proof of the run commits: a batch's outputs, or an EIP-8025 result.
    pub output: PublicOutput,
    /// Gas used by the batch.
    pub gas_used: u64,
    /// Why an EIP-8025 payload is invalid (its result's flag is false), as the native run
    /// found it.
    pub invalid: Option<bp_stateless::InvalidPayload>,
    /// For a zkVM backend, where the cycles went.
    pub cycles: Option<Cycles>,
}

/// A zkVM run's cycle counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycles {
    /// Cycles the guest executed (what the program costs).
    pub user: u64,
    /// Cycles the zkVM spent paging memory in and out.
    pub paging: u64,
    /// What is proved: user and paging cycles, padded to power-of-two segments (SP1: the user
    /// cycles).
    pub total: u64,
    /// Segments the executor split the run into (RISC Zero); `None` where the prover decides
    /// (SP1 cuts shards while proving).
    pub segments: Option<usize>,
    /// SP1's prover gas: its estimate of the proving work, in which a precompile call weighs as
    /// much as the rows its chips add, where the cycles count it as one instruction. `None`
    /// for RISC Zero, whose accelerator calls take cycles of their own.
    pub prover_gas: Option<u64>,
    /// The guest's own count per program region.
    pub regions: RegionCycles,
}

impl Cycles {
    /// User cycles per unit of gas (the figure zkVM guests are compared by).
    pub fn per_gas(&self) -> Option<f64> {
        (self.regions.gas_used > 0).then(|| self.user as f64 / self.regions.gas_used as f64)
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
    /// [`PublicOutput::to_bytes`] as committed by the proof.
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

    /// What the proof claims to commit.
    pub fn public_output(&self) -> Result<PublicOutput, BackendError> {
        PublicOutput::from_bytes(&self.public_outputs)
            .map_err(|e| BackendError::MalformedProof(format!("public outputs: {e}")))
    }

    /// The batch's public outputs the proof claims (a proof of an EIP-8025 result is refused).
    pub fn outputs(&self) -> Result<ProgramOutput, BackendError> {
        self.public_output()?.batch().map_err(|e| BackendError::MalformedProof(e.to_string()))
    }
}

/// Why a backend could not prove or verify.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// This binary was built without the backend.
    #[error("the {0} backend is not built into this binary (rebuild with `--features {0}`)")]
    NotBuilt(ProofType),
    /// The input bytes are not a program input, or the program rejected the batch.
    #[error(transparent)]
    Run(#[from] bp_stateless::RunError),
    /// The proof bytes cannot be read.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The backend cannot make this format in this build or on this machine.
    #[error("{0}")]
    Unsupported(String),
    /// The zkVM failed to run or to prove (the guest panicked, ran out of memory…).
    #[error("the {backend} zkVM failed: {message}")]
    Zkvm {
        /// The zkVM.
        backend: ProofType,
        /// What it said.
        message: String,
    },
    /// The proof is of another backend or another program.
    #[error("the proof is a {found} proof of program {found_id}, expected a {expected} proof of {expected_id}")]
    WrongProgram {
        /// The backend that checked it.
        expected: ProofType,
        /// That backend's program.
        expected_id: B256,
        /// The proof's backend.
        found: ProofType,
        /// The proof's program.
        found_id: B256,
    },
    /// The proof does not establish its outputs.
    #[error("the proof does not verify: {0}")]
    Invalid(String),
    /// Proving on a GPU was asked for and is not possible here, or the GPU prover failed.
    #[error(transparent)]
    Gpu(#[from] gpu::GpuError),
}

/// A proving backend.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The kind of proof it makes.
    fn proof_type(&self) -> ProofType;
    /// The identity of the program it proves; a proof of another program is refused.
    fn program_id(&self) -> B256;
    /// Runs the program without proving on `input`: a binary program input (`bp_input`'s
    /// `BPIN` form) or an EIP-8025 SSZ stateless input (see [`bp_stateless::run`]).
    fn execute(&self, input: &[u8]) -> Result<Execution, BackendError>;
    /// Proves the program on `input` (as [`Self::execute`] takes it), in the format the
    /// backend makes by default ([`ProofFormat::Composite`]).
    fn prove(&self, input: &[u8]) -> Result<Proof, BackendError> {
        self.prove_as(input, ProofFormat::default(), &Progress::default())
    }
    /// Proves in the given format, reporting how far it got in `progress`.
    fn prove_as(&self, input: &[u8], format: ProofFormat, progress: &Progress) -> Result<Proof, BackendError>;
    /// Whether [`Self::verify`] needs the batch's input (only `exec`, which re-executes).
    fn verify_needs_input(&self) -> bool {
        false
    }
    /// Checks `proof` and returns what it establishes. `input` is what was proved: zkVM
    /// backends do not need it, `exec` re-executes it.
    fn verify(&self, proof: &Proof, input: &[u8]) -> Result<PublicOutput, BackendError>;
}

/// Host memory one proof of `proof_type` holds at its peak, as measured on the shared
/// fixtures' small blocks (docs/zkvm.md): RISC Zero's prover about 9.7 GB (it proves one 2^20-cycle
/// segment at a time, so a longer block takes longer, not more), SP1's core prover 17.0 GB;
/// exec next to nothing. What a machine must hold per prover proving at once.
pub fn proving_memory_bytes(proof_type: ProofType) -> u64 {
    match proof_type {
        ProofType::Exec => 0,
        ProofType::Risc0 => 9_700_000_000,
        ProofType::Sp1 => 17_000_000_000,
    }
}

/// Whether this binary was built with the backend of `proof_type`.
pub fn backend_built(proof_type: ProofType) -> bool {
    match proof_type {
        ProofType::Exec => true,
        ProofType::Risc0 => cfg!(feature = "risc0"),
        ProofType::Sp1 => cfg!(feature = "sp1"),
    }
}

/// The backend for `proof_type`, if this binary has it.
pub fn backend(proof_type: ProofType) -> Result<Box<dyn Backend>, BackendError> {
    match proof_type {
        ProofType::Exec => Ok(Box::new(ExecBackend)),
        #[cfg(feature = "risc0")]
        ProofType::Risc0 => Ok(Box::new(Risc0Backend::new()?)),
        #[cfg(feature = "sp1")]
        ProofType::Sp1 => Ok(Box::new(Sp1Backend::new()?)),
        other => Err(BackendError::NotBuilt(other)),
    }
}

/// The backend for `proof_type` proving on `device` of this machine (see [`gpu`]), and a line
/// for the log that says where it proves and why. Only RISC Zero proves on a GPU.
pub fn placed_backend(proof_type: ProofType, device: gpu::Device) -> Result<(Box<dyn Backend>, String), BackendError> {
    #[cfg(feature = "risc0")]
    if proof_type == ProofType::Risc0 {
        let backend = Risc0Backend::new()?.on(device)?;
        let placement = backend.placement().to_string();
        return Ok((Box::new(backend), placement));
    }
    if device == gpu::Device::Gpu {
        return Err(BackendError::Unsupported(format!(
            "the {proof_type} backend does not prove on a GPU here (only risc0 does: docs/zkvm.md, GPU mode)"
        )));
    }
    let placement = if proof_type == ProofType::Exec { "no proving (exec)" } else { "proving on the CPU" };
    Ok((backend(proof_type)?, placement.to_owned()))
}

/// Reads a zkVM's receipt (`what`, for the error) from `proof`: bincode, as the zkVM crates
/// serialize it. The length limit keeps a hostile length prefix from allocating more than was
/// sent.
#[cfg(any(feature = "risc0", feature = "sp1"))]
fn decode_receipt<T: serde::de::DeserializeOwned>(proof: &Proof, what: &str) -> Result<T, BackendError> {
    use bincode::Options;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(proof.receipt.len() as u64)
        .deserialize(&proof.receipt)
        .map_err(|e| BackendError::MalformedProof(format!("not {what}: {e}")))
}

/// What a verified receipt establishes: the bytes it commits (`committed`, called `what`),
/// which must be the public outputs `proof` claims.
#[cfg(any(feature = "risc0", feature = "sp1"))]
fn proven_outputs(proof: &Proof, committed: &[u8], what: &str) -> Result<PublicOutput, BackendError> {
    if committed != proof.public_outputs.as_slice() {
        return Err(BackendError::Invalid(format!("{what} is not the public outputs the proof claims")));
    }
    PublicOutput::from_bytes(committed)
        .map_err(|e| BackendError::Invalid(format!("{what} is not the public outputs: {e}")))
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

#[cfg(test)]
mod name_tests {
    use super::*;

    /// A proof of an EIP-8025 result (41 bytes) is never taken for a batch's outputs: the
    /// coordinator reads a submission with `outputs()` and refuses it as malformed.
    #[test]
    fn an_eip8025_proof_is_not_a_batch_proof() {
        let result = bp_stateless::containers::StatelessValidationResult {
            new_payload_request_root: B256::repeat_byte(1),
            successful_validation: true,
            chain_config: bp_stateless::containers::ChainConfig { chain_id: 1 },
        };
        let proof = Proof {
            proof_type: ProofType::Exec,
            program_id: B256::ZERO,
            public_outputs: result.to_bytes(),
            receipt: Vec::new(),
        };
        assert_eq!(proof.public_output().expect("a result"), PublicOutput::Stateless(result));
        assert!(matches!(proof.outputs(), Err(BackendError::MalformedProof(_))));
    }

    #[test]
    fn names_parse_and_unknown_names_list_the_choices() {
        assert_eq!("RISC0".parse::<ProofType>(), Ok(ProofType::Risc0));
        assert_eq!("succinct".parse::<ProofFormat>(), Ok(ProofFormat::Succinct));
        assert_eq!("x".parse::<ProofType>(), Err("unknown proof type \"x\" (expected exec, risc0 or sp1)".to_owned()));
        assert_eq!(
            "x".parse::<ProofFormat>(),
            Err("unknown proof format \"x\" (expected composite, succinct or groth16)".to_owned())
        );
    }
}
