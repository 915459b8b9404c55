//! The coordinator's proof sender against a real L1 (anvil): a batch committed with a value its
//! proof does not have is refused by the contract, its proofs are moved aside (so the batch is
//! proved again) and nothing is verified. The settled happy path is the binary's
//! `tests/settle.rs` (the devnet on an L1).

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
    if LocalAnvil::binary().is_none() {
        assert!(
            std::env::var("BLOCKPROVER_REQUIRE_ANVIL").as_deref() != Ok("1"),
            "anvil not found (set BLOCKPROVER_ANVIL or put it on PATH)"
        );
        eprintln!("SKIPPED: anvil not found; set BLOCKPROVER_ANVIL or BLOCKPROVER_REQUIRE_ANVIL=1");
        return None;
    }
    Some(LocalAnvil::start("prague", None).expect("anvil starts"))
}

#[tokio::test(flavor = "multi_thread")]
async fn proofs_the_contract_refuses_are_moved_aside_and_nothing_is_verified() {
    let Some(anvil) = anvil() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut builder = Builder::open(&dir.path().join("l2.sqlite")).expect("builder");
    let genesis = builder.head().clone();
    let sealed = builder.build_batch_with(2, &mut NoDeposits, Address::repeat_byte(0x42)).expect("a batch").clone();
    let l2 = sealed.expected.l2.expect("an L2 batch");

    let config = L1Config::new(anvil.url.clone());
    let key = |i: usize| bp_l1::signer(ANVIL_KEYS[i]).expect("a key");
    let owner = bp_l1::provider(&config, Some(&key(0))).expect("provider");
    let params = DeployParams {
        l2_chain_id: builder.chain().chain_id,
        chain_config_hash: builder.chain().hash(),
        genesis_state_root: genesis.state_root,
        genesis_block_hash: genesis.hash_slow(),
        committer: key(1).address(),
        proof_sender: key(2).address(),
        l2_bridge: bp_input::L2_BRIDGE_ADDRESS,
        max_deposit_gas: bp_devnet::GAS_LIMIT,
        risc0: None,
        sp1: None,
    };
    let deployment = bp_l1::deploy(&owner, &config, &params).await.expect("deployed");

    // The committer posts the batch claiming one transaction more than it has.
    let committer =
        Committer::new(bp_l1::provider(&config, Some(&key(1))).expect("provider"), deployment.proposer, config.clone());
    let commit = BatchCommit {
        batch: 1,
        state_root: sealed.expected.final_state_root,
        last_block_hash: sealed.expected.last_block_hash,
        tx_count: sealed.expected.tx_count + 1,
        withdrawals_root: l2.withdrawals_root,
        deposits_hash: l2.deposits_hash,
        deposit_count: 0,
        blob: sealed.blob.blob.clone(),
        commitment: sealed.blob.commitment,
        blob_proof: sealed.blob.proof,
    };
    committer.commit(&commit).await.expect("committed");

    let coordinator = CoordinatorConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_listen: None,
        db: dir.path().join("coordinator.sqlite"),
        key: AuthKey::insecure(),
        limits: FrameLimits::default(),
        required: vec![ProofType::Exec],
        assignment_timeout: Duration::from_secs(60),
        connections: ConnectionLimits::default(),
        source_poll: Duration::from_millis(50),
        settlement: Some(SettlementConfig {
            l1: config.clone(),
            proposer: deployment.proposer,
            key: key(2),
            poll: Duration::from_millis(100),
        }),
    };
    let source = DevnetSource::hand_over(Arc::new(Mutex::new(builder)));
    let running = bp_coordinator::start(coordinator, vec![Box::new(source)]).await.expect("coordinator");
    let store = running.coordinator().store();
    let started = Instant::now();
    while store.batch(0).expect("store").is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "the batch never reached the store");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A proof of what the batch really is (a prover's submission, checked at the server).
    let proof = StoredProof {
        batch: 0,
        proof_type: ProofType::Exec,
        proof: Vec::new(),
        public_outputs: sealed.expected.to_public_bytes().to_vec(),
        prover: "test".into(),
        proving_ms: 1,
        stored_at_ms: now_ms(),
    };
    assert!(store.store_proof(&proof).expect("stored"));

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
    let sender = ProofSender::new(owner, deployment.proposer, config);
    assert_eq!(sender.last_verified().await.expect("L1"), 0);
    running.shutdown().await;
}
