//! The blocks execution program inside SP1: reads a binary program input (`BPIN`) from the
//! host, runs [`bp_program::execute_input_with_probe`] and commits the 416-byte public outputs
//! as the proof's public values. A rejected input panics, so no proof exists for it.
//!
//! Cycles per region reach the host through SP1's cycle tracker (`cycle-tracker-report-*`
//! lines on stdout, counted by the executor): measurements, not claims.

#![no_main]

use bp_input::ProgramInput;
use bp_program::{
    cycles::{region_name, DECODE},
    execute_input_with_probe, Phase, Probe,
};

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
    let input = match ProgramInput::from_binary_shared(sp1_zkvm::io::read_vec().into()) {
        Ok(input) => input,
        Err(error) => panic!("the input cannot be read: {error}"),
    };
    end_region(DECODE);

    let mut probe = RegionProbe { phase: None };
    let (output, _gas_used) = match execute_input_with_probe(&input, &mut probe) {
        Ok(done) => done,
        Err(error) => panic!("the program rejected the input: {error}"),
    };
    probe.close();

    sp1_zkvm::io::commit_slice(&output.to_public_bytes());
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
