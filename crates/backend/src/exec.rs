//! `exec`: the program run natively; the "proof" is the outputs, verified by re-execution.

use alloy_primitives::{keccak256, Bytes, B256};

use crate::{check_identity, Backend, BackendError, Execution, Progress, Proof, ProofFormat, ProofType, PublicOutput};

/// Native execution without a proof (the default backend and the dev mode).
#[derive(Debug, Default, Clone, Copy)]
pub struct ExecBackend;

impl ExecBackend {
    fn run(input: &[u8]) -> Result<PublicOutput, BackendError> {
        Ok(Self.execute(input)?.output)
    }
}

impl Backend for ExecBackend {
    fn proof_type(&self) -> ProofType {
        ProofType::Exec
    }

    /// Names the program version (its rules and public outputs) and the input layout it reads:
    /// provers and coordinators built from different program versions refuse each other's work.
    fn program_id(&self) -> B256 {
        keccak256(
            format!(
                "blockprover exec program v{} ({}) input v{}",
                bp_program::PROGRAM_VERSION,
                env!("CARGO_PKG_VERSION"),
                bp_input::BINARY_VERSION
            )
            .as_bytes(),
        )
    }

    /// What the guests run, natively.
    fn execute(&self, input: &[u8]) -> Result<Execution, BackendError> {
        let run = bp_stateless::run(Bytes::copy_from_slice(input), &mut bp_program::NoProbe)?;
        Ok(Execution { output: run.output, gas_used: run.gas_used, invalid: run.invalid, cycles: None })
    }

    fn prove_as(&self, input: &[u8], format: ProofFormat, _progress: &Progress) -> Result<Proof, BackendError> {
        if format != ProofFormat::Composite {
            return Err(BackendError::Unsupported(format!(
                "the exec backend makes no cryptographic proof, so no {format} proof either"
            )));
        }
        let output = Self::run(input)?;
        Ok(Proof {
            proof_type: ProofType::Exec,
            program_id: self.program_id(),
            public_outputs: output.to_bytes(),
            receipt: Vec::new(),
        })
    }

    fn verify_needs_input(&self) -> bool {
        true
    }

    fn verify(&self, proof: &Proof, input: &[u8]) -> Result<PublicOutput, BackendError> {
        check_identity(self, proof)?;
        let claimed = proof.public_output()?;
        if !proof.receipt.is_empty() {
            return Err(BackendError::Invalid("an exec proof carries no receipt".into()));
        }
        let actual = Self::run(input)?;
        match (&actual, &claimed) {
            (PublicOutput::Batch(actual), PublicOutput::Batch(claimed)) => {
                if let Some(m) = actual.first_difference(claimed) {
                    return Err(BackendError::Invalid(format!(
                        "re-execution gives {} {}, the proof claims {}",
                        m.word, m.got, m.expected
                    )));
                }
            }
            _ if actual != claimed => {
                return Err(BackendError::Invalid(format!(
                    "re-execution gives {actual:?}, the proof claims {claimed:?}"
                )));
            }
            _ => {}
        }
        Ok(actual)
    }
}
