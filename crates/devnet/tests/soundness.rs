//! What an L2 batch's proof binds (issue: soundness of the public outputs): a deposit executes
//! only with fields the L1 bridge binds, consecutive batches chain by block hash, the rules are
//! committed by hash, and the batch kind is an output.

use alloy_consensus::proofs::calculate_transaction_root;
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::Address;
use bp_devnet::{Builder, SealedBatch};
use bp_input::{BlockTx, ProgramInput};
use bp_program::{execute_input, BlockError, ProgramError};

fn batches(count: usize) -> (std::path::PathBuf, Vec<SealedBatch>) {
    let dir = std::env::temp_dir().join(format!("bp-devnet-soundness-{}-{count}", std::process::id()));
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
