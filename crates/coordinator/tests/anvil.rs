//! Against a real node: the coordinator follows a local anvil (127.0.0.1) while transactions are
//! being sent, batches its blocks two at a time, and provers prove them to anvil's state roots.
//! Skipped without anvil unless `BLOCKPROVER_REQUIRE_ANVIL=1` (CI); see bp-testkit.

mod common;

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use bp_backend::{Proof, ProofType};
use bp_coordinator::RpcSource;
use bp_input::ChainConfig;
use bp_testkit::{send, Anvil};
use common::*;
use serde_json::json;

/// Runtime `SSTORE(calldata[0..32], calldata[32..64])` behind init code that returns it.
const SETTER: &str = "6008600c60003960086000f36020356000355500";

const BATCHES: u64 = 4;
const BLOCKS_PER_BATCH: u64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provers_follow_a_live_node() {
    let Some(anvil) = Anvil::start() else { return };
    let node = anvil.client();
    // anvil's genesis header claims the empty state root although accounts are funded, so
    // block 1 cannot be proved against it: batching starts at block 2.
    send(&node, Some(Address::repeat_byte(0x11)), "", 1);

    let data = tempfile::tempdir().unwrap();
    let chain = bp_rpc_witness::resolve_chain(&node, Some(ChainConfig::by_name("Cancun").unwrap())).unwrap();
    let source = RpcSource::new(anvil.client(), chain, BLOCKS_PER_BATCH, Some(2));
    let running = bp_coordinator::start(config(data.path()), vec![Box::new(source)]).await.unwrap();
    let endpoint = running.addr.to_string();
    let stop = tokio_util::sync::CancellationToken::new();
    let provers: Vec<_> = (0..2)
        .map(|i| {
            spawn_prover(prover_config(&endpoint, data.path().join(format!("p{i}")), &format!("p{i}")), stop.clone())
        })
        .collect();

    // Traffic while the coordinator watches: transfers, a deployment, storage writes and updates.
    let traffic = tokio::task::spawn_blocking(move || {
        let (_, setter) = send(&node, None, SETTER, 0);
        let setter = setter.expect("deployed");
        for (i, (slot, value)) in [(1u64, 5u64), (2, 6), (1, 7), (3, 8), (2, 9)].into_iter().enumerate() {
            let call = format!(
                "{}{}",
                alloy_primitives::hex::encode(B256::from(U256::from(slot))),
                alloy_primitives::hex::encode(B256::from(U256::from(value)))
            );
            send(&node, Some(setter), &call, 0);
            send(&node, Some(Address::repeat_byte(0x20 + i as u8)), "", 1_000 + i as u64);
            std::thread::sleep(Duration::from_millis(100));
        }
        node
    });
    let node = traffic.await.unwrap();

    let store = running.coordinator().store();
    wait_for(Duration::from_secs(120), || store.counts(ProofType::Exec, 0).unwrap().proved >= BATCHES).await;
    stop.cancel();
    for prover in provers {
        let stats = prover.await.unwrap();
        assert_eq!((stats.rejected, stats.failed), (0, 0));
    }
    let root = |n: u64| -> B256 {
        let block = node.call_fresh("eth_getBlockByNumber", json!([format!("{n:#x}"), false])).unwrap();
        block["stateRoot"].as_str().unwrap().parse().unwrap()
    };
    let batches = store.batches().unwrap();
    let proofs = store.proofs().unwrap();
    for (batch, stored) in batches.iter().zip(&proofs).take(BATCHES as usize) {
        assert_eq!(batch.last_block - batch.first_block + 1, BLOCKS_PER_BATCH);
        assert_eq!(batch.first_block, 2 + batch.number * BLOCKS_PER_BATCH, "consecutive, none skipped");
        let outputs = Proof::from_bytes(&stored.proof).unwrap().outputs().unwrap();
        assert_eq!(outputs.initial_state_root, root(batch.first_block - 1));
        assert_eq!(outputs.final_state_root, root(batch.last_block), "batch {}", batch.number);
        assert!(outputs.tx_count >= 1);
    }
    running.shutdown().await;
}
