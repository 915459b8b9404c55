//! `risc0`: the program as a RISC Zero guest (guests/risc0), run by the executor, proved by the
//! local prover, checked against the guest's image id.
//!
//! What this build can make depends on how it was built: RISC Zero's recursion circuit is a
//! download at build time, skipped offline (`DOCS_RS=1`). Without it only composite receipts
//! (one STARK per segment) can be made, and the keccak accelerator, whose proofs are lifted by
//! that circuit, is used for execution (cycle counts) but not for proving. Groth16 additionally
//! needs Docker on x86 (RISC Zero 3.0 runs its STARK-to-SNARK wrapper in a container) or a CUDA
//! machine with the `risc0-groth16` rzup component.

use std::sync::OnceLock;

use alloy_primitives::B256;
use bp_program::cycles::RegionCycles;
use risc0_zkvm::{
    compute_image_id, get_prover_server, Digest, ExecutorEnv, ExecutorImpl, ExitCode, ProverOpts, Receipt, Segment,
    SessionEvents, VerifierContext,
};

use crate::{
    check_identity, decode_receipt,
    gpu::{Device, GpuError, GpuProveOptions, GpuProver, Placement},
    proven_outputs, Backend, BackendError, Cycles, Execution, Progress, Proof, ProofFormat, ProofType, PublicOutput,
};

/// The guest ELF, built by build.rs with scripts/build-guest-risc0.sh.
const GUEST_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bp-guest-risc0.elf"));

/// Guest flag: use the keccak accelerator (see guests/risc0/src/main.rs).
const FLAG_ACCELERATE_KECCAK: u32 = 1;

/// Whether this build carries RISC Zero's recursion circuit (set by build.rs).
pub(crate) fn has_recursion() -> bool {
    env!("BP_RISC0_RECURSION") == "1"
}

/// The guest image (user ELF and RISC Zero's kernel) and its id, computed once.
fn image() -> Result<&'static (Vec<u8>, Digest), BackendError> {
    static IMAGE: OnceLock<Result<(Vec<u8>, Digest), String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let binary = risc0_binfmt::ProgramBinary::new(GUEST_ELF, risc0_zkos_v1compat::V1COMPAT_ELF).encode();
            let image_id =
                compute_image_id(&binary).map_err(|e| format!("the embedded guest is not an image: {e:#}"))?;
            Ok((binary, image_id))
        })
        .as_ref()
        .map_err(zkvm_error)
}

fn zkvm_error(message: impl std::fmt::Display) -> BackendError {
    BackendError::Zkvm { backend: ProofType::Risc0, message: format!("{message:#}") }
}

/// The RISC Zero backend.
#[derive(Debug, Clone)]
pub struct Risc0Backend {
    binary: &'static [u8],
    image_id: Digest,
    accelerate_keccak: bool,
    segment_po2: Option<u32>,
    placement: Placement,
}

/// The segment sizes RISC Zero 3.0's executor accepts, as powers of two of cycles.
pub(crate) const SEGMENT_PO2_RANGE: std::ops::RangeInclusive<u32> = 15..=24;

impl Risc0Backend {
    /// The backend for the embedded guest; executes with the keccak accelerator.
    pub fn new() -> Result<Self, BackendError> {
        let (binary, image_id) = image()?;
        let placement = Placement::InProcess { reason: "this binary's own prover".into() };
        Ok(Self { binary, image_id: *image_id, accelerate_keccak: true, segment_po2: None, placement })
    }

    /// Proves on `device` of this machine: `gpu` through the GPU prover (an error where there is
    /// no GPU, no driver or no GPU prover), `cpu` in this process, `auto` on the GPU where it can
    /// and on the CPU otherwise ([`Self::placement`] says which and why). In a build of this
    /// crate with `cuda` (the GPU prover itself) proofs are made in this process on the GPU.
    pub fn on(self, device: Device) -> Result<Self, BackendError> {
        self.on_with(device, GpuProver::locate)
    }

    /// [`Self::on`] with the GPU prover that `locate` finds.
    pub fn on_with(
        mut self,
        device: Device,
        locate: impl FnOnce() -> Result<GpuProver, GpuError>,
    ) -> Result<Self, BackendError> {
        let gpu = || -> Result<Placement, BackendError> {
            let prover = locate()?;
            let device = prover.devices()?.usable()?.clone();
            Ok(Placement::Gpu { prover, device })
        };
        self.placement = match device {
            Device::Cpu if cfg!(feature = "cuda") => {
                return Err(BackendError::Unsupported(
                    "this build proves on the GPU only (RISC Zero compiled with `cuda`); the CPU build proves on \
                     the CPU"
                        .into(),
                ))
            }
            _ if cfg!(feature = "cuda") => Placement::InProcess { reason: "this build's CUDA prover".into() },
            Device::Cpu => Placement::InProcess { reason: "--device cpu".into() },
            Device::Gpu => gpu()?,
            Device::Auto => gpu().unwrap_or_else(|e| Placement::InProcess { reason: e.to_string() }),
        };
        Ok(self)
    }

    /// Where proofs are made, and why there.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    /// Whether runs use the keccak accelerator. It never changes a result or the image id; it
    /// changes cycle counts, and proving with it needs the recursion circuit.
    pub fn with_keccak_accelerator(mut self, on: bool) -> Self {
        self.accelerate_keccak = on;
        self
    }

    /// Segments of at most 2^`po2` cycles instead of RISC Zero's default 2^20. Proving memory is
    /// roughly linear in the segment size (about 9.7 GB at 2^20); a smaller segment also pads
    /// less on a short run. Never changes a result or the image id.
    pub fn with_segment_po2(mut self, po2: u32) -> Result<Self, BackendError> {
        if !SEGMENT_PO2_RANGE.contains(&po2) {
            return Err(BackendError::Unsupported(format!(
                "a segment of 2^{po2} cycles: RISC Zero takes 2^{} to 2^{}",
                SEGMENT_PO2_RANGE.start(),
                SEGMENT_PO2_RANGE.end()
            )));
        }
        self.segment_po2 = Some(po2);
        Ok(self)
    }

    /// The guest's image id.
    pub fn image_id(&self) -> Digest {
        self.image_id
    }

    fn executor_env<'a>(
        &self,
        input: &'a [u8],
        accelerate_keccak: bool,
        stdout: &'a mut Vec<u8>,
    ) -> Result<ExecutorEnv<'a>, BackendError> {
        let len = u32::try_from(input.len()).map_err(|_| {
            BackendError::Unsupported(format!("an input of {} bytes exceeds the guest's 4 GiB", input.len()))
        })?;
        let flags = if accelerate_keccak { FLAG_ACCELERATE_KECCAK } else { 0 };
        let mut env = ExecutorEnv::builder();
        env.write_slice(&[flags, len]).write_slice(input).stdout(stdout);
        if let Some(po2) = self.segment_po2 {
            env.segment_limit_po2(po2);
        }
        env.build().map_err(zkvm_error)
    }

    /// Checks the input natively first: a bad input gets the program's own typed error rather
    /// than a guest panic message, and minutes of proving are not spent on it.
    fn precheck(input: &[u8]) -> Result<Execution, BackendError> {
        crate::ExecBackend.execute(input)
    }
}

/// Counts the segments proved.
struct CountSegments(Progress);

impl SessionEvents for CountSegments {
    fn on_post_prove_segment(&self, _segment: &Segment) {
        self.0.advance();
    }
}

impl Backend for Risc0Backend {
    fn proof_type(&self) -> ProofType {
        ProofType::Risc0
    }

    fn program_id(&self) -> B256 {
        B256::from_slice(self.image_id.as_bytes())
    }

    fn execute(&self, input: &[u8]) -> Result<Execution, BackendError> {
        let native = Self::precheck(input)?;
        let mut stdout = Vec::new();
        let session = {
            let env = self.executor_env(input, self.accelerate_keccak, &mut stdout)?;
            let mut executor = ExecutorImpl::from_elf(env, self.binary).map_err(zkvm_error)?;
            executor.run().map_err(zkvm_error)?
        };
        if session.exit_code != ExitCode::Halted(0) {
            return Err(zkvm_error(format!("the guest exited with {:?}", session.exit_code)));
        }
        let journal = session.journal.as_ref().map(|j| j.bytes.as_slice()).unwrap_or_default();
        let output = PublicOutput::from_bytes(journal)
            .map_err(|e| zkvm_error(format!("the guest's journal is not the public outputs: {e}")))?;
        let regions = RegionCycles::from_bytes(&stdout)
            .ok_or_else(|| zkvm_error(format!("the guest's cycle report is {} bytes", stdout.len())))?;
        Ok(Execution {
            output,
            gas_used: regions.gas_used,
            invalid: native.invalid,
            cycles: Some(Cycles {
                user: session.user_cycles,
                paging: session.paging_cycles,
                total: session.total_cycles,
                segments: Some(session.segments.len()),
                prover_gas: None,
                regions,
            }),
        })
    }

    fn prove_as(&self, input: &[u8], format: ProofFormat, progress: &Progress) -> Result<Proof, BackendError> {
        let opts = match format {
            ProofFormat::Composite => ProverOpts::composite(),
            ProofFormat::Succinct => ProverOpts::succinct(),
            ProofFormat::Groth16 => ProverOpts::groth16(),
        };
        if format != ProofFormat::Composite && !has_recursion() {
            return Err(BackendError::Unsupported(format!(
                "this build has no RISC Zero recursion circuit (built offline with DOCS_RS=1), so it makes composite \
                 receipts only, not {format}; rebuild with internet access and without DOCS_RS"
            )));
        }
        let native = Self::precheck(input)?;
        if let Placement::Gpu { prover, device } = &self.placement {
            let options = GpuProveOptions {
                format,
                segment_po2: self.segment_po2,
                no_keccak_accelerator: !self.accelerate_keccak,
            };
            let proof = Proof::from_bytes(&prover.prove(input, &options, device, progress)?)?;
            // Another program, or a proof of another input, is never handed out as this one's.
            let output = self.verify(&proof, input)?;
            if output != native.output {
                return Err(BackendError::Invalid(
                    "the GPU prover proved other public outputs than the input's own".into(),
                ));
            }
            return Ok(proof);
        }
        let accelerate_keccak = self.accelerate_keccak && has_recursion();
        let mut stdout = Vec::new();
        // What `prove_with_ctx` does (execute, then prove the session), in two steps, so that
        // the segments can be counted as they are proved.
        let info = {
            let env = self.executor_env(input, accelerate_keccak, &mut stdout)?;
            let mut session =
                ExecutorImpl::from_elf(env, self.binary).map_err(zkvm_error)?.run().map_err(zkvm_error)?;
            progress.start(session.segments.len() as u64);
            session.add_hook(CountSegments(progress.clone()));
            let prover = get_prover_server(&opts).map_err(zkvm_error)?;
            prover.prove_session(&VerifierContext::default(), &session).map_err(zkvm_error)?
        };
        let receipt = bincode::serialize(&info.receipt).map_err(zkvm_error)?;
        let proof = Proof {
            proof_type: ProofType::Risc0,
            program_id: self.program_id(),
            public_outputs: info.receipt.journal.bytes.clone(),
            receipt,
        };
        // The prover checks its own work; a proof is handed out only if it also passes ours.
        self.verify(&proof, input)?;
        Ok(proof)
    }

    fn verify(&self, proof: &Proof, _input: &[u8]) -> Result<PublicOutput, BackendError> {
        check_identity(self, proof)?;
        let receipt: Receipt = decode_receipt(proof, "a RISC Zero receipt")?;
        receipt.verify(self.image_id).map_err(|e| BackendError::Invalid(e.to_string()))?;
        proven_outputs(proof, &receipt.journal.bytes, "the receipt's journal")
    }
}
