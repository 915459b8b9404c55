//! What the proposer requires, and what its owner may do: rotate the committer and the proof
//! sender, revert batches no proof has verified for the revert delay, and replace a verifier
//! after the upgrade delay. Nothing here can make a proof optional (docs/l1.md).

use std::fmt;

use alloy::{
    primitives::{Address, B256},
    providers::DynProvider,
};

use crate::{settle::confirm, L1Config, L1Error, OnChainProposer, Sent};

/// A proof system the proposer can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofSystem {
    /// RISC Zero (`IRiscZeroVerifier`, an image id).
    Risc0,
    /// SP1 (`ISP1Verifier`, a verifying key hash).
    Sp1,
}

impl ProofSystem {
    /// The contract's number for it (`OnChainProposer.RISC0` / `SP1`).
    fn number(self) -> u8 {
        match self {
            ProofSystem::Risc0 => 0,
            ProofSystem::Sp1 => 1,
        }
    }
}

/// The proofs a batch needs on L1, as the proposer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofRequirements {
    /// Dev mode: no zk proof is checked, only the committed values.
    pub dev_mode: bool,
    /// The RISC Zero verifier and image id, if required.
    pub risc0: Option<(Address, B256)>,
    /// The SP1 verifier and vkey, if required.
    pub sp1: Option<(Address, B256)>,
}

impl ProofRequirements {
    /// Reads them from the proposer at `proposer`.
    pub async fn read(provider: &DynProvider, proposer: Address) -> Result<Self, L1Error> {
        let contract = OnChainProposer::new(proposer, provider.clone());
        let dev_mode = contract.devMode().call().await.map_err(L1Error::from_contract)?;
        let risc0 = contract.verifierOf(ProofSystem::Risc0.number()).call().await.map_err(L1Error::from_contract)?;
        let sp1 = contract.verifierOf(ProofSystem::Sp1.number()).call().await.map_err(L1Error::from_contract)?;
        let required = |verifier: Address, id: B256| (!verifier.is_zero()).then_some((verifier, id));
        Ok(Self {
            dev_mode,
            risc0: required(risc0.verifier, risc0.programId),
            sp1: required(sp1.verifier, sp1.programId),
        })
    }
}

impl fmt::Display for ProofRequirements {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dev_mode {
            return f.write_str("dev mode (no zk proof is checked on L1)");
        }
        let mut parts = Vec::new();
        if let Some((verifier, id)) = self.risc0 {
            parts.push(format!("risc0 (verifier {verifier}, image id {id})"));
        }
        if let Some((verifier, id)) = self.sp1 {
            parts.push(format!("sp1 (verifier {verifier}, vkey {id})"));
        }
        write!(f, "proofs required: {}", parts.join(", "))
    }
}

/// The proposer's owner.
#[derive(Debug, Clone)]
pub struct Owner {
    proposer: OnChainProposer::OnChainProposerInstance<DynProvider>,
    config: L1Config,
}

impl Owner {
    /// The owner of `proposer`, signing through `provider`.
    pub fn new(provider: DynProvider, proposer: Address, config: L1Config) -> Self {
        Self { proposer: OnChainProposer::new(proposer, provider), config }
    }

    /// Reverts every committed batch after `keep`; allowed once the oldest unverified batch
    /// has waited the revert delay without a proof.
    pub async fn revert_batches(&self, keep: u64) -> Result<Sent, L1Error> {
        confirm(self.proposer.revertBatches(alloy::primitives::U256::from(keep)).send().await, &self.config).await
    }

    /// Hands the committer's role to `account`.
    pub async fn set_committer(&self, account: Address) -> Result<Sent, L1Error> {
        confirm(self.proposer.setCommitter(account).send().await, &self.config).await
    }

    /// Hands the proof sender's role to `account`.
    pub async fn set_proof_sender(&self, account: Address) -> Result<Sent, L1Error> {
        confirm(self.proposer.setProofSender(account).send().await, &self.config).await
    }

    /// Proposes a new verifier and program id for a required proof system.
    pub async fn propose_upgrade(&self, system: ProofSystem, verifier: Address, id: B256) -> Result<Sent, L1Error> {
        confirm(self.proposer.proposeUpgrade(system.number(), verifier, id).send().await, &self.config).await
    }

    /// Applies a proposed upgrade whose delay has passed.
    pub async fn apply_upgrade(&self, system: ProofSystem) -> Result<Sent, L1Error> {
        confirm(self.proposer.applyUpgrade(system.number()).send().await, &self.config).await
    }
}
