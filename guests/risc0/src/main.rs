//! The blocks execution program inside RISC Zero: reads a binary program input (`BPIN`) from
//! the host, runs [`bp_program::execute_input_with_probe`] and commits the 416-byte public
//! outputs to the journal. A rejected input panics, so no receipt exists for it.
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

use bp_input::ProgramInput;
use bp_program::{cycles::RegionCycles, execute_input_with_probe, Phase, Probe};
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

    let (output, gas_used) = match execute_input_with_probe(&input, &mut probe) {
        Ok(done) => done,
        Err(error) => panic!("the program rejected the input: {error}"),
    };
    probe.close();
    probe.report.gas_used = gas_used;
    // The guest exits next and its allocator never reuses memory: freeing the input's
    // thousands of buffers would cost cycles for nothing.
    core::mem::forget(input);

    env::commit_slice(&output.to_public_bytes());
    env::write_slice(&probe.report.to_bytes());
}

fn read_input() -> ProgramInput {
    let mut flags = 0u32;
    env::read_slice(core::slice::from_mut(&mut flags));
    keccak::set_accelerated(flags & FLAG_ACCELERATE_KECCAK != 0);
    let mut len = 0u32;
    env::read_slice(core::slice::from_mut(&mut len));
    let mut bytes = vec![0u8; len as usize];
    env::read_slice(&mut bytes);
    // The witness stays where it was read: nodes and codes are slices of this buffer.
    match ProgramInput::from_binary_shared(bytes.into()) {
        Ok(input) => input,
        Err(error) => panic!("the input cannot be read: {error}"),
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
