//! Deploying the bridge and the proposer for one L2.

use alloy::{
    primitives::{Address, B256, U256},
    providers::DynProvider,
};
use serde::{Deserialize, Serialize};

use crate::{settle::confirm, CommonBridge, L1Config, L1Error, OnChainProposer};

/// What the contracts must know of the L2 they settle.
#[derive(Debug, Clone)]
pub struct DeployParams {
    /// The L2's chain id.
    pub l2_chain_id: u64,
    /// The hash of the L2's chain configuration (`ChainConfig::hash`).
    pub chain_config_hash: B256,
    /// The L2 genesis state root: batch 0's final state.
    pub genesis_state_root: B256,
    /// The L2 genesis block hash: batch 0's last block.
    pub genesis_block_hash: B256,
    /// The account that commits batches.
    pub committer: Address,
    /// The account that sends proofs (not the committer).
    pub proof_sender: Address,
    /// The L2 bridge predeploy whose messages are ether withdrawals.
    pub l2_bridge: Address,
    /// The largest deposit gas limit: the L2 block gas limit.
    pub max_deposit_gas: u64,
    /// RISC Zero verifier and image id, if RISC Zero proofs are required.
    pub risc0: Option<(Address, B256)>,
    /// SP1 verifier and verifying key hash, if SP1 proofs are required.
    pub sp1: Option<(Address, B256)>,
    /// No zk proof is checked on L1, only the committed values: must be asked for by name, and
    /// only without verifiers.
    pub dev_mode: bool,
    /// Seconds the oldest unverified batch must wait before the owner may revert batches.
    pub revert_delay: u64,
    /// Seconds between proposing a verifier upgrade and applying it.
    pub upgrade_delay: u64,
}

/// The default revert delay: a day without a proof of the oldest unverified batch.
pub const DEFAULT_REVERT_DELAY: u64 = 24 * 3600;
/// The default upgrade delay: a week for users to leave before a new verifier takes effect.
pub const DEFAULT_UPGRADE_DELAY: u64 = 7 * 24 * 3600;

impl DeployParams {
    /// Refuses what the proposer's constructor would: a deployment whose proofs would not be
    /// checked without dev mode asked for by name, dev mode with a verifier, and a committer
    /// that is also the proof sender.
    pub fn check(&self) -> Result<(), L1Error> {
        let verifiers = self.risc0.is_some() || self.sp1.is_some();
        if !verifiers && !self.dev_mode {
            return Err(L1Error::Config(
                "no verifier: proofs would not be checked on L1; give a RISC Zero or SP1 verifier, or ask for dev \
                 mode by name"
                    .into(),
            ));
        }
        if verifiers && self.dev_mode {
            return Err(L1Error::Config("dev mode takes no verifier".into()));
        }
        for (what, id) in [("RISC Zero image id", self.risc0), ("SP1 vkey", self.sp1)] {
            if let Some((verifier, id)) = id {
                if verifier.is_zero() || id.is_zero() {
                    return Err(L1Error::Config(format!("a zero verifier or {what}")));
                }
            }
        }
        if self.committer == self.proof_sender {
            return Err(L1Error::Config("the committer and the proof sender must be different accounts".into()));
        }
        Ok(())
    }
}

/// Where the contracts of one L2 live (what `blockprover deploy` writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// The bridge.
    pub bridge: Address,
    /// The OnChainProposer.
    pub proposer: Address,
    /// The L1 block the deployment finished in (deposits are read from it on).
    pub block: u64,
}

/// Deploys the bridge and the proposer (with its required verifiers, fixed from then on) and
/// links them, from the account `provider` signs with (the owner).
pub async fn deploy(provider: &DynProvider, config: &L1Config, params: &DeployParams) -> Result<Deployment, L1Error> {
    params.check()?;
    let bridge = CommonBridge::deploy(
        provider.clone(),
        U256::from(params.l2_chain_id),
        params.l2_bridge,
        U256::from(params.max_deposit_gas),
    )
    .await
    .map_err(L1Error::from_contract)?;
    let (risc0_verifier, risc0_image_id) = params.risc0.unwrap_or_default();
    let (sp1_verifier, sp1_vkey) = params.sp1.unwrap_or_default();
    let constructor = OnChainProposer::Params {
        committer: params.committer,
        proofSender: params.proof_sender,
        bridge: *bridge.address(),
        chainId: U256::from(params.l2_chain_id),
        chainConfigHash: params.chain_config_hash,
        genesisStateRoot: params.genesis_state_root,
        genesisBlockHash: params.genesis_block_hash,
        risc0Verifier: risc0_verifier,
        risc0ImageId: risc0_image_id,
        sp1Verifier: sp1_verifier,
        sp1VKey: sp1_vkey,
        devMode: params.dev_mode,
        revertDelay: params.revert_delay,
        upgradeDelay: params.upgrade_delay,
    };
    let proposer = OnChainProposer::deploy(provider.clone(), constructor).await.map_err(L1Error::from_contract)?;
    let last = confirm(bridge.setProposer(*proposer.address()).send().await, config).await?;
    tracing::info!(bridge = %bridge.address(), proposer = %proposer.address(), "L1 contracts deployed");
    Ok(Deployment { bridge: *bridge.address(), proposer: *proposer.address(), block: last.block })
}
