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

/// Deploys the bridge and the proposer, links them and sets the required verifiers, from the
/// account `provider` signs with (the owner).
pub async fn deploy(provider: &DynProvider, config: &L1Config, params: &DeployParams) -> Result<Deployment, L1Error> {
    let bridge = CommonBridge::deploy(
        provider.clone(),
        U256::from(params.l2_chain_id),
        params.l2_bridge,
        U256::from(params.max_deposit_gas),
    )
    .await
    .map_err(L1Error::from_contract)?;
    let proposer = OnChainProposer::deploy(
        provider.clone(),
        params.committer,
        params.proof_sender,
        *bridge.address(),
        U256::from(params.l2_chain_id),
        params.chain_config_hash,
        params.genesis_state_root,
        params.genesis_block_hash,
    )
    .await
    .map_err(L1Error::from_contract)?;
    let mut last = confirm(bridge.setProposer(*proposer.address()).send().await, config).await?;
    if let Some((verifier, image_id)) = params.risc0 {
        last = confirm(proposer.setRisc0Verifier(verifier, image_id).send().await, config).await?;
    }
    if let Some((verifier, vkey)) = params.sp1 {
        last = confirm(proposer.setSp1Verifier(verifier, vkey).send().await, config).await?;
    }
    tracing::info!(bridge = %bridge.address(), proposer = %proposer.address(), "L1 contracts deployed");
    Ok(Deployment { bridge: *bridge.address(), proposer: *proposer.address(), block: last.block })
}
