//! The contracts on a real node (anvil): deposits in, batches committed with their blobs and
//! verified word by word, withdrawals paid once, and every refusal a revert with its reason.
//! Batches here are synthetic but shaped exactly as the program outputs them (its own
//! evaluation of the blob, c-kzg's opening); the devnet tests settle real ones.

use alloy::{
    primitives::{keccak256, Address, Bytes, B256, U256},
    providers::{DynProvider, Provider},
    signers::local::PrivateKeySigner,
};
use bp_input::{PrivilegedTx, L2_BRIDGE_ADDRESS};
use bp_l1::{
    BatchCommit, Committer, CommonBridge, DeployParams, Deployment, L1Config, L1Error, LocalAnvil, MockRisc0Verifier,
    OnChainProposer, ProofSender, VerifyRequest, ANVIL_KEYS,
};
use bp_program::{
    l2::{self, WithdrawalMessage},
    L2Commitments, ProgramOutput,
};

const CHAIN_ID: u64 = 65_536_999;
const CONFIG_HASH: B256 = B256::repeat_byte(0xcc);
const GENESIS_ROOT: B256 = B256::repeat_byte(0x01);
const GENESIS_HASH: B256 = B256::repeat_byte(0x02);
const MAX_GAS: u64 = 30_000_000;

fn anvil() -> Option<LocalAnvil> {
    LocalAnvil::available_for_tests().then(|| LocalAnvil::start("cancun", None).expect("anvil starts"))
}

/// The proofs a test deployment requires.
#[derive(Debug, Clone, Copy)]
enum Proofs {
    /// Dev mode: no verifier.
    Dev,
    /// Mock verifiers that accept (true) or reject (false) every proof; `None`: not required.
    Mocks { risc0: Option<bool>, sp1: Option<bool> },
}

const REVERT_DELAY: u64 = 3600;
const UPGRADE_DELAY: u64 = 7200;

fn params(keys: &[PrivateKeySigner]) -> DeployParams {
    DeployParams {
        l2_chain_id: CHAIN_ID,
        chain_config_hash: CONFIG_HASH,
        genesis_state_root: GENESIS_ROOT,
        genesis_block_hash: GENESIS_HASH,
        committer: keys[1].address(),
        proof_sender: keys[2].address(),
        l2_bridge: L2_BRIDGE_ADDRESS,
        max_deposit_gas: MAX_GAS,
        risc0: None,
        sp1: None,
        dev_mode: true,
        revert_delay: REVERT_DELAY,
        upgrade_delay: UPGRADE_DELAY,
    }
}

/// The L1 as the tests use it: owner, committer, proof sender and two users.
struct L1 {
    config: L1Config,
    keys: Vec<PrivateKeySigner>,
    /// One provider per account: each keeps its account's nonces, so two must not share one.
    accounts: Vec<DynProvider>,
    deployment: Deployment,
}

impl L1 {
    /// A deployment in dev mode.
    async fn new(anvil: &LocalAnvil) -> Self {
        Self::with(anvil, Proofs::Dev).await
    }

    async fn with(anvil: &LocalAnvil, proofs: Proofs) -> Self {
        let config = L1Config::new(&anvil.url);
        let keys: Vec<PrivateKeySigner> = ANVIL_KEYS.iter().map(|k| bp_l1::signer(k).unwrap()).collect();
        let accounts: Vec<DynProvider> = keys.iter().map(|k| bp_l1::provider(&config, Some(k)).unwrap()).collect();
        let owner = &accounts[0];
        let mut params = params(&keys);
        if let Proofs::Mocks { risc0, sp1 } = proofs {
            params.dev_mode = false;
            if let Some(accept) = risc0 {
                let mock = MockRisc0Verifier::deploy(owner.clone(), accept).await.unwrap();
                params.risc0 = Some((*mock.address(), B256::repeat_byte(7)));
            }
            if let Some(accept) = sp1 {
                let mock = bp_l1::MockSp1Verifier::deploy(owner.clone(), accept).await.unwrap();
                params.sp1 = Some((*mock.address(), B256::repeat_byte(8)));
            }
        }
        let deployment = bp_l1::deploy(owner, &config, &params).await.expect("deploys");
        Self { config, keys, accounts, deployment }
    }

    fn as_account(&self, index: usize) -> DynProvider {
        self.accounts[index].clone()
    }

    fn bridge(&self, index: usize) -> CommonBridge::CommonBridgeInstance<DynProvider> {
        CommonBridge::new(self.deployment.bridge, self.as_account(index))
    }

    fn proposer(&self, index: usize) -> OnChainProposer::OnChainProposerInstance<DynProvider> {
        OnChainProposer::new(self.deployment.proposer, self.as_account(index))
    }

    fn committer(&self, index: usize) -> Committer {
        Committer::new(self.as_account(index), self.deployment.proposer, self.config.clone())
    }

    fn sender(&self, index: usize) -> ProofSender {
        ProofSender::new(self.as_account(index), self.deployment.proposer, self.config.clone())
    }
}

/// The revert reason of a failed call or transaction.
fn reason<T: std::fmt::Debug>(result: Result<T, L1Error>) -> String {
    match result {
        Err(L1Error::Reverted(reason)) => reason,
        other => panic!("expected a revert, got {other:?}"),
    }
}

fn reverted<T: std::fmt::Debug>(result: Result<T, alloy::contract::Error>) -> String {
    reason(result.map_err(|e| {
        match e.as_revert_data() {
            Some(data) => L1Error::Reverted(
                alloy::sol_types::SolError::abi_decode(&data)
                    .map(|r: alloy::sol_types::Revert| r.reason)
                    .unwrap_or_default(),
            ),
            None => L1Error::Node(e.to_string()),
        }
    }))
}

/// A batch as the program would prove it: its commit, its outputs, its blob opening.
struct Synthetic {
    commit: BatchCommit,
    outputs: ProgramOutput,
    opening: bp_input::Bytes48,
}

fn batch(
    number: u64,
    parent: (B256, B256),
    withdrawals: &[WithdrawalMessage],
    deposits: &[B256],
    data: &[u8],
) -> Synthetic {
    let blob = l2::pack_blob(data).expect("fits");
    let (commitment, blob_proof) = l2::commit_blob(&blob).expect("commits");
    let state_diff_hash = l2::versioned_hash(&commitment);
    let blob_z = l2::evaluation_point(&state_diff_hash, data);
    let blob_y = l2::evaluate_blob(&blob, &blob_z).expect("evaluates");
    let (opening, y) = l2::open_blob(&blob, &blob_z).expect("opens");
    assert_eq!(y, blob_y);
    let leaves: Vec<B256> = withdrawals.iter().map(WithdrawalMessage::leaf).collect();
    let state_root = B256::with_last_byte(number as u8 + 0x10);
    let last_block_hash = B256::with_last_byte(number as u8 + 0x20);
    let l2 = L2Commitments {
        withdrawals_root: l2::merkle_root(&leaves),
        deposits_hash: l2::deposits_hash(deposits).expect("few deposits"),
        state_diff_hash,
        blob_z,
        blob_y,
    };
    let outputs = ProgramOutput {
        initial_state_root: parent.0,
        final_state_root: state_root,
        parent_block_hash: parent.1,
        last_block_hash,
        chain_id: CHAIN_ID,
        chain_config_hash: CONFIG_HASH,
        tx_count: 7,
        l2: Some(l2),
    };
    let commit = BatchCommit {
        batch: number,
        state_root,
        last_block_hash,
        tx_count: 7,
        withdrawals_root: l2.withdrawals_root,
        deposits_hash: l2.deposits_hash,
        deposit_count: deposits.len() as u64,
        blob,
        commitment,
        blob_proof,
    };
    Synthetic { commit, outputs, opening }
}

fn verify_request(s: &Synthetic, outputs: &ProgramOutput) -> VerifyRequest {
    VerifyRequest {
        batch: s.commit.batch,
        outputs: Bytes::copy_from_slice(&outputs.to_public_bytes()),
        blob_commitment: s.commit.commitment,
        blob_opening: s.opening,
        risc0_seal: Bytes::new(),
        sp1_proof: Bytes::new(),
    }
}

/// A withdrawal of `amount` to `receiver` as the L2 bridge sends it.
fn withdrawal(receiver: Address, amount: U256, message_id: u64) -> WithdrawalMessage {
    let mut preimage = receiver.to_vec();
    preimage.extend_from_slice(&amount.to_be_bytes::<32>());
    WithdrawalMessage { from: L2_BRIDGE_ADDRESS, data_hash: keccak256(preimage), message_id: U256::from(message_id) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_are_queued_with_the_programs_hash_and_bounded() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let user = l1.keys[3].address();
    let bridge = l1.bridge(3);
    let to = Address::repeat_byte(0x42);
    let data = Bytes::from_static(&[0x00, 0x01, 0x02]);
    let value = U256::from(10u64).pow(U256::from(18));
    let gas = 100_000u64;
    bridge.deposit(to, U256::from(gas), data.clone()).value(value).send().await.unwrap().get_receipt().await.unwrap();
    let events = bridge.DepositInitiated_filter().from_block(0).query().await.unwrap();
    let (event, _) = &events[0];
    let program = PrivilegedTx {
        chain_id: CHAIN_ID,
        nonce: 0,
        gas_limit: gas,
        to,
        value,
        data: data.clone(),
        from: user,
        ..Default::default()
    };
    assert_eq!(event.depositHash, program.deposit_hash(), "the bridge hashes a deposit as the program does");
    assert_eq!(
        bridge.depositsHash(U256::from(1)).call().await.unwrap(),
        l2::deposits_hash(&[event.depositHash]).unwrap()
    );

    // A contract deposits under its aliased address.
    let contract = bp_l1::DepositingContract::deploy(l1.as_account(3)).await.unwrap();
    contract
        .depositThrough(l1.deployment.bridge, to, U256::from(gas))
        .value(U256::from(5))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let events = bridge.DepositInitiated_filter().from_block(0).query().await.unwrap();
    let aliased = Address::from(
        U160::from_be_slice(contract.address().as_slice()).wrapping_add(U160::from_be_slice(&alias_offset())),
    );
    assert_eq!(events[1].0.from, aliased);

    // What the L2 could not include is refused at deposit time.
    let low = bridge.deposit(to, U256::from(21_000 + 10 * 8), data.clone()).send().await;
    assert_eq!(reverted(low), "CommonBridge: gas limit below the intrinsic gas");
    let high = bridge.deposit(to, U256::from(MAX_GAS + 1), Bytes::new()).send().await;
    assert_eq!(reverted(high), "CommonBridge: gas limit above the L2 block gas limit");
    let rich = l1.as_account(3);
    rich.raw_request::<_, ()>("anvil_setBalance".into(), (user, U256::from(1u8) << 130)).await.unwrap();
    let big = bridge.deposit(to, U256::from(gas), Bytes::new()).value(U256::from(1u8) << 128).send().await;
    assert_eq!(reverted(big), "CommonBridge: value of 2^128 or more");
    // Only the proposer consumes deposits.
    let consume = bridge.consumeDeposits(U256::from(1), event.depositHash).send().await;
    assert_eq!(reverted(consume), "CommonBridge: not the proposer");
}

type U160 = alloy::primitives::Uint<160, 3>;

fn alias_offset() -> [u8; 20] {
    let mut offset = [0u8; 20];
    offset[0] = 0x11;
    offset[1] = 0x11;
    offset[18] = 0x11;
    offset[19] = 0x11;
    offset
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_follow_each_other_carry_a_blob_and_consume_the_claimed_deposits() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let bridge = l1.bridge(3);
    for i in 0..2u64 {
        let send = bridge.deposit(Address::repeat_byte(9), U256::from(50_000), Bytes::new()).value(U256::from(i + 1));
        send.send().await.unwrap().get_receipt().await.unwrap();
    }
    let events = bridge.DepositInitiated_filter().from_block(0).query().await.unwrap();
    let hashes: Vec<B256> = events.iter().map(|(e, _)| e.depositHash).collect();
    let first = batch(1, (GENESIS_ROOT, GENESIS_HASH), &[], &hashes, b"batch one");

    assert_eq!(reason(l1.committer(3).commit(&first.commit).await), "OnChainProposer: not the committer");
    let mut skipping = first.commit.clone();
    skipping.batch = 2;
    assert_eq!(reason(l1.committer(1).commit(&skipping).await), "OnChainProposer: batch out of order");
    let mut wrong_deposits = first.commit.clone();
    wrong_deposits.deposit_count = 1;
    assert_eq!(
        reason(l1.committer(1).commit(&wrong_deposits).await),
        "CommonBridge: deposits hash differs from the pending deposits"
    );
    // Without the blob (a plain transaction), there is nothing for blobhash(0) to see.
    let committer = l1.proposer(1);
    let plain = committer.commitBatch(
        U256::from(1),
        first.commit.state_root,
        first.commit.last_block_hash,
        7,
        first.commit.withdrawals_root,
        first.commit.deposits_hash,
        U256::from(2),
    );
    assert_eq!(reverted(plain.send().await), "OnChainProposer: the commit carries no blob");

    let sent = l1.committer(1).commit(&first.commit).await.expect("commits");
    assert!(sent.gas_used > 0);
    assert_eq!(l1.committer(1).last_committed().await.unwrap(), 1);
    let stored = l1.proposer(0).batches(U256::from(1)).call().await.unwrap();
    assert_eq!(stored.blobVersionedHash, first.outputs.l2.unwrap().state_diff_hash, "blobhash(0) was stored");
    assert_eq!(bridge.pendingDeposits().call().await.unwrap(), U256::ZERO, "both deposits consumed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_rebuilds_every_word_checks_the_blob_and_each_required_proof() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let first = batch(1, (GENESIS_ROOT, GENESIS_HASH), &[], &[], b"batch one");
    let second = batch(2, (first.commit.state_root, first.commit.last_block_hash), &[], &[], b"batch two");
    let good = verify_request(&first, &first.outputs);

    assert_eq!(reason(l1.sender(2).verify(&good).await), "OnChainProposer: batch not committed");
    l1.committer(1).commit(&first.commit).await.unwrap();
    l1.committer(1).commit(&second.commit).await.unwrap();
    assert_eq!(reason(l1.sender(1).verify(&good).await), "OnChainProposer: not the proof sender");
    assert_eq!(
        reason(l1.sender(2).verify(&verify_request(&second, &second.outputs)).await),
        "OnChainProposer: batch out of order"
    );

    // Every word but the evaluation point and value, changed alone, is named.
    let bytes = first.outputs.to_public_bytes();
    for word in 0..11 {
        let mut changed = bytes;
        changed[word * 32 + 31] ^= 1;
        let mut request = good.clone();
        request.outputs = Bytes::copy_from_slice(&changed);
        let name = bp_program::OutputWord::ALL[word].name();
        assert_eq!(
            reason(l1.sender(2).verify(&request).await),
            format!("OnChainProposer: public output differs: {name}"),
            "word {word}"
        );
    }
    // Another point or value, or another opening, does not evaluate the posted blob.
    for word in [11, 12] {
        let mut changed = bytes;
        changed[word * 32 + 31] ^= 1;
        let mut request = good.clone();
        request.outputs = Bytes::copy_from_slice(&changed);
        assert_eq!(
            reason(l1.sender(2).verify(&request).await),
            "OnChainProposer: the blob does not evaluate to the proven value"
        );
    }
    let mut other_opening = good.clone();
    other_opening.blob_opening = second.opening;
    assert_eq!(
        reason(l1.sender(2).verify(&other_opening).await),
        "OnChainProposer: the blob does not evaluate to the proven value"
    );

    let sent = l1.sender(2).verify(&good).await.expect("verifies");
    assert!(sent.gas_used > 0);
    assert_eq!(l1.sender(2).last_verified().await.unwrap(), 1);
    assert_eq!(reason(l1.sender(2).verify(&good).await), "OnChainProposer: batch out of order", "once only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawals_are_paid_once_exactly_and_only_from_verified_batches() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let bridge = l1.bridge(3);
    // Ether for the bridge to pay out: a deposit.
    bridge
        .deposit(Address::repeat_byte(9), U256::from(50_000), Bytes::new())
        .value(U256::from(10u64).pow(U256::from(18)))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let deposits: Vec<B256> = bridge
        .DepositInitiated_filter()
        .from_block(0)
        .query()
        .await
        .unwrap()
        .iter()
        .map(|(e, _)| e.depositHash)
        .collect();
    let receiver = Address::repeat_byte(0x77);
    let amount = U256::from(123_456_789u64);
    let messages = [withdrawal(receiver, amount, 0), withdrawal(Address::repeat_byte(0x78), amount, 1)];
    let first = batch(1, (GENESIS_ROOT, GENESIS_HASH), &messages, &deposits, b"withdrawals");
    l1.committer(1).commit(&first.commit).await.unwrap();

    let leaves: Vec<B256> = messages.iter().map(WithdrawalMessage::leaf).collect();
    let proof = l2::merkle_proof(&leaves, 0).expect("a leaf");
    let claim = |receiver: Address, amount: U256, id: u64, proof: Vec<B256>| {
        bridge.claimWithdrawal(U256::from(1), U256::from(id), receiver, amount, proof)
    };
    assert_eq!(reverted(claim(receiver, amount, 0, proof.clone()).send().await), "CommonBridge: batch not verified");
    l1.sender(2).verify(&verify_request(&first, &first.outputs)).await.unwrap();

    let invalid = "CommonBridge: invalid withdrawal proof";
    assert_eq!(reverted(claim(receiver, amount + U256::from(1), 0, proof.clone()).send().await), invalid);
    assert_eq!(reverted(claim(Address::repeat_byte(0x79), amount, 0, proof.clone()).send().await), invalid);
    assert_eq!(
        reverted(claim(receiver, amount, 0, l2::merkle_proof(&leaves, 1).expect("a leaf")).send().await),
        invalid
    );

    let provider = l1.as_account(3);
    let before = provider.get_balance(receiver).await.unwrap();
    claim(receiver, amount, 0, proof.clone()).send().await.unwrap().get_receipt().await.unwrap();
    assert_eq!(provider.get_balance(receiver).await.unwrap() - before, amount, "paid exactly");
    assert_eq!(reverted(claim(receiver, amount, 0, proof).send().await), "CommonBridge: already claimed");
}

/// Every required proof is checked with its verifier, and with both, each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_required_proof_is_checked_by_its_verifier() {
    let Some(anvil) = anvil() else { return };
    let cases = [
        (Some(false), None, Some("MockRisc0Verifier: proof rejected")),
        (None, Some(false), Some("MockSp1Verifier: proof rejected")),
        (Some(true), Some(false), Some("MockSp1Verifier: proof rejected")),
        (Some(true), Some(true), None),
    ];
    for (risc0, sp1, refusal) in cases {
        let l1 = L1::with(&anvil, Proofs::Mocks { risc0, sp1 }).await;
        assert!(!l1.proposer(0).devMode().call().await.unwrap());
        let first = batch(1, (GENESIS_ROOT, GENESIS_HASH), &[], &[], b"batch one");
        l1.committer(1).commit(&first.commit).await.unwrap();
        let verified = l1.sender(2).verify(&verify_request(&first, &first.outputs)).await;
        match refusal {
            Some(expected) => assert_eq!(reason(verified), expected, "risc0 {risc0:?} sp1 {sp1:?}"),
            None => assert!(verified.is_ok(), "{verified:?}"),
        }
    }
}

/// A deployment requires zk proofs, or says by name that it is in dev mode; both are fixed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_are_required_unless_dev_mode_is_asked_for_by_name() {
    let Some(anvil) = anvil() else { return };
    let config = L1Config::new(&anvil.url);
    let keys: Vec<PrivateKeySigner> = ANVIL_KEYS.iter().map(|k| bp_l1::signer(k).unwrap()).collect();
    let owner = bp_l1::provider(&config, Some(&keys[0])).unwrap();
    let mut none = params(&keys);
    none.dev_mode = false;
    assert!(
        matches!(bp_l1::deploy(&owner, &config, &none).await, Err(L1Error::Config(m)) if m.contains("no verifier"))
    );
    let verifier = *MockRisc0Verifier::deploy(owner.clone(), true).await.unwrap().address();
    let mut both = params(&keys);
    both.risc0 = Some((verifier, B256::repeat_byte(7)));
    assert!(matches!(bp_l1::deploy(&owner, &config, &both).await, Err(L1Error::Config(m)) if m.contains("dev mode")));

    // The contract refuses the same on its own, whoever deploys it.
    let constructor = |risc0: (Address, B256), dev_mode: bool| OnChainProposer::Params {
        committer: keys[1].address(),
        proofSender: keys[2].address(),
        bridge: Address::repeat_byte(0xb),
        chainId: U256::from(CHAIN_ID),
        chainConfigHash: CONFIG_HASH,
        genesisStateRoot: GENESIS_ROOT,
        genesisBlockHash: GENESIS_HASH,
        risc0Verifier: risc0.0,
        risc0ImageId: risc0.1,
        sp1Verifier: Address::ZERO,
        sp1VKey: B256::ZERO,
        devMode: dev_mode,
        revertDelay: REVERT_DELAY,
        upgradeDelay: UPGRADE_DELAY,
    };
    let deploy = |p| OnChainProposer::deploy(owner.clone(), p);
    assert_eq!(
        reverted(deploy(constructor(Default::default(), false)).await),
        "OnChainProposer: no verifier: proofs would not be checked (dev mode only by name)"
    );
    assert_eq!(
        reverted(deploy(constructor((verifier, B256::repeat_byte(7)), true)).await),
        "OnChainProposer: dev mode takes no verifier"
    );
    assert_eq!(
        reverted(deploy(constructor((verifier, B256::ZERO), false)).await),
        "OnChainProposer: a RISC Zero verifier needs an image id and an image id a verifier"
    );
    let dev = L1::new(&anvil).await;
    assert!(dev.proposer(0).devMode().call().await.unwrap());
    let requirements = bp_l1::ProofRequirements::read(&dev.as_account(0), dev.deployment.proposer).await.unwrap();
    assert_eq!(requirements.to_string(), "dev mode (no zk proof is checked on L1)");
}

/// The attack that switched proofs off (issue 26, point 2), replayed: with a (rejecting) RISC
/// Zero verifier required, a proofless verify of a made-up batch (an empty blob, z = 1, y = 0)
/// that pays the owner a victim's deposit reverts, and the owner's next step, removing the
/// verifier, is refused; so is every other way to it. A replacement verifier takes effect only
/// after the upgrade delay, and the victim's deposit is never paid out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_cannot_switch_proofs_off() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::with(&anvil, Proofs::Mocks { risc0: Some(false), sp1: None }).await;
    let five_ether = U256::from(5u64) * U256::from(10u64).pow(U256::from(18));
    let victim = l1.bridge(3);
    let deposit = victim.deposit(l1.keys[3].address(), U256::from(50_000), Bytes::new()).value(five_ether);
    deposit.send().await.unwrap().get_receipt().await.unwrap();
    let deposits: Vec<B256> = victim
        .DepositInitiated_filter()
        .from_block(0)
        .query()
        .await
        .unwrap()
        .iter()
        .map(|(e, _)| e.depositHash)
        .collect();

    let thief = l1.keys[0].address();
    let mut made_up = batch(1, (GENESIS_ROOT, GENESIS_HASH), &[withdrawal(thief, five_ether, 0)], &deposits, b"");
    let z = B256::with_last_byte(1);
    let l2 = made_up.outputs.l2.as_mut().unwrap();
    (l2.blob_z, l2.blob_y) = (z, B256::ZERO);
    made_up.opening = l2::open_blob(&made_up.commit.blob, &z).unwrap().0;
    l1.committer(1).commit(&made_up.commit).await.unwrap();
    let request = verify_request(&made_up, &made_up.outputs);
    assert_eq!(reason(l1.sender(2).verify(&request).await), "MockRisc0Verifier: proof rejected");

    // Step two of the attack: the owner removes the verifier. There is no setter; an upgrade
    // cannot remove a proof, nor touch a proof system that is not required.
    let owner = l1.proposer(0);
    let zero = owner.proposeUpgrade(0, Address::ZERO, B256::ZERO).send().await;
    assert_eq!(reverted(zero), "OnChainProposer: an upgrade cannot remove a proof");
    let zero_id = owner.proposeUpgrade(0, Address::repeat_byte(1), B256::ZERO).send().await;
    assert_eq!(reverted(zero_id), "OnChainProposer: an upgrade cannot remove a proof");
    let other = owner.proposeUpgrade(1, Address::repeat_byte(1), B256::repeat_byte(1)).send().await;
    assert_eq!(reverted(other), "OnChainProposer: that proof system is not required");
    let stranger = l1.proposer(3).proposeUpgrade(0, Address::repeat_byte(1), B256::repeat_byte(1)).send().await;
    assert_eq!(reverted(stranger), "OnChainProposer: not the owner");

    // A replacement (here one that accepts anything) waits out the upgrade delay, in which
    // users see it coming and can leave.
    let accepting = *MockRisc0Verifier::deploy(l1.as_account(0), true).await.unwrap().address();
    let timelocked = bp_l1::Owner::new(l1.as_account(0), l1.deployment.proposer, l1.config.clone());
    timelocked.propose_upgrade(bp_l1::ProofSystem::Risc0, accepting, B256::repeat_byte(9)).await.unwrap();
    assert_eq!(
        reason(timelocked.apply_upgrade(bp_l1::ProofSystem::Risc0).await),
        "OnChainProposer: the upgrade delay has not passed"
    );
    assert_eq!(reason(l1.sender(2).verify(&request).await), "MockRisc0Verifier: proof rejected");
    let claim = victim.claimWithdrawal(U256::from(1), U256::ZERO, thief, five_ether, Vec::new()).send().await;
    assert_eq!(reverted(claim), "CommonBridge: batch not verified");

    anvil.advance_time(UPGRADE_DELAY).await.unwrap();
    timelocked.apply_upgrade(bp_l1::ProofSystem::Risc0).await.expect("applies after the delay");
    let now = bp_l1::ProofRequirements::read(&l1.as_account(0), l1.deployment.proposer).await.unwrap();
    assert_eq!(now.risc0, Some((accepting, B256::repeat_byte(9))));
    assert!(!now.dev_mode);
}

/// One bad commit does not freeze the bridge: once the oldest unverified batch has waited the
/// revert delay, the owner reverts it (and everything after it); its deposits are pending
/// again and a corrected batch includes them. Verified batches are never reverted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_reverts_stuck_batches_and_their_deposits_are_pending_again() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let bridge = l1.bridge(3);
    for value in [1u64, 2] {
        let send = bridge.deposit(Address::repeat_byte(9), U256::from(50_000), Bytes::new()).value(U256::from(value));
        send.send().await.unwrap().get_receipt().await.unwrap();
    }
    let hashes: Vec<B256> = bridge
        .DepositInitiated_filter()
        .from_block(0)
        .query()
        .await
        .unwrap()
        .iter()
        .map(|(e, _)| e.depositHash)
        .collect();
    let good = batch(1, (GENESIS_ROOT, GENESIS_HASH), &[], &hashes, b"batch one");
    let mut bad = good.commit.clone();
    bad.state_root = B256::repeat_byte(0xba);
    l1.committer(1).commit(&bad).await.unwrap();
    let on_top = batch(2, (bad.state_root, bad.last_block_hash), &[], &[], b"batch two");
    l1.committer(1).commit(&on_top.commit).await.unwrap();
    assert_eq!(bridge.pendingDeposits().call().await.unwrap(), U256::ZERO);
    assert_eq!(
        reason(l1.sender(2).verify(&verify_request(&good, &good.outputs)).await),
        "OnChainProposer: public output differs: final state root"
    );

    let owner = bp_l1::Owner::new(l1.as_account(0), l1.deployment.proposer, l1.config.clone());
    let stranger = bp_l1::Owner::new(l1.as_account(1), l1.deployment.proposer, l1.config.clone());
    assert_eq!(reason(stranger.revert_batches(0).await), "OnChainProposer: not the owner");
    assert_eq!(
        reason(owner.revert_batches(0).await),
        "OnChainProposer: the oldest unverified batch has not waited the revert delay"
    );
    anvil.advance_time(REVERT_DELAY).await.unwrap();
    assert_eq!(reason(owner.revert_batches(2).await), "OnChainProposer: no batch after it is committed");
    let reverted_two = owner.revert_batches(0).await.expect("reverts both");
    println!("L1 gas: revert of 2 batches (2 deposits restored) {}", reverted_two.gas_used);
    assert_eq!(l1.committer(1).last_committed().await.unwrap(), 0);
    assert_eq!(bridge.pendingDeposits().call().await.unwrap(), U256::from(2), "their deposits are pending again");
    assert_eq!(l1.proposer(0).batches(U256::from(2)).call().await.unwrap().stateRoot, B256::ZERO);

    // The chain continues: the corrected batch consumes the same deposits and verifies.
    l1.committer(1).commit(&good.commit).await.expect("the corrected batch commits");
    assert_eq!(bridge.pendingDeposits().call().await.unwrap(), U256::ZERO);
    l1.sender(2).verify(&verify_request(&good, &good.outputs)).await.expect("and verifies");
    let second = batch(2, (good.commit.state_root, good.commit.last_block_hash), &[], &[], b"batch two");
    l1.committer(1).commit(&second.commit).await.unwrap();
    anvil.advance_time(REVERT_DELAY).await.unwrap();
    assert_eq!(reason(owner.revert_batches(0).await), "OnChainProposer: a verified batch cannot be reverted");
    owner.revert_batches(1).await.expect("an unverified batch after a verified one reverts");
    let restore = bridge.restoreDeposits(U256::from(1)).send().await;
    assert_eq!(reverted(restore), "CommonBridge: not the proposer");
}

/// The owner alone rotates the committer and the proof sender (a lost or leaked key is
/// replaced); the two stay different accounts, and the old keys lose their role at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_rotates_the_committer_and_the_proof_sender() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let owner = bp_l1::Owner::new(l1.as_account(0), l1.deployment.proposer, l1.config.clone());
    let stranger = bp_l1::Owner::new(l1.as_account(1), l1.deployment.proposer, l1.config.clone());
    let (new_committer, new_sender) = (l1.keys[3].address(), l1.keys[4].address());
    assert_eq!(reason(stranger.set_committer(new_committer).await), "OnChainProposer: not the owner");
    assert_eq!(reason(stranger.set_proof_sender(new_sender).await), "OnChainProposer: not the owner");
    assert_eq!(
        reason(owner.set_committer(l1.keys[2].address()).await),
        "OnChainProposer: committer and proof sender must differ"
    );
    assert_eq!(reason(owner.set_proof_sender(Address::ZERO).await), "OnChainProposer: a role without an account");
    owner.set_committer(new_committer).await.unwrap();
    owner.set_proof_sender(new_sender).await.unwrap();

    let first = batch(1, (GENESIS_ROOT, GENESIS_HASH), &[], &[], b"batch one");
    assert_eq!(reason(l1.committer(1).commit(&first.commit).await), "OnChainProposer: not the committer");
    l1.committer(3).commit(&first.commit).await.expect("the new committer commits");
    let request = verify_request(&first, &first.outputs);
    assert_eq!(reason(l1.sender(2).verify(&request).await), "OnChainProposer: not the proof sender");
    l1.sender(4).verify(&request).await.expect("the new proof sender verifies");
}

/// A deposit pays for the L2 gas it asks for beyond the free allowance by burning L1 gas, so
/// block space bought through the bridge (fee-free on L2, included in order) is not free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deposits_burn_l1_gas_in_proportion_to_their_l2_gas() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let bridge = l1.bridge(3);
    let free = bridge.FREE_DEPOSIT_GAS().call().await.unwrap();
    let divisor = bridge.DEPOSIT_GAS_DIVISOR().call().await.unwrap();
    assert_eq!(bridge.depositGasCost(free).call().await.unwrap(), U256::ZERO);
    let max = U256::from(MAX_GAS);
    assert_eq!(bridge.depositGasCost(max).call().await.unwrap(), (max - free) / divisor);
    let depositor = bp_l1::Depositor::new(l1.as_account(3), l1.deployment.bridge, l1.config.clone());
    let to = Address::repeat_byte(9);
    // Warm the bridge's storage first, so both measured deposits write the same slots.
    depositor.deposit(to, U256::from(1), 21_000, Bytes::new()).await.unwrap();
    let cheap = depositor.deposit(to, U256::from(1), 100_000, Bytes::new()).await.unwrap();
    let full = depositor.deposit(to, U256::from(1), MAX_GAS, Bytes::new()).await.unwrap();
    let burned = full.gas_used - cheap.gas_used;
    let expected: u64 = ((max - free) / divisor).to();
    println!(
        "L1 gas: deposit of 100,000 L2 gas {}, of {MAX_GAS} L2 gas {} (burned {burned})",
        cheap.gas_used, full.gas_used
    );
    assert!(
        burned >= expected && burned < expected + expected / 50 + 1_000,
        "burned {burned}, expected about {expected}"
    );
}

/// The contract's output layout is the program's: every word's name and position, the size,
/// the position of the blob words and the L2 batch kind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contracts_output_layout_is_the_programs() {
    let Some(anvil) = anvil() else { return };
    let l1 = L1::new(&anvil).await;
    let proposer = l1.proposer(0);
    assert_eq!(proposer.OUTPUT_WORDS().call().await.unwrap(), U256::from(bp_program::OUTPUT_WORDS));
    assert_eq!(proposer.PUBLIC_OUTPUT_BYTES().call().await.unwrap(), U256::from(bp_program::PUBLIC_OUTPUT_BYTES));
    for word in bp_program::OutputWord::ALL {
        let name = proposer.wordName(U256::from(word.index())).call().await.unwrap();
        assert_eq!(name, word.name(), "word {}", word.index());
    }
    assert_eq!(proposer.BLOB_Z_WORD().call().await.unwrap(), U256::from(bp_program::OutputWord::BlobZ.index()));
    assert_eq!(bp_program::OutputWord::BlobY.index(), bp_program::OutputWord::BlobZ.index() + 1);
    assert_eq!(proposer.BATCH_KIND_L2().call().await.unwrap(), U256::from(bp_program::BATCH_KIND_L2));
}
