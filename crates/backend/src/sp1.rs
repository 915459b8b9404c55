//! `sp1`: the program as an SP1 guest (guests/sp1), run by SP1's executor, proved by its CPU
//! prover, checked against the guest's verifying key.
//!
//! Formats: `composite` is SP1's core proof (one STARK per shard), `succinct` its compressed
//! proof (the shards folded by the recursion prover into one). Groth16 (and PLONK) wrap a
//! compressed proof in a SNARK with circuit artifacts that SP1 downloads at run time, or
//! builds with Go (gnark) on a machine that has it; neither is possible offline here.

use std::sync::OnceLock;

use alloy_primitives::B256;
use bp_program::cycles::RegionCycles;
use sp1_sdk::{
    blocking::{CpuProver, ProveRequest, Prover, ProverClient},
    Elf, HashableKey, ProvingKey, SP1ProofWithPublicValues, SP1ProvingKey, SP1Stdin,
};

use crate::{
    check_identity, decode_receipt, proven_outputs, Backend, BackendError, Cycles, Execution, Progress, Proof,
    ProofFormat, ProofType, PublicOutput,
};

/// The guest ELF, built by build.rs with scripts/build-guest-sp1.sh.
const GUEST_ELF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/bp-guest-sp1.elf"));

fn zkvm_error(message: impl std::fmt::Display) -> BackendError {
    BackendError::Zkvm { backend: ProofType::Sp1, message: format!("{message:#}") }
}

/// Runs `work` on a thread of its own. sp1-sdk's blocking API drives its own tokio runtime and
/// panics on a thread that is already inside one (the coordinator opens its backends in async
/// code); a fresh thread never is.
fn off_async<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(done) => done,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// The CPU prover, the guest's proving key and its hash, made once per process: setting them up
/// takes minutes on two cores, and every backend handle shares them.
fn prover() -> Result<&'static (CpuProver, SP1ProvingKey, B256), BackendError> {
    static PROVER: OnceLock<Result<(CpuProver, SP1ProvingKey, B256), String>> = OnceLock::new();
    PROVER.get_or_init(|| off_async(setup)).as_ref().map_err(|message| zkvm_error(message))
}

fn setup() -> Result<(CpuProver, SP1ProvingKey, B256), String> {
    let client = ProverClient::builder().cpu().build();
    let key = client.setup(Elf::Static(GUEST_ELF)).map_err(|e| format!("setting up the guest: {e}"))?;
    let id = key.verifying_key().bytes32();
    let id = id.parse::<B256>().map_err(|e| format!("the verifying key's hash {id}: {e}"))?;
    Ok((client, key, id))
}

/// The SP1 backend.
#[derive(Clone)]
pub struct Sp1Backend {
    client: &'static CpuProver,
    key: &'static SP1ProvingKey,
    program_id: B256,
}

impl std::fmt::Debug for Sp1Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sp1Backend").field("program_id", &self.program_id).finish()
    }
}

impl Sp1Backend {
    /// The backend for the embedded guest.
    pub fn new() -> Result<Self, BackendError> {
        let (client, key, program_id) = prover()?;
        Ok(Self { client, key, program_id: *program_id })
    }

    fn stdin(input: &[u8]) -> SP1Stdin {
        let mut stdin = SP1Stdin::new();
        stdin.write_slice(input);
        stdin
    }

    /// Checks the input natively first: a bad input gets the program's own typed error rather
    /// than a guest panic message, and minutes of proving are not spent on it. The native run
    /// also gives the gas used.
    fn precheck(input: &[u8]) -> Result<Execution, BackendError> {
        crate::ExecBackend.execute(input)
    }
}

impl Backend for Sp1Backend {
    fn proof_type(&self) -> ProofType {
        ProofType::Sp1
    }

    /// The hash of the guest's verifying key (SP1's `vk.bytes32()`, what an L1 verifier takes).
    fn program_id(&self) -> B256 {
        self.program_id
    }

    fn execute(&self, input: &[u8]) -> Result<Execution, BackendError> {
        let native = Self::precheck(input)?;
        let (public_values, report) =
            off_async(|| self.client.execute(Elf::Static(GUEST_ELF), Self::stdin(input)).run()).map_err(zkvm_error)?;
        if report.exit_code != 0 {
            return Err(zkvm_error(format!("the guest exited with code {}", report.exit_code)));
        }
        let output = PublicOutput::from_bytes(public_values.as_slice())
            .map_err(|e| zkvm_error(format!("the guest's public values are not the public outputs: {e}")))?;
        let user = report.total_instruction_count();
        let regions = RegionCycles::from_named(
            report.cycle_tracker.iter().map(|(name, cycles)| (name.as_str(), *cycles)),
            native.gas_used,
        );
        Ok(Execution {
            output,
            gas_used: native.gas_used,
            invalid: native.invalid,
            // SP1 has no paging cycles, and its shards are cut by the prover, not the executor.
            cycles: Some(Cycles { user, paging: 0, total: user, segments: None, prover_gas: report.gas(), regions }),
        })
    }

    fn prove_as(&self, input: &[u8], format: ProofFormat, _progress: &Progress) -> Result<Proof, BackendError> {
        if format == ProofFormat::Groth16 {
            return Err(BackendError::Unsupported(
                "SP1's groth16 wrapper needs its circuit artifacts, downloaded at run time (or built with Go), which this \
                 offline machine cannot do; composite (core) and succinct (compressed) proofs work here"
                    .into(),
            ));
        }
        Self::precheck(input)?;
        let request = self.client.prove(self.key, Self::stdin(input));
        let request = match format {
            ProofFormat::Succinct => request.compressed(),
            _ => request.core(),
        };
        let proved = off_async(|| request.run()).map_err(zkvm_error)?;
        let receipt = bincode::serialize(&proved).map_err(zkvm_error)?;
        let proof = Proof {
            proof_type: ProofType::Sp1,
            program_id: self.program_id,
            public_outputs: proved.public_values.to_vec(),
            receipt,
        };
        // The prover checks its own work; a proof is handed out only if it also passes ours.
        self.verify(&proof, input)?;
        Ok(proof)
    }

    fn verify(&self, proof: &Proof, _input: &[u8]) -> Result<PublicOutput, BackendError> {
        check_identity(self, proof)?;
        let proved: SP1ProofWithPublicValues = decode_receipt(proof, "an SP1 proof")?;
        off_async(|| self.client.verify(&proved, self.key.verifying_key(), None))
            .map_err(|e| BackendError::Invalid(e.to_string()))?;
        proven_outputs(proof, proved.public_values.as_slice(), "the SP1 proof's public values")
    }
}
