//! `exec`: the program run natively; the "proof" is the outputs, verified by re-execution.

use alloy_primitives::{keccak256, B256};
use bp_input::ProgramInput;
use bp_program::ProgramOutput;

use crate::{check_identity, Backend, BackendError, Proof, ProofType};

/// Native execution without a proof (the default backend and the dev mode).
#[derive(Debug, Default, Clone, Copy)]
pub struct ExecBackend;

impl ExecBackend {
    fn run(input: &[u8]) -> Result<ProgramOutput, BackendError> {
        let input = ProgramInput::from_binary(input)?;
        Ok(bp_program::execute_input(&input)?)
    }
}

impl Backend for ExecBackend {
    fn proof_type(&self) -> ProofType {
        ProofType::Exec
    }

    /// Names the program version and the input layout it reads: provers and coordinators built
    /// from different program versions refuse each other's work.
    fn program_id(&self) -> B256 {
        keccak256(
            format!("blockprover exec program {} input v{}", env!("CARGO_PKG_VERSION"), bp_input::BINARY_VERSION)
                .as_bytes(),
        )
    }

    fn prove(&self, input: &[u8]) -> Result<Proof, BackendError> {
        let output = Self::run(input)?;
        Ok(Proof {
            proof_type: ProofType::Exec,
            program_id: self.program_id(),
            public_outputs: output.to_public_bytes().to_vec(),
            receipt: Vec::new(),
        })
    }

    fn verify(&self, proof: &Proof, input: &[u8]) -> Result<ProgramOutput, BackendError> {
        check_identity(self, proof)?;
        let claimed = proof.outputs()?;
        if !proof.receipt.is_empty() {
            return Err(BackendError::Invalid("an exec proof carries no receipt".into()));
        }
        let actual = Self::run(input)?;
        if actual != claimed {
            return Err(BackendError::Invalid(format!(
                "re-execution gives final state root {} and block {}, the proof claims {} and {}",
                actual.final_state_root, actual.last_block_hash, claimed.final_state_root, claimed.last_block_hash
            )));
        }
        Ok(actual)
    }
}
