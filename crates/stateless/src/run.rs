//! What a proof commits, by the form of its input: one skeleton (read, run, commit) for the RISC
//! Zero and SP1 guests and the native `exec` backend, so the three commit the same bytes.
//!
//! A `BPIN` program input (a batch) commits the batch's 416-byte public outputs, and a batch
//! the program rejects has no proof. An SSZ stateless input commits EIP-8025's 41-byte result,
//! whose success flag is false for an invalid payload. The two lengths differ, so a verifier
//! always knows which statement a proof makes (and the coordinator and the L1 contract accept
//! only the batch's).

use alloy_primitives::Bytes;
use bp_input::{CodecError, ProgramInput, BINARY_MAGIC};
use bp_program::{OutputDecodeError, Probe, ProgramError, ProgramOutput, PUBLIC_OUTPUT_BYTES};

use crate::{containers::StatelessValidationResult, DecodeError, InvalidPayload, Prepared};

/// Bytes of an EIP-8025 result: the root, the flag, the chain id.
pub const STATELESS_OUTPUT_BYTES: usize = 32 + 1 + 8;

/// What a proof commits (RISC Zero's journal, SP1's public values).
// One per run, read and compared whole: boxing the batch's outputs would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicOutput {
    /// A batch's public outputs, of a program input.
    Batch(ProgramOutput),
    /// EIP-8025's result, of a stateless input.
    Stateless(StatelessValidationResult),
}

/// Committed bytes that are no public output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicOutputError {
    /// Neither length.
    #[error(
        "{got} bytes are neither a batch's public outputs ({PUBLIC_OUTPUT_BYTES}) nor an EIP-8025 result \
         ({STATELESS_OUTPUT_BYTES})"
    )]
    Length {
        /// The length given.
        got: usize,
    },
    /// A batch's length, but not its words.
    #[error("batch outputs: {0}")]
    Batch(#[from] OutputDecodeError),
    /// A result's length, but not its SSZ (a flag byte other than 0 or 1).
    #[error("EIP-8025 result: {0}")]
    Stateless(#[from] crate::SszError),
    /// An EIP-8025 result where a batch's outputs are expected.
    #[error("an EIP-8025 result where a batch's public outputs are expected")]
    NotABatch,
}

impl PublicOutput {
    /// The committed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Batch(output) => output.to_public_bytes().to_vec(),
            Self::Stateless(result) => result.to_bytes(),
        }
    }

    /// Reads committed bytes; their length says which they are.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PublicOutputError> {
        match bytes.len() {
            PUBLIC_OUTPUT_BYTES => Ok(Self::Batch(ProgramOutput::from_public_bytes(bytes)?)),
            STATELESS_OUTPUT_BYTES => crate::codec::decode_result(bytes).map(Self::Stateless).map_err(Into::into),
            got => Err(PublicOutputError::Length { got }),
        }
    }

    /// The batch's outputs; an EIP-8025 result is refused.
    pub fn batch(self) -> Result<ProgramOutput, PublicOutputError> {
        match self {
            Self::Batch(output) => Ok(output),
            Self::Stateless(_) => Err(PublicOutputError::NotABatch),
        }
    }
}

/// A run's outcome.
#[derive(Debug)]
pub struct Run {
    /// What to commit.
    pub output: PublicOutput,
    /// Gas the blocks used (0 for an invalid stateless payload).
    pub gas_used: u64,
    /// Why a stateless payload is invalid (its result's flag is false), if it is.
    pub invalid: Option<InvalidPayload>,
}

/// Why an input has no public output at all: no proof can exist for it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// `BPIN` bytes that are not a program input.
    #[error("the program input cannot be read")]
    Input(#[from] CodecError),
    /// Bytes that are neither a program input nor a stateless input.
    #[error("not a program input (no {magic:?} magic) nor an EIP-8025 stateless input", magic = "BPIN")]
    Stateless(#[from] DecodeError),
    /// The program rejected the batch.
    #[error("the program rejected the input")]
    Program(#[from] ProgramError),
}

/// An input read, before the program runs.
#[derive(Debug)]
pub enum GuestInput {
    /// A program input.
    Batch(ProgramInput),
    /// A stateless input, prepared.
    Stateless(Prepared),
}

impl GuestInput {
    /// Reads `bytes`: a program input if they start with its magic (an SSZ stateless input never
    /// can: its first four bytes are the offset of its first field, which is 20), a stateless
    /// input otherwise.
    pub fn decode(bytes: Bytes) -> Result<Self, RunError> {
        if bytes.starts_with(BINARY_MAGIC) {
            return Ok(Self::Batch(ProgramInput::from_binary_shared(bytes)?));
        }
        let input = crate::decode_shared(&bytes)?;
        let prepared = Prepared::new(&input);
        #[cfg(target_os = "zkvm")]
        core::mem::forget(input);
        Ok(Self::Stateless(prepared))
    }

    /// Runs the program, telling `probe` where its phases start.
    pub fn run(self, probe: &mut dyn Probe) -> Result<Run, RunError> {
        match self {
            Self::Batch(input) => {
                let ran = bp_program::execute_input_with_probe(&input, probe);
                // As in `Prepared::validate`: a guest exits next.
                #[cfg(target_os = "zkvm")]
                core::mem::forget(input);
                let (output, gas_used) = ran?;
                Ok(Run { output: PublicOutput::Batch(output), gas_used, invalid: None })
            }
            Self::Stateless(prepared) => {
                let (result, gas_used, invalid) = prepared.validate(probe);
                Ok(Run { output: PublicOutput::Stateless(result), gas_used, invalid })
            }
        }
    }
}

/// [`GuestInput::decode`], then [`GuestInput::run`].
pub fn run(bytes: Bytes, probe: &mut dyn Probe) -> Result<Run, RunError> {
    GuestInput::decode(bytes)?.run(probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::ChainConfig;
    use alloy_primitives::B256;

    #[test]
    fn committed_bytes_say_which_statement_they_are() {
        let result = StatelessValidationResult {
            new_payload_request_root: B256::repeat_byte(7),
            successful_validation: false,
            chain_config: ChainConfig { chain_id: 1 },
        };
        let bytes = PublicOutput::Stateless(result).to_bytes();
        assert_eq!(PublicOutput::from_bytes(&bytes), Ok(PublicOutput::Stateless(result)));
        assert_eq!(PublicOutput::Stateless(result).batch(), Err(PublicOutputError::NotABatch));

        let mut flag_two = bytes.clone();
        flag_two[32] = 2;
        assert!(matches!(PublicOutput::from_bytes(&flag_two), Err(PublicOutputError::Stateless(_))));
        assert_eq!(PublicOutput::from_bytes(&bytes[1..]), Err(PublicOutputError::Length { got: 40 }));
        assert!(matches!(
            PublicOutput::from_bytes(&[0; PUBLIC_OUTPUT_BYTES]),
            Ok(PublicOutput::Batch(_)) | Err(PublicOutputError::Batch(_))
        ));
    }

    #[test]
    fn bytes_of_neither_input_have_no_run() {
        assert!(matches!(run(Bytes::from_static(b"BPIN"), &mut bp_program::NoProbe), Err(RunError::Input(_))));
        assert!(matches!(run(Bytes::from_static(b"{}"), &mut bp_program::NoProbe), Err(RunError::Stateless(_))));
    }
}
