//! The committer (posts batches with their blobs) and the proof sender (has them verified).

use alloy::{
    eips::eip4844::{Blob, BlobTransactionSidecar, Bytes48},
    network::{Ethereum, ReceiptResponse},
    primitives::{Address, Bytes, TxHash, B256, U256},
    providers::{DynProvider, PendingTransactionBuilder},
};

use crate::{CommonBridge, L1Config, L1Error, OnChainProposer};

/// A transaction on chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// Its hash.
    pub hash: TxHash,
    /// Gas it used.
    pub gas_used: u64,
    /// The block it is in.
    pub block: u64,
}

/// Waits for a sent transaction's receipt (`config.confirmations` deep) and refuses a reverted
/// one.
pub(crate) async fn confirm(
    pending: Result<PendingTransactionBuilder<Ethereum>, alloy::contract::Error>,
    config: &L1Config,
) -> Result<Sent, L1Error> {
    let pending = pending.map_err(L1Error::from_contract)?;
    let hash = *pending.tx_hash();
    let receipt = pending
        .with_required_confirmations(config.confirmations.max(1))
        .with_timeout(Some(config.receipt_timeout))
        .get_receipt()
        .await
        .map_err(|e| L1Error::Node(format!("transaction {hash}: {e}")))?;
    if !receipt.inner.status() {
        return Err(L1Error::Reverted(format!("transaction {hash} reverted")));
    }
    Ok(Sent { hash, gas_used: receipt.gas_used(), block: receipt.block_number().unwrap_or_default() })
}

/// A batch as the committer posts it.
#[derive(Debug, Clone)]
pub struct BatchCommit {
    /// Its number on L1 (batch 0 is the genesis).
    pub batch: u64,
    /// Its final state root.
    pub state_root: B256,
    /// Its last block's hash.
    pub last_block_hash: B256,
    /// Its non-privileged transactions.
    pub tx_count: u64,
    /// Its withdrawals root.
    pub withdrawals_root: B256,
    /// Its deposits hash.
    pub deposits_hash: B256,
    /// How many deposits it includes (the bridge's next ones).
    pub deposit_count: u64,
    /// Its state-diff blob.
    pub blob: Box<[u8; 131_072]>,
    /// The blob's KZG commitment.
    pub commitment: Bytes48,
    /// The blob's proof (`compute_blob_kzg_proof`).
    pub blob_proof: Bytes48,
}

/// Deposits ether (and calls) to the L2 through the bridge, from one L1 account.
#[derive(Debug, Clone)]
pub struct Depositor {
    bridge: CommonBridge::CommonBridgeInstance<DynProvider>,
    config: L1Config,
}

impl Depositor {
    /// A depositor to `bridge`, signing through `provider`.
    pub fn new(provider: DynProvider, bridge: Address, config: L1Config) -> Self {
        Self { bridge: CommonBridge::new(bridge, provider), config }
    }

    /// Deposits `value` wei calling `to` on the L2 with `data` and `gas_limit`.
    pub async fn deposit(&self, to: Address, value: U256, gas_limit: u64, data: Bytes) -> Result<Sent, L1Error> {
        confirm(self.bridge.deposit(to, U256::from(gas_limit), data).value(value).send().await, &self.config).await
    }

    /// Claims a withdrawal of a verified batch for `receiver` (anyone may send the claim; only
    /// `receiver` is paid).
    pub async fn claim(
        &self,
        batch: u64,
        message_id: u64,
        receiver: Address,
        amount: U256,
        proof: Vec<B256>,
    ) -> Result<Sent, L1Error> {
        let call = self.bridge.claimWithdrawal(U256::from(batch), U256::from(message_id), receiver, amount, proof);
        confirm(call.send().await, &self.config).await
    }
}

/// Commits batches, from the committer's account.
#[derive(Debug, Clone)]
pub struct Committer {
    proposer: OnChainProposer::OnChainProposerInstance<DynProvider>,
    config: L1Config,
}

impl Committer {
    /// A committer of `proposer`, signing through `provider`.
    pub fn new(provider: DynProvider, proposer: Address, config: L1Config) -> Self {
        Self { proposer: OnChainProposer::new(proposer, provider), config }
    }

    /// The contract's newest committed batch.
    pub async fn last_committed(&self) -> Result<u64, L1Error> {
        let last = self.proposer.lastCommittedBatch().call().await.map_err(L1Error::from_contract)?;
        u64::try_from(last).map_err(|_| L1Error::Node("lastCommittedBatch over 2^64".into()))
    }

    /// Commits `batch` in an EIP-4844 transaction carrying its blob.
    pub async fn commit(&self, batch: &BatchCommit) -> Result<Sent, L1Error> {
        let sidecar = BlobTransactionSidecar::new(
            vec![Blob::from_slice(batch.blob.as_slice())],
            vec![batch.commitment],
            vec![batch.blob_proof],
        );
        let call = self
            .proposer
            .commitBatch(
                U256::from(batch.batch),
                batch.state_root,
                batch.last_block_hash,
                batch.tx_count,
                batch.withdrawals_root,
                batch.deposits_hash,
                U256::from(batch.deposit_count),
            )
            .sidecar(sidecar);
        confirm(call.send().await, &self.config).await
    }
}

/// What verifying a batch takes.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    /// Its number on L1.
    pub batch: u64,
    /// Its public outputs (416 bytes), as the proofs commit them.
    pub outputs: Bytes,
    /// Its blob's KZG commitment.
    pub blob_commitment: Bytes48,
    /// The blob's opening at the outputs' evaluation point (`compute_kzg_proof`).
    pub blob_opening: Bytes48,
    /// The RISC Zero seal, if RISC Zero proofs are required (else empty).
    pub risc0_seal: Bytes,
    /// The SP1 proof, if SP1 proofs are required (else empty).
    pub sp1_proof: Bytes,
}

/// Sends proofs, from the proof sender's account.
#[derive(Debug, Clone)]
pub struct ProofSender {
    proposer: OnChainProposer::OnChainProposerInstance<DynProvider>,
    config: L1Config,
}

impl ProofSender {
    /// A proof sender to `proposer`, signing through `provider`.
    pub fn new(provider: DynProvider, proposer: Address, config: L1Config) -> Self {
        Self { proposer: OnChainProposer::new(proposer, provider), config }
    }

    /// The proposer's address.
    pub fn proposer(&self) -> Address {
        *self.proposer.address()
    }

    /// The contract's newest verified batch.
    pub async fn last_verified(&self) -> Result<u64, L1Error> {
        let last = self.proposer.lastVerifiedBatch().call().await.map_err(L1Error::from_contract)?;
        u64::try_from(last).map_err(|_| L1Error::Node("lastVerifiedBatch over 2^64".into()))
    }

    /// The contract's newest committed batch.
    pub async fn last_committed(&self) -> Result<u64, L1Error> {
        let last = self.proposer.lastCommittedBatch().call().await.map_err(L1Error::from_contract)?;
        u64::try_from(last).map_err(|_| L1Error::Node("lastCommittedBatch over 2^64".into()))
    }

    /// Refuses to send from `account` unless it is the contract's proof sender and not its
    /// committer (the two roles are separate accounts, so one leaked key cannot both post and
    /// prove a batch).
    pub async fn check_account(&self, account: Address) -> Result<(), L1Error> {
        let committer = self.proposer.committer().call().await.map_err(L1Error::from_contract)?;
        let proof_sender = self.proposer.proofSender().call().await.map_err(L1Error::from_contract)?;
        if account == committer {
            return Err(L1Error::Config(format!(
                "{account} is the proposer's committer; proofs need their own account"
            )));
        }
        if account != proof_sender {
            return Err(L1Error::Config(format!("{account} is not the proposer's proof sender ({proof_sender})")));
        }
        Ok(())
    }

    /// Has `request.batch` verified.
    pub async fn verify(&self, request: &VerifyRequest) -> Result<Sent, L1Error> {
        let call = self.proposer.verifyBatch(
            U256::from(request.batch),
            request.outputs.clone(),
            Bytes::copy_from_slice(request.blob_commitment.as_slice()),
            Bytes::copy_from_slice(request.blob_opening.as_slice()),
            request.risc0_seal.clone(),
            request.sp1_proof.clone(),
        );
        confirm(call.send().await, &self.config).await
    }
}
