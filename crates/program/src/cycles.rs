//! Where a zkVM guest's cycles go, by program region. The guest measures, the host reads the
//! report from the guest's stdout; both use this one layout (six little-endian `u64`s).

use crate::Phase;

/// The region of reading the binary input, before any [`Phase`].
pub const DECODE: &str = "decode";

const PHASES: [Phase; 4] = [Phase::WitnessVerification, Phase::Execution, Phase::StateRoot, Phase::Commitments];

/// The name a guest reports `phase`'s cycles under.
pub fn region_name(phase: Phase) -> &'static str {
    match phase {
        Phase::WitnessVerification => "witness",
        Phase::Execution => "execution",
        Phase::StateRoot => "state_root",
        Phase::Commitments => "commitments",
    }
}

/// Cycles per region of one guest run, and the gas the batch used.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RegionCycles {
    /// Reading the binary input into a [`bp_input::ProgramInput`].
    pub decode: u64,
    /// Hashing witness nodes and codes, linking ancestor headers ([`Phase::WitnessVerification`]).
    pub witness: u64,
    /// Header and body checks, sender recovery, the EVM, receipts ([`Phase::Execution`]).
    pub execution: u64,
    /// Applying state changes to the tries and computing roots ([`Phase::StateRoot`]).
    pub state_root: u64,
    /// L2 commitments: state diff, blob, KZG ([`Phase::Commitments`]).
    pub commitments: u64,
    /// Gas used by the batch.
    pub gas_used: u64,
}

impl RegionCycles {
    /// Size of [`Self::to_bytes`].
    pub const BYTES: usize = 48;

    /// The counter for `phase`.
    pub fn phase_mut(&mut self, phase: Phase) -> &mut u64 {
        match phase {
            Phase::WitnessVerification => &mut self.witness,
            Phase::Execution => &mut self.execution,
            Phase::StateRoot => &mut self.state_root,
            Phase::Commitments => &mut self.commitments,
        }
    }

    /// Region names and counts, in program order.
    pub fn regions(&self) -> [(&'static str, u64); 5] {
        [
            (DECODE, self.decode),
            (region_name(Phase::WitnessVerification), self.witness),
            (region_name(Phase::Execution), self.execution),
            (region_name(Phase::StateRoot), self.state_root),
            (region_name(Phase::Commitments), self.commitments),
        ]
    }

    /// The counts from `(region name, cycles)` pairs (an SP1 cycle-tracker report); unknown
    /// names are ignored, missing ones count zero.
    pub fn from_named<'a>(named: impl IntoIterator<Item = (&'a str, u64)>, gas_used: u64) -> Self {
        let mut report = Self { gas_used, ..Self::default() };
        for (name, cycles) in named {
            let counter = match name {
                DECODE => &mut report.decode,
                _ => match PHASES.into_iter().find(|phase| region_name(*phase) == name) {
                    Some(phase) => report.phase_mut(phase),
                    None => continue,
                },
            };
            *counter += cycles;
        }
        report
    }

    /// Fixed little-endian layout.
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let words = [self.decode, self.witness, self.execution, self.state_root, self.commitments, self.gas_used];
        let mut bytes = [0u8; Self::BYTES];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bytes
    }

    /// Reads [`Self::to_bytes`]; `None` unless exactly [`Self::BYTES`] long.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::BYTES {
            return None;
        }
        let mut words = bytes.chunks_exact(8).map(|chunk| {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            u64::from_le_bytes(word)
        });
        let mut next = || words.next().unwrap_or_default();
        Some(Self {
            decode: next(),
            witness: next(),
            execution: next(),
            state_root: next(),
            commitments: next(),
            gas_used: next(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_length() {
        let report = RegionCycles {
            decode: 1,
            witness: 2,
            execution: u64::MAX,
            state_root: 4,
            commitments: 5,
            gas_used: 21_000,
        };
        assert_eq!(RegionCycles::from_bytes(&report.to_bytes()), Some(report));
        assert_eq!(RegionCycles::from_bytes(&report.to_bytes()[1..]), None);
        assert_eq!(report.to_bytes()[..8], 1u64.to_le_bytes());
    }

    #[test]
    fn named_regions_round_trip_and_unknown_names_are_ignored() {
        let report = RegionCycles { decode: 1, witness: 2, execution: 3, state_root: 4, commitments: 5, gas_used: 6 };
        let named = report.regions().into_iter().chain([("startup", 99), ("witness", 10)]);
        assert_eq!(RegionCycles::from_named(named, 6), RegionCycles { witness: 12, ..report });
    }
}
