//! Claiming an L2 transaction's withdrawals on L1 (`blockprover claim`): the node's
//! `bp_getWithdrawalProof` names the batch and the Merkle proofs, the proposer says whether
//! the batch is verified, and the bridge pays.

use alloy::providers::Provider;
use alloy_primitives::{Address, B256, U256};
use bp_l1::{CommonBridge, Depositor, L1Config, L1Error, PrivateKeySigner, ProofSender};

use crate::eth::WithdrawalProof;

/// Why a claim was not made.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// The L2 node could not be asked, or answered an error (no such transaction, no
    /// withdrawal in it, its batch not sealed yet).
    #[error("the L2 node: {0}")]
    L2(String),
    /// The L2 node runs without an L1: nothing can be claimed.
    #[error("the L2 node settles on no L1")]
    NoSettlement,
    /// The batch is not verified on L1 yet; try again later.
    #[error("batch {batch} not verified yet (L1 has verified through batch {verified})")]
    NotVerified {
        /// The withdrawal's batch.
        batch: u64,
        /// The proposer's last verified batch.
        verified: u64,
    },
    /// L1 refused or could not be reached.
    #[error(transparent)]
    L1(#[from] L1Error),
}

/// One withdrawal's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The L2 bridge's message id.
    pub message_id: u64,
    /// Who was paid.
    pub receiver: Address,
    /// Wei paid by this claim (zero if it had been claimed before).
    pub amount: U256,
    /// The claim transaction (none if it had been claimed before).
    pub tx: Option<B256>,
    /// The receiver's balance after the claim.
    pub balance: U256,
}

/// Asks the L2 node at `l2_url` for the claims of transaction `tx`.
pub async fn withdrawal_proof(l2_url: &str, tx: B256) -> Result<WithdrawalProof, ClaimError> {
    let l2 = bp_l1::provider(&L1Config::new(l2_url), None).map_err(|e| ClaimError::L2(e.to_string()))?;
    l2.raw_request("bp_getWithdrawalProof".into(), (tx,)).await.map_err(|e| ClaimError::L2(e.to_string()))
}

/// Claims every withdrawal of L2 transaction `tx` on `l1`, sending as `key` (anyone may send a
/// claim; only the receiver is paid). Withdrawals claimed before are reported, not claimed
/// again.
pub async fn claim(l2_url: &str, l1: &L1Config, key: &PrivateKeySigner, tx: B256) -> Result<Vec<Claimed>, ClaimError> {
    let proof = withdrawal_proof(l2_url, tx).await?;
    let (Some(bridge), Some(proposer)) = (proof.bridge, proof.proposer) else { return Err(ClaimError::NoSettlement) };
    let provider = bp_l1::provider(l1, Some(key))?;
    let verified = ProofSender::new(provider.clone(), proposer, l1.clone()).last_verified().await?;
    if verified < proof.batch {
        return Err(ClaimError::NotVerified { batch: proof.batch, verified });
    }
    let reader = CommonBridge::new(bridge, provider.clone());
    let depositor = Depositor::new(provider.clone(), bridge, l1.clone());
    let mut claimed = Vec::new();
    for w in proof.withdrawals {
        let done = reader
            .claimed(U256::from(w.message_id))
            .call()
            .await
            .map_err(|e| L1Error::Node(format!("reading the bridge's claims: {e}")))?;
        let (amount, tx) = if done {
            (U256::ZERO, None)
        } else {
            let sent = depositor.claim(proof.batch, w.message_id, w.receiver, w.amount, w.proof).await?;
            (w.amount, Some(sent.hash))
        };
        let balance = bp_l1::balance(&provider, w.receiver).await?;
        claimed.push(Claimed { message_id: w.message_id, receiver: w.receiver, amount, tx, balance });
    }
    Ok(claimed)
}
