//! What an L2 batch's proof binds (issue: soundness of the public outputs): a deposit executes
//! only with fields the L1 bridge binds, consecutive batches chain by block hash, the rules are
//! committed by hash, the batch kind is an output, and no block credits ether but through a
//! deposit.

use alloy_consensus::proofs::{calculate_transaction_root, calculate_withdrawals_root};
use alloy_eips::{
    eip2930::{AccessList, AccessListItem},
    eip4895::Withdrawal,
};
use alloy_primitives::Address;
use bp_devnet::{Builder, DepositFeed, SealedBatch};
use bp_input::{BlockTx, PrivilegedTx, ProgramInput};
use bp_program::{execute_input, BlockError, CreditError, GotExpected, L2Error, ProgramError};

fn batches(count: usize) -> (std::path::PathBuf, Vec<SealedBatch>) {
    // One directory per call: tests run in parallel and may ask for the same count.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("bp-devnet-soundness-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut builder = Builder::open(&dir.join("l2.sqlite")).expect("opens");
    let sealed = (0..count).map(|_| builder.build_batch(2).expect("builds").clone()).collect();
    (dir, sealed)
}

/// The input with `edit` applied to the first privileged transaction, its block's transactions
/// root recomputed (so the block gets past its body check and is judged on the transaction);
/// returns the block's number and the transaction's index.
fn with_edited_deposit(input: &ProgramInput, edit: impl Fn(&mut bp_input::PrivilegedTx)) -> (ProgramInput, u64, usize) {
    let mut input = input.clone();
    let (position, index) = input
        .blocks
        .iter()
        .enumerate()
        .find_map(|(i, b)| b.body.transactions.iter().position(|tx| tx.as_privileged().is_some()).map(|t| (i, t)))
        .expect("the devnet batch has a deposit");
    let block = &mut input.blocks[position];
    if let BlockTx::Privileged(tx) = &mut block.body.transactions[index] {
        edit(tx);
    }
    block.header.transactions_root = calculate_transaction_root(&block.body.transactions);
    let number = block.header.number;
    (input, number, index)
}

#[test]
fn a_deposit_with_fields_the_bridge_does_not_bind_makes_its_block_invalid() {
    let (dir, sealed) = batches(1);
    let input = &sealed[0].input;
    assert!(execute_input(input).is_ok());
    type Edit = Box<dyn Fn(&mut bp_input::PrivilegedTx)>;
    let cases: [(&str, Edit); 3] = [
        (
            "accessList",
            Box::new(|tx| {
                tx.access_list =
                    AccessList(vec![AccessListItem { address: Address::repeat_byte(1), storage_keys: vec![] }])
            }),
        ),
        ("maxFeePerGas", Box::new(|tx| tx.max_fee_per_gas = 1)),
        ("maxPriorityFeePerGas", Box::new(|tx| tx.max_priority_fee_per_gas = 1)),
    ];
    for (field, edit) in cases {
        let (edited, number, index) = with_edited_deposit(input, edit);
        assert_eq!(
            execute_input(&edited),
            Err(ProgramError::InvalidBlock { number, error: BlockError::PrivilegedField { index, field } }),
            "{field}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn outputs_bind_parent_rules_and_kind() {
    let (dir, sealed) = batches(3);
    let outputs: Vec<_> = sealed.iter().map(|s| execute_input(&s.input).expect("proves")).collect();
    for (i, (output, batch)) in outputs.iter().zip(&sealed).enumerate() {
        assert_eq!(output.parent_block_hash, batch.input.parent_header.hash_slow(), "batch {i}");
        assert_eq!(output.chain_config_hash, bp_devnet::chain_config().hash());
        assert_eq!(output.batch_kind(), bp_program::BATCH_KIND_L2);
    }
    // A verifier chains batches by block hash as well as by state root.
    for pair in outputs.windows(2) {
        assert_eq!(pair[1].parent_block_hash, pair[0].last_block_hash);
        assert_eq!(pair[1].initial_state_root, pair[0].final_state_root);
    }

    // Other rules give another configuration hash, so a proof says which rules it executed
    // under: here Osaka from genesis instead of Prague (the devnet's blocks are valid under both).
    let mut osaka = sealed[0].input.clone();
    osaka.chain = bp_input::ChainConfig {
        chain_id: osaka.chain.chain_id,
        ..bp_input::ChainConfig::for_test_network("Osaka").expect("known")
    };
    osaka.chain.deposit_contract = None;
    let output = execute_input(&osaka).expect("the devnet's blocks are valid under Osaka too");
    assert_ne!(output.chain_config_hash, outputs[0].chain_config_hash);
    assert_eq!(output.final_state_root, outputs[0].final_state_root);

    // An L2 batch's input run as L1 blocks is refused (its deposits are not L1 transactions);
    // if it ran, its batch kind word would say so.
    let mut as_l1 = sealed[0].input.clone();
    as_l1.l2 = None;
    assert!(matches!(
        execute_input(&as_l1),
        Err(ProgramError::InvalidBlock { error: BlockError::TxTypeNotActive { tx_type: 0x7e, .. }, .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A chain whose blocks carry no deposits.
struct NoDeposits;

impl DepositFeed for NoDeposits {
    fn deposits(&mut self, _number: u64, _next_nonce: u64) -> Result<Vec<PrivilegedTx>, String> {
        Ok(Vec::new())
    }
}

/// The attack of a sequencer that proves its own batches: it adds a beacon-chain withdrawal of
/// 1000 ether to itself and sets the withdrawals root and the state root to what execution
/// gives. The roots are consistent (the same block runs as an L1 block, where withdrawals are
/// real), and the L2 batch is still refused, naming the field.
#[test]
fn an_l2_block_with_a_beacon_withdrawal_is_refused_even_with_consistent_roots() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut builder = Builder::open(&dir.path().join("l2.sqlite")).expect("opens");
    let sealed = builder.build_batch_with(1, &mut NoDeposits, Address::repeat_byte(0x42)).expect("builds").clone();
    assert!(execute_input(&sealed.input).is_ok());

    let mut minting = sealed.input.clone();
    let block = &mut minting.blocks[0];
    let number = block.header.number;
    // The coinbase's account is in the witness (it earns the block's priority fees).
    let thousand_ether_in_gwei = 1_000_000_000_000;
    let withdrawal =
        Withdrawal { index: 0, validator_index: 0, address: bp_devnet::COINBASE, amount: thousand_ether_in_gwei };
    block.body.withdrawals = Some(vec![withdrawal].into());
    block.header.withdrawals_root = Some(calculate_withdrawals_root(&[withdrawal]));
    let mut as_l1 = minting.clone();
    as_l1.l2 = None;
    let Err(ProgramError::InvalidBlock { error: BlockError::StateRoot(GotExpected { got, .. }), .. }) =
        execute_input(&as_l1)
    else {
        panic!("the old state root no longer holds once the withdrawal is credited");
    };
    minting.blocks[0].header.state_root = got;
    as_l1.blocks[0].header.state_root = got;
    let credited = execute_input(&as_l1).expect("consistent roots: as an L1 block, the withdrawal is credited");
    assert_eq!(credited.final_state_root, got);

    assert_eq!(
        execute_input(&minting),
        Err(ProgramError::InvalidBlock {
            number,
            error: BlockError::Credit(CreditError::BeaconWithdrawals { count: 1 })
        })
    );
    // A withdrawal of nothing is refused too: the list must be empty.
    let mut zero = minting.clone();
    let nothing = Withdrawal { amount: 0, ..withdrawal };
    zero.blocks[0].body.withdrawals = Some(vec![nothing].into());
    zero.blocks[0].header.withdrawals_root = Some(calculate_withdrawals_root(&[nothing]));
    assert!(matches!(
        execute_input(&zero),
        Err(ProgramError::InvalidBlock { error: BlockError::Credit(CreditError::BeaconWithdrawals { count: 1 }), .. })
    ));
}

/// An L2 chain configuration may not name an EIP-6110 deposit contract (nothing would credit
/// what is deposited there), nor put a block before the merge (a block reward).
#[test]
fn an_l2_chain_with_l1_only_sources_of_ether_is_refused() {
    let (dir, sealed) = batches(1);
    let mut input = sealed[0].input.clone();
    let contract = Address::repeat_byte(0xde);
    input.chain.deposit_contract = Some(contract);
    assert_eq!(execute_input(&input), Err(ProgramError::L2(L2Error::DepositContract(contract))));

    let mut pre_merge = sealed[0].input.clone();
    pre_merge.chain.forks.retain(|(fork, _)| *fork != alloy_hardforks::EthereumHardfork::Paris);
    let number = pre_merge.blocks[0].header.number;
    assert_eq!(
        execute_input(&pre_merge),
        Err(ProgramError::InvalidBlock { number, error: BlockError::Credit(CreditError::PreMerge(number)) })
    );
    let _ = std::fs::remove_dir_all(&dir);
}
