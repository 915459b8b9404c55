//! Round trip against a real node: transactions on a local anvil (127.0.0.1 only) create
//! accounts, deploy contracts, write and update storage and self-destruct a contract with
//! storage and balance (Cancun rules: EIP-6780 moves the balance, the account stays); each
//! block's input is then built from RPC alone and executed to the node's state root, and rebuilt
//! from the disk cache once the node is gone.
//!
//! anvil 1.7.1 never deletes anything from its tries: a storage slot set to zero stays as a
//! zero-valued leaf, and a destroyed account (created and self-destructed in one transaction, or
//! any self-destruct before Cancun) stays as an empty account. Its state roots for such blocks
//! are not Ethereum's, so those blocks are checked to still show the deviation instead (if a
//! newer anvil fixes it, the check fails and the blocks should join the proven ones). Deletions
//! and both trie-restructuring cases are proven on real mainnet data and on constructed tries
//! elsewhere (bp-formats' real-block tests, bp-witness' restructure tests).
//!
//! anvil comes from npm (`@foundry-rs/anvil-linux-amd64`); the test looks for it in
//! `BLOCKPROVER_ANVIL`, then `PATH`. Without it the test says so and passes, unless
//! `BLOCKPROVER_REQUIRE_ANVIL=1` (as CI sets), where a missing anvil fails it.

use std::time::Duration;

use alloy_primitives::{keccak256, Address, B256, U256};
use bp_input::ChainConfig;
use bp_rpc_witness::{build_input, header, resolve_chain, RpcClient, WitnessPath};
use bp_testkit::{send, Anvil};
use serde_json::json;

/// Runtime: `SSTORE(calldata[0..32], calldata[32..64])`.
const SETTER_RUNTIME: &str = "6020356000355500";
/// Init code returning the 8-byte runtime that follows it.
const SETTER_INIT: &str = "6008600c60003960086000f3";
/// Init code that stores 1 in slot 0 and returns a runtime that self-destructs to the caller.
const SUICIDE_WITH_STORAGE_DEPLOY: &str = "60016000556002601160003960026000f333ff";
/// Init code that self-destructs at once: created and destroyed in one transaction.
const SUICIDE_INIT: &str = "33ff";

fn set_call(slot: U256, value: u64) -> String {
    format!(
        "{}{}",
        alloy_primitives::hex::encode(B256::from(slot)),
        alloy_primitives::hex::encode(B256::from(U256::from(value)))
    )
}

fn first_nibble(slot: U256) -> u8 {
    keccak256(B256::from(slot))[0] >> 4
}

/// Slots whose hashed keys start with the given nibble, in order.
fn slots_with_nibble(nibble: u8) -> impl Iterator<Item = U256> {
    (1u64..).map(U256::from).filter(move |s| first_nibble(*s) == nibble)
}

/// The last node of a storage proof, decoded as a leaf value: `Some(0)` is a zero-valued leaf.
fn proven_leaf_value(client: &RpcClient, address: Address, slot: U256, block: u64) -> Option<Vec<u8>> {
    let proof =
        client.call("eth_getProof", json!([address, [B256::from(slot)], format!("{block:#x}")])).expect("eth_getProof");
    let last: alloy_primitives::Bytes = proof["storageProof"][0]["proof"].as_array()?.last()?.as_str()?.parse().ok()?;
    match bp_trie::decode_node(&last, keccak256(&last)).ok()? {
        bp_trie::DecodedNode::Leaf { value, .. } => Some(value),
        _ => None,
    }
}

#[test]
fn anvil_blocks_prove_to_the_nodes_state_roots() {
    let Some(anvil) = Anvil::start() else { return };
    let cache = std::env::temp_dir().join(format!("bp-anvil-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let client = RpcClient::new(anvil.url(), Some(&cache));
    // Transactions and receipts change the node: never through the cache.
    let node = RpcClient::new(anvil.url(), None);
    let chain = resolve_chain(&client, Some(ChainConfig::by_name("Cancun").expect("known rules"))).expect("chain id");
    assert_eq!(chain.chain_id, 31337);

    // Block 1 keeps anvil's genesis base fee where Ethereum's rule lowers it (the advice the
    // witness command gives for anvil says so), so proving starts at block 2.
    assert!(bp_rpc_witness::node_is_anvil(&node));
    send(&node, Some(Address::repeat_byte(0x11)), "", 1);
    let first = build_input(&node, 1, &chain).expect_err("block 1 breaks the base fee rule");
    let first = bp_program::ErrorChain(&first).to_string();
    assert!(first.contains("base fee"), "{first}");
    let mut blocks = Vec::new();
    blocks.push(send(&node, Some(Address::repeat_byte(0x22)), "", 1_000).0);
    let (block, setter) = send(&node, None, &format!("{SETTER_INIT}{SETTER_RUNTIME}"), 0);
    blocks.push(block);
    let setter = setter.expect("contract created");
    let a1 = slots_with_nibble(0x3).next().expect("exists");
    let a2 = slots_with_nibble(0xc).next().expect("exists");
    blocks.push(send(&node, Some(setter), &set_call(a1, 1), 0).0);
    blocks.push(send(&node, Some(setter), &set_call(a2, 2), 0).0);
    blocks.push(send(&node, Some(setter), &set_call(a2, 3), 0).0);

    // A contract with storage and balance self-destructs: its balance goes to the caller.
    let (block, doomed) = send(&node, None, SUICIDE_WITH_STORAGE_DEPLOY, 3_000);
    blocks.push(block);
    let doomed = doomed.expect("contract created");
    let code = node.call("eth_getCode", json!([doomed, format!("{block:#x}")])).expect("code");
    assert_eq!(code, "0x33ff", "the doomed contract is deployed");
    blocks.push(send(&node, Some(doomed), "", 0).0);
    let balance = node.call("eth_getBalance", json!([doomed, "latest"])).expect("balance");
    assert_eq!(balance, "0x0", "the self-destruct moved the balance");

    for &number in &blocks {
        let (input, report) = build_input(&client, number, &chain).unwrap_or_else(|e| panic!("block {number}: {e}"));
        assert_eq!(report.path, WitnessPath::Proofs, "anvil has no debug_executionWitness");
        let output = bp_program::execute_input(&input).unwrap_or_else(|e| panic!("block {number}: {e}"));
        let expected = header(&client, number).expect("header").state_root;
        assert_eq!(output.final_state_root, expected, "block {number}");
    }

    // anvil's deviations, pinned (see the module documentation).
    let cleared = send(&node, Some(setter), &set_call(a1, 0), 0).0;
    assert_eq!(
        proven_leaf_value(&node, setter, a1, cleared).as_deref(),
        Some(&[0x80u8][..]),
        "anvil now deletes zeroed slots: prove storage-clearing blocks in this test"
    );
    let (created_and_destroyed, address) = send(&node, None, SUICIDE_INIT, 0);
    let address = address.expect("address");
    let account =
        node.call("eth_getProof", json!([address, [], format!("{created_and_destroyed:#x}")])).expect("proof");
    let before =
        node.call("eth_getProof", json!([address, [], format!("{:#x}", created_and_destroyed - 1)])).expect("proof");
    assert_ne!(
        account["accountProof"], before["accountProof"],
        "anvil no longer keeps created-and-destroyed accounts: prove such blocks in this test"
    );

    // With the node gone, the cache alone rebuilds every input.
    let calls = client.calls();
    drop(anvil);
    let offline = RpcClient::new(client.url(), Some(&cache)).with_retries(1, Duration::ZERO);
    for &number in &blocks {
        let (input, _) =
            build_input(&offline, number, &chain).unwrap_or_else(|e| panic!("offline block {number}: {e}"));
        bp_program::execute_input(&input).expect("same input");
    }
    assert_eq!(offline.calls(), 0, "every answer came from the cache");
    assert!(calls > 0);
    let _ = std::fs::remove_dir_all(&cache);
}
