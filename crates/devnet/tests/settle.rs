//! The coordinator's proof sender against a real L1 (anvil): a batch committed with a value its
//! proof does not have is refused by the contract, its proofs are moved aside (so the batch is
//! proved again) and nothing is verified, until the owner reverts the wrong commit after the
//! revert delay and the committer commits the batch again: then it is verified and the chain
//! continues; proofs wait out an L1 node that is down and a
//! coordinator stopped between storing a proof and verifying it, and every batch ends verified
//! exactly once. The settled happy path is the binary's `tests/settle.rs` (the devnet on an L1).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use bp_backend::ProofType;
use bp_coordinator::{now_ms, ConnectionLimits, CoordinatorConfig, SettlementConfig, StoredProof};
use bp_devnet::{Builder, DepositFeed, DevnetSource};
use bp_input::PrivilegedTx;
use bp_l1::{BatchCommit, Committer, DeployParams, L1Config, LocalAnvil, ProofSender, ANVIL_KEYS};
use bp_protocol::{AuthKey, FrameLimits};

/// A chain without deposits (this L1's bridge has none queued).
struct NoDeposits;

impl DepositFeed for NoDeposits {
    fn deposits(&mut self, _number: u64, _next_nonce: u64) -> Result<Vec<PrivilegedTx>, String> {
        Ok(Vec::new())
    }
}

fn anvil() -> Option<LocalAnvil> {
    LocalAnvil::available_for_tests().then(|| LocalAnvil::start("prague", None).expect("anvil starts"))
}

/// The revert delay of the test deployments.
const REVERT_DELAY: u64 = 600;

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_commit_is_refused_then_reverted_by_the_owner_and_the_chain_continues() {
    let Some(anvil) = anvil() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    // The committer posts the batch claiming one transaction more than it has.
    let committed = deploy_and_commit(dir.path(), &anvil.url, 1, 1).await;
    let running = settling_coordinator(dir.path().join("coordinator.sqlite"), &committed).await;
    let store = running.coordinator().store();
    // A proof of what the batch really is (a prover's submission, checked at the server).
    assert!(store.store_proof(&exec_proof(&committed.sealed[0])).expect("stored"));

    let started = Instant::now();
    let refused = loop {
        let refused = store.refused_proofs(0).expect("store");
        if !refused.is_empty() {
            break refused;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the proof sender never sent the batch");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(refused[0].0, ProofType::Exec);
    assert!(refused[0].1.contains("public output differs: transaction count"), "{}", refused[0].1);
    assert!(!store.has_proof(0, ProofType::Exec).expect("store"), "a refused proof stays aside");
    assert!(store.settlements().expect("store").is_empty());
    assert_eq!(sender(&committed).last_verified().await.expect("L1"), 0);

    // The owner reverts the wrong commit once it has waited the revert delay unverified, and
    // the committer commits the batch as it is; the next proof of it is verified.
    let owner_provider = bp_l1::provider(&committed.config, Some(&key(0))).expect("provider");
    let owner = bp_l1::Owner::new(owner_provider, committed.proposer, committed.config.clone());
    assert!(matches!(owner.revert_batches(0).await, Err(bp_l1::L1Error::Reverted(r)) if r.contains("revert delay")));
    anvil.advance_time(REVERT_DELAY).await.expect("anvil");
    owner.revert_batches(0).await.expect("the wrong commit is reverted");
    assert_eq!(sender(&committed).last_committed().await.expect("L1"), 0);
    let committer = Committer::new(
        bp_l1::provider(&committed.config, Some(&key(1))).expect("provider"),
        committed.proposer,
        committed.config.clone(),
    );
    committer.commit(&batch_commit(&committed.sealed[0], 0)).await.expect("committed again, as it is");
    assert!(store.store_proof(&exec_proof(&committed.sealed[0])).expect("proved again"));
    let started = Instant::now();
    while store.settlements().expect("store").is_empty() {
        assert!(started.elapsed() < Duration::from_secs(60), "the corrected batch was never verified");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What `blockprover status` shows of the L1, as the proof sender recorded it.
    let l1 = store.l1_state().expect("store").expect("the proof sender recorded the L1");
    assert_eq!(l1.proposer, committed.proposer);
    assert_eq!(l1.mode, "dev mode (no zk proof is checked on L1)");
    running.shutdown().await;
    assert_eq!(sender(&committed).last_verified().await.expect("L1"), 1);
}

fn key(i: usize) -> bp_l1::PrivateKeySigner {
    bp_l1::signer(ANVIL_KEYS[i]).expect("a key")
}

/// The commit of `batch`, claiming `extra_txs` transactions more than it has (0: the truth).
fn batch_commit(batch: &bp_devnet::SealedBatch, extra_txs: u64) -> BatchCommit {
    let l2 = batch.expected.l2.expect("an L2 batch");
    BatchCommit {
        batch: batch.index as u64 + 1,
        state_root: batch.expected.final_state_root,
        last_block_hash: batch.expected.last_block_hash,
        tx_count: batch.expected.tx_count + extra_txs,
        withdrawals_root: l2.withdrawals_root,
        deposits_hash: l2.deposits_hash,
        deposit_count: 0,
        blob: batch.blob.blob.clone(),
        commitment: batch.blob.commitment,
        blob_proof: batch.blob.proof,
    }
}

/// An exec proof of `batch` as a prover would submit it.
fn exec_proof(batch: &bp_devnet::SealedBatch) -> StoredProof {
    StoredProof {
        batch: batch.index as u64,
        proof_type: ProofType::Exec,
        proof: Vec::new(),
        public_outputs: batch.expected.to_public_bytes().to_vec(),
        prover: "test".into(),
        proving_ms: 1,
        stored_at_ms: now_ms(),
    }
}

/// A reader of the proposer.
fn sender(c: &Committed) -> ProofSender {
    ProofSender::new(bp_l1::provider(&c.config, None).expect("provider"), c.proposer, c.config.clone())
}

/// What the fault test sets up: a deployment and the sealed batches, committed on L1.
struct Committed {
    config: L1Config,
    proposer: Address,
    builder: Arc<Mutex<Builder>>,
    sealed: Vec<bp_devnet::SealedBatch>,
}

/// Builds `count` batches without deposits, deploys, and commits them all, each claiming
/// `extra_txs` transactions more than it has (0: the truth).
async fn deploy_and_commit(dir: &std::path::Path, url: &str, count: usize, extra_txs: u64) -> Committed {
    let mut builder = Builder::open(&dir.join("l2.sqlite")).expect("builder");
    let genesis = builder.head().clone();
    let sealed: Vec<_> = (0..count)
        .map(|_| builder.build_batch_with(2, &mut NoDeposits, Address::repeat_byte(0x42)).expect("a batch").clone())
        .collect();
    let config = L1Config::new(url.to_string());
    let owner = bp_l1::provider(&config, Some(&key(0))).expect("provider");
    let params = DeployParams {
        l2_chain_id: builder.chain().chain_id,
        chain_config_hash: builder.chain().hash(),
        genesis_state_root: genesis.state_root,
        genesis_block_hash: genesis.hash_slow(),
        committer: key(1).address(),
        proof_sender: key(2).address(),
        l2_bridge: bp_input::L2_BRIDGE_ADDRESS,
        max_deposit_gas: bp_devnet::MAX_DEPOSIT_GAS,
        risc0: None,
        sp1: None,
        dev_mode: true,
        revert_delay: REVERT_DELAY,
        upgrade_delay: bp_l1::DEFAULT_UPGRADE_DELAY,
    };
    let deployment = bp_l1::deploy(&owner, &config, &params).await.expect("deployed");
    let committer =
        Committer::new(bp_l1::provider(&config, Some(&key(1))).expect("provider"), deployment.proposer, config.clone());
    for batch in &sealed {
        committer.commit(&batch_commit(batch, extra_txs)).await.expect("committed");
    }
    Committed { config, proposer: deployment.proposer, builder: Arc::new(Mutex::new(builder)), sealed }
}

/// A coordinator on `db` that settles on `c`'s proposer and takes `c`'s batches.
async fn settling_coordinator(db: std::path::PathBuf, c: &Committed) -> bp_coordinator::Running {
    let config = CoordinatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_listen: None,
        db,
        key: AuthKey::insecure(),
        limits: FrameLimits::default(),
        required: vec![ProofType::Exec],
        assignment_timeout: Duration::from_secs(60),
        connections: ConnectionLimits::default(),
        source_poll: Duration::from_millis(50),
        settlement: Some(SettlementConfig {
            l1: c.config.clone(),
            proposer: c.proposer,
            key: bp_l1::signer(ANVIL_KEYS[2]).expect("a key"),
            poll: Duration::from_millis(100),
        }),
    };
    let source = DevnetSource::hand_over(c.builder.clone());
    let running = bp_coordinator::start(config, vec![Box::new(source)]).await.expect("coordinator");
    let started = Instant::now();
    while running.coordinator().store().batches().expect("store").len() < c.sealed.len() {
        assert!(started.elapsed() < Duration::from_secs(30), "the batches never reached the store");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running
}

#[tokio::test(flavor = "multi_thread")]
async fn proofs_wait_out_a_stopped_l1_and_a_restarted_coordinator_verifies_each_batch_once() {
    let Some(anvil) = anvil() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let committed = deploy_and_commit(dir.path(), &anvil.url, 2, 0).await;
    let db = dir.path().join("coordinator.sqlite");

    // The L1 node stops (its chain kept aside); a coordinator stores both proofs meanwhile and
    // is stopped before it could verify either.
    let port = anvil.port;
    let chain = anvil.dump_state().await.expect("anvil state");
    drop(anvil);
    let first = settling_coordinator(db.clone(), &committed).await;
    let store = first.coordinator().store();
    for batch in &committed.sealed {
        assert!(store.store_proof(&exec_proof(batch)).expect("stored"));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(store.settlements().expect("store").is_empty());
    for batch in 0..2 {
        assert!(store.refused_proofs(batch).expect("store").is_empty(), "a node that is down refuses nothing");
        assert!(store.has_proof(batch, ProofType::Exec).expect("store"));
    }
    first.shutdown().await;

    // The node comes back with its chain; a new coordinator on the same database verifies both.
    let anvil = LocalAnvil::start("prague", Some(port)).expect("anvil restarts");
    anvil.load_state(&chain).await.expect("chain loaded");
    let second = settling_coordinator(db.clone(), &committed).await;
    let started = Instant::now();
    let settled = loop {
        let settled = second.coordinator().store().settlements().expect("store");
        if settled.len() == 2 {
            break settled;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "verified {} of 2 batches", settled.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.shutdown().await;
    assert_eq!(sender(&committed).last_verified().await.expect("L1"), 2);

    // A third coordinator finds both verified on L1 and sends nothing again.
    let third = settling_coordinator(db, &committed).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(third.coordinator().store().settlements().expect("store"), settled);
    for batch in 0..2 {
        assert!(third.coordinator().store().refused_proofs(batch).expect("store").is_empty());
    }
    third.shutdown().await;
    assert_eq!(sender(&committed).last_verified().await.expect("L1"), 2);
}
