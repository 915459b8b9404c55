//! Execution witnesses: the pre-state trie nodes, codes and headers a batch touches.
//!
//! Two sources of pre-state, one way of cutting the witness:
//! - [`FullState`]: a node's own complete state (the L2 case, and the conformance runner);
//! - [`ProofWitnessBuilder`]: `eth_getProof` results of a remote node, before and after the
//!   batch, plus whatever nodes a deletion needs that the proofs do not show.
//!
//! Either way the program itself runs against the known nodes through a recording source, so
//! the witness is exactly the set of nodes the stateless run resolves — including the sibling a
//! deletion collapses into — and cannot drift from what the program needs.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod full;
mod join;
mod proofs;
mod record;

pub use full::{AllocAccount, FullState};
pub use join::{join_inputs, JoinError};
pub use proofs::{
    recover_collapse_siblings, AccountProof, BuildError, NoFetch, PreStateFetcher, ProofWitness, ProofWitnessBuilder,
    StorageProof,
};

use bp_input::ExecutionWitness;
use bp_program::{ProgramError, ProgramOutput};

/// A witness, and what the program said when it was recorded.
#[derive(Debug)]
pub struct Generated {
    /// The recorded witness (on failure: what was touched up to the failure, all codes and headers).
    pub witness: ExecutionWitness,
    /// The program's verdict on the full state.
    pub result: Result<ProgramOutput, ProgramError>,
}
