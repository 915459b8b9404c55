//! A tampered input must be refused, each kind with its own error — never executed on a guess.

use std::path::PathBuf;

use alloy_primitives::{keccak256, Bytes, B256};
use bp_conformance::{for_each_file, stateless_inputs};
use bp_input::ProgramInput;
use bp_program::{execute_input, BlockError, HeaderError, ProgramError, StateError};
use bp_trie::{decode_node, DecodedNode, TrieError};

fn archive() -> PathBuf {
    bp_testkit::fixtures().join("eest-tests-bal-v5.7.0/fork_transitions.tar.zst")
}

/// A real test block that runs code and reads and writes storage.
fn input_with_storage_and_code() -> ProgramInput {
    let mut found = None;
    for_each_file(&archive(), &mut |_, text| {
        if found.is_some() {
            return;
        }
        let tests: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        for fixture in tests.as_object().expect("object").values() {
            let Ok(inputs) = stateless_inputs(fixture) else { continue };
            for input in inputs {
                if !input.witness.codes.is_empty() && storage_leaf(&input).is_some() {
                    found = Some(input);
                    return;
                }
            }
        }
    })
    .expect("archive readable");
    found.expect("the suite has a block that touches code and storage")
}

/// Index of a witness node that is a storage leaf (its value is an RLP integer, ≤ 33 bytes).
fn storage_leaf(input: &ProgramInput) -> Option<usize> {
    input.witness.state.iter().position(|node| {
        matches!(decode_node(node, B256::ZERO), Ok(DecodedNode::Leaf { value, .. }) if value.len() <= 33 && !value.is_empty())
    })
}

#[test]
fn untampered_input_executes() {
    let input = input_with_storage_and_code();
    let output = execute_input(&input).expect("the recorded witness suffices");
    assert_eq!(output.final_state_root, input.blocks[0].header.state_root);
    assert_eq!(output.initial_state_root, input.parent_header.state_root);
}

#[test]
fn removed_node_is_missing() {
    let mut input = input_with_storage_and_code();
    let index = input.witness.state.iter().position(|n| keccak256(n) != input.parent_header.state_root).unwrap();
    let removed = keccak256(input.witness.state.remove(index));
    match execute_input(&input) {
        Err(ProgramError::Witness(StateError::Trie(TrieError::MissingNode { hash, .. }))) => assert_eq!(hash, removed),
        other => panic!("expected the removed node to be reported missing, got {other:?}"),
    }
}

#[test]
fn removed_root_node_is_reported() {
    let mut input = input_with_storage_and_code();
    let root = input.parent_header.state_root;
    input.witness.state.retain(|n| keccak256(n) != root);
    assert_eq!(execute_input(&input), Err(ProgramError::MissingStateRoot(root)));
}

#[test]
fn changed_storage_value_is_not_accepted() {
    let mut input = input_with_storage_and_code();
    let index = storage_leaf(&input).unwrap();
    let original = keccak256(&input.witness.state[index]);
    let mut node = input.witness.state[index].to_vec();
    *node.last_mut().unwrap() ^= 1;
    input.witness.state[index] = Bytes::from(node);
    // Nodes are found by their hash: the forged leaf is never used, the genuine one is missing.
    match execute_input(&input) {
        Err(ProgramError::Witness(StateError::Trie(TrieError::MissingNode { hash, .. }))) => assert_eq!(hash, original),
        other => panic!("expected the genuine leaf to be reported missing, got {other:?}"),
    }
}

#[test]
fn wrong_parent_header_is_rejected() {
    let mut input = input_with_storage_and_code();
    input.parent_header.gas_used ^= 1;
    match execute_input(&input) {
        Err(ProgramError::InvalidBlock { error: BlockError::Header(HeaderError::ParentHash { .. }), .. }) => {}
        other => panic!("expected a parent hash mismatch, got {other:?}"),
    }
}

#[test]
fn wrong_code_is_missing() {
    let mut input = input_with_storage_and_code();
    let genuine: Vec<B256> = input.witness.codes.iter().map(keccak256).collect();
    for code in &mut input.witness.codes {
        let mut bytes = code.to_vec();
        bytes.push(0x00);
        *code = Bytes::from(bytes);
    }
    match execute_input(&input) {
        Err(ProgramError::Witness(StateError::MissingCode(hash))) => assert!(genuine.contains(&hash)),
        other => panic!("expected a missing bytecode, got {other:?}"),
    }
}

/// A real Cancun block with a blob transaction.
fn input_with_blob_tx() -> (ProgramInput, usize) {
    let mut found = None;
    for_each_file(&archive(), &mut |_, text| {
        if found.is_some() {
            return;
        }
        let tests: serde_json::Value = serde_json::from_str(&text).expect("fixture JSON");
        for fixture in tests.as_object().expect("object").values() {
            let Ok(inputs) = stateless_inputs(fixture) else { continue };
            for input in inputs {
                let blob_tx =
                    input.blocks[0].body.transactions.iter().position(|tx| {
                        matches!(tx, bp_input::BlockTx::Ethereum(alloy_consensus::TxEnvelope::Eip4844(_)))
                    });
                if let Some(index) = blob_tx {
                    found = Some((input, index));
                    return;
                }
            }
        }
    })
    .expect("archive readable");
    found.expect("the suite has a block with a blob transaction")
}

/// The held-back class of invalid block: a blob transaction in its network form (with the
/// sidecar) in a block body. alloy decodes it (the network form is a valid encoding), the
/// transactions root can be made to match, and it must still be refused, in every fork from
/// Cancun on.
#[test]
fn a_blob_transaction_with_its_sidecar_makes_the_block_invalid() {
    use alloy_consensus::{transaction::TxEip4844Variant, TxEip4844WithSidecar, TxEnvelope};
    use alloy_eips::eip7594::BlobTransactionSidecarVariant;

    let (mut input, index) = input_with_blob_tx();
    assert!(execute_input(&input).is_ok(), "the untampered block is valid");
    let block = &mut input.blocks[0];
    let bp_input::BlockTx::Ethereum(TxEnvelope::Eip4844(signed)) = &block.body.transactions[index] else {
        unreachable!("found above")
    };
    let (tx, signature, _) = signed.clone().into_parts();
    let TxEip4844Variant::TxEip4844(tx) = tx else { panic!("blocks decode the bare form") };
    let with_sidecar = TxEip4844WithSidecar::from_tx_and_sidecar(
        tx,
        BlobTransactionSidecarVariant::Eip4844(alloy_eips::eip4844::BlobTransactionSidecar::default()),
    );
    let network =
        alloy_consensus::Signed::new_unhashed(TxEip4844Variant::TxEip4844WithSidecar(with_sidecar), signature);
    block.body.transactions[index] = bp_input::BlockTx::Ethereum(TxEnvelope::Eip4844(network));
    block.header.transactions_root = alloy_consensus::proofs::calculate_transaction_root(&block.body.transactions);
    // The block still decodes from its (network-form) RLP...
    assert!(bp_input::decode_block(&alloy_rlp::encode(&*block)).is_ok());
    // ...and the program refuses it for exactly this reason.
    let number = block.header.number;
    assert_eq!(
        execute_input(&input),
        Err(ProgramError::InvalidBlock { number, error: BlockError::BlobSidecarInBlock { index } })
    );
}
