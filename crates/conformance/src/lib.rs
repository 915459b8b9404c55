//! The conformance runner: every blockchain test becomes stateless program runs.
//!
//! For each block the witness is recorded from the test's full state by the generator, then the
//! program runs on (block, parent header, witness) alone and must reproduce the block's state
//! root and hash, or reject the block if the test expects an exception.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod fixture;
mod known;
mod report;
mod source;

pub use fixture::{run_fixture, stateless_inputs, Outcome};
pub use known::{KnownFailures, KnownFailuresError};
pub use report::{Report, TestResult};
pub use source::{for_each_file, FileError};
