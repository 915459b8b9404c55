//! The proof sender: has every proved batch verified on L1, in order, from its own account.
//!
//! It reads the contract's `lastVerifiedBatch` before each step, so a restart (or another
//! sender) never makes it send a batch twice. Coordinator batch `n` is L1 batch `n + 1` (L1
//! batch 0 is the L2 genesis): every batch of a settling coordinator is an L2 batch, in order.
//! A verify the contract refuses (a proof or output it rejects) moves the batch's proofs aside
//! as refused, so the batch is proved again.

use std::{sync::Arc, time::Duration};

use alloy_primitives::{Address, Bytes};
use backon::{BackoffBuilder, ExponentialBuilder};
use bp_backend::ProofType;
use bp_l1::{L1Config, L1Error, PrivateKeySigner, ProofSender, VerifyRequest};
use bp_program::ErrorChain;
use tokio_util::sync::CancellationToken;

use crate::{
    now_ms,
    store::{L1State, Settlement},
    Coordinator, StoreError,
};

/// Where and as whom proofs are sent.
#[derive(Debug, Clone)]
pub struct SettlementConfig {
    /// The L1 node and how deep a transaction must be.
    pub l1: L1Config,
    /// The OnChainProposer.
    pub proposer: Address,
    /// The proof sender's key (its address is the contract's `proofSender`).
    pub key: PrivateKeySigner,
    /// How often to look for work when there is none.
    pub poll: Duration,
}

/// What one step of the sender did.
#[derive(Debug)]
enum Step {
    /// Verified this L1 batch.
    Verified(u64),
    /// The contract refused the batch's proofs; they were moved aside.
    Refused(u64),
    /// Nothing to send yet.
    Waiting,
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
enum SettleError {
    #[error("L1")]
    L1(#[from] L1Error),
    #[error("store")]
    Store(#[from] StoreError),
    #[error("batch {0} has no blob opening: it was not made for settlement")]
    NoOpening(u64),
}

/// Sends proofs until `stop` is cancelled.
pub(crate) async fn send_proofs(coordinator: Arc<Coordinator>, config: SettlementConfig, stop: CancellationToken) {
    let provider = match bp_l1::provider(&config.l1, Some(&config.key)) {
        Ok(provider) => provider,
        Err(e) => {
            tracing::error!("proof sender cannot start: {}", ErrorChain(&e));
            return;
        }
    };
    let mode = loop {
        match bp_l1::ProofRequirements::read(&provider, config.proposer).await {
            Ok(mode) => break mode.to_string(),
            Err(e) => tracing::warn!("proof sender: reading the proposer's proofs: {}", ErrorChain(&e)),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop.cancelled() => return,
        }
    };
    let sender = ProofSender::new(provider, config.proposer, config.l1.clone());
    tracing::info!(proposer = %config.proposer, account = %config.key.address(), %mode, "proof sender started");
    let backoff = ExponentialBuilder::default()
        .with_min_delay(config.poll)
        .with_max_delay(Duration::from_secs(60))
        .without_max_times();
    let mut delays = backoff.build();
    while !stop.is_cancelled() {
        let delay = match step(&coordinator, &sender, &mode).await {
            Ok(Step::Verified(batch)) => {
                delays = backoff.build();
                tracing::info!(l1_batch = batch, "batch verified on L1");
                continue;
            }
            Ok(Step::Refused(batch)) => {
                delays = backoff.build();
                tracing::warn!(l1_batch = batch, "L1 refused the batch's proofs; they will be made again");
                config.poll
            }
            Ok(Step::Waiting) => {
                delays = backoff.build();
                config.poll
            }
            Err(e) => {
                let delay = delays.next().unwrap_or(config.poll);
                tracing::warn!("proof sender: {} (retrying in {delay:?})", ErrorChain(&e));
                delay
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.cancelled() => {}
        }
    }
}

async fn step(coordinator: &Coordinator, sender: &ProofSender, mode: &str) -> Result<Step, SettleError> {
    let verified = sender.last_verified().await?;
    let committed = sender.last_committed().await?;
    let metrics = coordinator.metrics();
    metrics.l1_batches(committed, verified);
    coordinator.store().record_l1_state(&L1State {
        proposer: sender.proposer(),
        mode: mode.to_owned(),
        last_committed: committed,
        last_verified: verified,
        updated_ms: now_ms(),
    })?;
    let next = verified + 1;
    if next > committed {
        return Ok(Step::Waiting);
    }
    let number = next - 1;
    let store = coordinator.store();
    let Some(batch) = store.batch(number)? else { return Ok(Step::Waiting) };
    let mut proofs = Vec::new();
    for proof_type in coordinator.required() {
        match store.proof(number, *proof_type)? {
            Some(proof) => proofs.push(proof),
            None => return Ok(Step::Waiting),
        }
    }
    let opening = store.blob_opening(number)?.ok_or(SettleError::NoOpening(number))?;
    // The receipt of each required zkVM proof goes to its verifier (an on-chain verifier takes a
    // Groth16 seal, which offline builds cannot make; docs/l1.md).
    let seal = |kind: ProofType| {
        proofs
            .iter()
            .find(|p| p.proof_type == kind)
            .and_then(|p| bp_backend::Proof::from_bytes(&p.proof).ok())
            .map(|p| Bytes::from(p.receipt))
            .unwrap_or_default()
    };
    let request = VerifyRequest {
        batch: next,
        outputs: Bytes::copy_from_slice(&batch.expected.to_public_bytes()),
        blob_commitment: opening.commitment,
        blob_opening: opening.proof,
        risc0_seal: seal(ProofType::Risc0),
        sp1_proof: seal(ProofType::Sp1),
    };
    match sender.verify(&request).await {
        Ok(sent) => {
            metrics.l1_gas("verify", sent.gas_used);
            store.record_settlement(
                &Settlement { batch: number, tx_hash: sent.hash, gas_used: sent.gas_used },
                now_ms(),
            )?;
            Ok(Step::Verified(next))
        }
        Err(L1Error::Reverted(reason)) => {
            // Another sender (or this one before a restart) may have verified it meanwhile.
            if sender.last_verified().await? >= next {
                return Ok(Step::Waiting);
            }
            tracing::error!(batch = number, l1_batch = next, "L1 refused the proofs: {reason}");
            store.refuse_proofs(number, &reason, now_ms())?;
            Ok(Step::Refused(next))
        }
        Err(e) => Err(e.into()),
    }
}
