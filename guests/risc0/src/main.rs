//! The blocks execution program inside RISC Zero: reads an input from the host and commits
//! what [`bp_stateless::run`] gives to the journal: for a binary program input (`BPIN`) the
//! batch's 416-byte public outputs, for an EIP-8025 SSZ stateless input the standard's 41-byte
//! result (false for an invalid payload). An input with neither, or a batch the program
//! rejects, panics, so no receipt exists for it.
//!
//! Cycles spent per region go to the host on stdout (not the journal): they are
//! measurements, not claims.
//!
//! Host → guest: `flags: u32`, `len: u32`, then `len` bytes of input. Flag bit 0 asks for the
//! keccak accelerator. It changes how keccak-f is computed, never a result, so it is a private
//! input: proving with the accelerator needs RISC Zero's recursion circuit (a download at
//! build time), and a build without it proves with the software permutation under the same
//! image id.

#![no_main]

use bp_program::{cycles::RegionCycles, Phase, Probe};
use bp_stateless::GuestInput;
use risc0_zkvm::guest::env;

mod bn254;
mod crypto;
mod keccak;
mod memcmp;
mod secp256k1;

/// Flag bit: use the keccak accelerator.
const FLAG_ACCELERATE_KECCAK: u32 = 1;

risc0_zkvm::guest::entry!(main);

fn main() {
    bp_program::accelerated::install::<crypto::Risc0>();
    let start = env::cycle_count();
    let input = read_input();
    let mut probe = CycleProbe { report: RegionCycles::default(), phase: None, since: env::cycle_count() };
    probe.report.decode = probe.since - start;

    let run = match input.run(&mut probe) {
        Ok(run) => run,
        Err(error) => panic!("{}", bp_program::ErrorChain(&error)),
    };
    probe.close();
    probe.report.gas_used = run.gas_used;

    env::commit_slice(&run.output.to_bytes());
    env::write_slice(&probe.report.to_bytes());
}

fn read_input() -> GuestInput {
    let mut flags = 0u32;
    env::read_slice(core::slice::from_mut(&mut flags));
    keccak::set_accelerated(flags & FLAG_ACCELERATE_KECCAK != 0);
    let mut len = 0u32;
    env::read_slice(core::slice::from_mut(&mut len));
    let mut bytes = vec![0u8; len as usize];
    env::read_slice(&mut bytes);
    // A program input's witness stays where it was read: nodes and codes are slices of this
    // buffer.
    match GuestInput::decode(bytes.into()) {
        Ok(input) => input,
        Err(error) => panic!("{}", bp_program::ErrorChain(&error)),
    }
}

/// Adds the cycles between phase changes to the phase that was running.
struct CycleProbe {
    report: RegionCycles,
    phase: Option<Phase>,
    since: u64,
}

impl CycleProbe {
    fn close(&mut self) {
        let now = env::cycle_count();
        if let Some(phase) = self.phase {
            *self.report.phase_mut(phase) += now - self.since;
        }
        self.since = now;
    }
}

impl Probe for CycleProbe {
    fn enter(&mut self, phase: Phase) {
        self.close();
        self.phase = Some(phase);
    }
}
