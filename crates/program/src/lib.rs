//! The blocks execution program.
//!
//! Given a batch of blocks, the first block's parent header and an execution witness, it
//! authenticates the witness against the parent state root, executes every block with revm
//! under its fork's rules, checks each header against its parent and against the execution
//! results, applies the state changes to the pruned tries and checks every resulting state
//! root. It performs no I/O and needs only `alloc`, so the same code runs in a zkVM guest.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "accelerated")]
pub mod accelerated;
mod account;
mod amsterdam;
mod collision;
mod credit;
pub mod cycles;
mod db;
mod error;
mod evm;
mod execute;
mod header;
pub mod keccak_sponge;
pub mod l2;
mod output;
mod parallel;
mod swap;

pub use account::StateAccount;
pub use collision::StorageOracle;
pub use credit::CreditError;
pub use db::{bytecode, Ancestors, VerifiedWitness, WitnessDb, WitnessSource};
pub use error::{BlockError, ErrorChain, GotExpected, HeaderError, L2Error, ProgramError, StateError};
pub use execute::{
    evm_env, execute_batch, execute_input, execute_input_with_probe, payload_fields, receipts_root_and_bloom,
    run_block, BatchResult, BlockReceipt, BlockResult, NoProbe, PayloadFields, Phase, Probe,
};
pub use output::{
    L2Commitments, OutputDecodeError, OutputWord, ProgramOutput, WordMismatch, BATCH_KIND_L1, BATCH_KIND_L2,
    OUTPUT_WORDS, PUBLIC_OUTPUT_BYTES,
};

/// The version of the program's rules and public outputs. A proof names the program it is of
/// (an image id, a verifying key, or for `exec` a hash naming this version), so a change of
/// either bumps it and old proofs are refused.
pub const PROGRAM_VERSION: u32 = 4;
