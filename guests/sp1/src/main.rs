//! The blocks execution program inside SP1: reads an input from the host and commits what
//! [`bp_stateless::run`] gives as the proof's public values: for a binary program input
//! (`BPIN`) the batch's 416-byte public outputs, for an EIP-8025 SSZ stateless input the
//! standard's 41-byte result (false for an invalid payload). An input with neither, or a batch
//! the program rejects, panics, so no proof exists for it.
//!
//! Cycles per region reach the host through SP1's cycle tracker (`cycle-tracker-report-*`
//! lines on stdout, counted by the executor): measurements, not claims.

#![no_main]

use bp_program::{
    cycles::{region_name, DECODE},
    Phase, Probe,
};
use bp_stateless::GuestInput;

mod bn254;
mod crypto;
mod hooks;
mod keccak;
mod limbs;
mod secp256k1;
mod sha256;

sp1_zkvm::entrypoint!(main);

fn main() {
    bp_program::accelerated::install::<crypto::Sp1>();
    start_region(DECODE);
    let input = match GuestInput::decode(sp1_zkvm::io::read_vec().into()) {
        Ok(input) => input,
        Err(error) => panic!("{}", bp_program::ErrorChain(&error)),
    };
    end_region(DECODE);

    let mut probe = RegionProbe { phase: None };
    let run = match input.run(&mut probe) {
        Ok(run) => run,
        Err(error) => panic!("{}", bp_program::ErrorChain(&error)),
    };
    probe.close();

    sp1_zkvm::io::commit_slice(&run.output.to_bytes());
}

/// Tells the executor's cycle tracker where each phase starts and ends.
struct RegionProbe {
    phase: Option<Phase>,
}

impl RegionProbe {
    fn close(&mut self) {
        if let Some(phase) = self.phase.take() {
            end_region(region_name(phase));
        }
    }
}

impl Probe for RegionProbe {
    fn enter(&mut self, phase: Phase) {
        self.close();
        start_region(region_name(phase));
        self.phase = Some(phase);
    }
}

fn start_region(name: &str) {
    sp1_zkvm::io::write(1, format!("cycle-tracker-report-start: {name}\n").as_bytes());
}

fn end_region(name: &str) {
    sp1_zkvm::io::write(1, format!("cycle-tracker-report-end: {name}\n").as_bytes());
}
