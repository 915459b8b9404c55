//! Test support: where the shared fixtures are, a real local node (anvil) on 127.0.0.1, and
//! stand-ins for the GPU prover.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use bp_l1::LocalAnvil;
use bp_rpc_witness::RpcClient;
use serde_json::json;

/// `../shared/fixtures`, or `BLOCKPROVER_FIXTURES`.
pub fn fixtures() -> PathBuf {
    std::env::var_os("BLOCKPROVER_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
}

/// What `blockprover-gpu devices` says on a machine with one H200 (for stand-ins of it).
pub const ONE_H200: &str = r#"{"driver_version":13000,"archs":[89,90,100,120],"devices":[{"index":0,"name":"NVIDIA H200","memory_bytes":150754820096,"compute_capability":[9,0]}]}"#;

/// Writes an executable shell script with `body` at `path`: a stand-in for a program.
pub fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("writing a script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("making it executable");
}

/// anvil's first dev account, unlocked.
pub const DEV_ACCOUNT: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// A running anvil with Cancun rules, stopped when dropped.
#[derive(Debug)]
pub struct Anvil {
    node: LocalAnvil,
}

impl Anvil {
    /// Starts [`LocalAnvil`] with Cancun rules (anvil lacks the EIP-7002/7251 contracts,
    /// without which Prague blocks are invalid) and one second between block timestamps.
    /// Without anvil: `None` after saying so, or a panic if `BLOCKPROVER_REQUIRE_ANVIL=1` (as CI
    /// sets; [`LocalAnvil::available_for_tests`]).
    pub fn start() -> Option<Anvil> {
        if !LocalAnvil::available_for_tests() {
            return None;
        }
        let node = LocalAnvil::start("cancun", None).expect("anvil starts");
        let anvil = Anvil { node };
        // Blocks mined within one second would share a timestamp, which consensus rules forbid.
        anvil.client().call_fresh("anvil_setBlockTimestampInterval", json!([1])).expect("anvil extension");
        Some(anvil)
    }

    /// Its JSON-RPC URL.
    pub fn url(&self) -> &str {
        &self.node.url
    }

    /// A client without cache or retries.
    pub fn client(&self) -> RpcClient {
        RpcClient::new(self.url(), None).with_retries(1, Duration::ZERO)
    }
}

/// Sends a transaction from the unlocked dev account and waits for it to be mined successfully;
/// returns (block number, created contract).
pub fn send(client: &RpcClient, to: Option<Address>, data: &str, value: u64) -> (u64, Option<Address>) {
    let mut tx =
        json!({"from": DEV_ACCOUNT, "data": format!("0x{data}"), "value": format!("{value:#x}"), "gas": "0x100000"});
    if let Some(to) = to {
        tx["to"] = json!(to);
    }
    let hash = client.call_fresh("eth_sendTransaction", json!([tx])).expect("transaction accepted");
    let started = Instant::now();
    let receipt = loop {
        let receipt = client.call_fresh("eth_getTransactionReceipt", json!([hash])).expect("receipt");
        if !receipt.is_null() {
            break receipt;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "transaction {hash} not mined");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(receipt["status"], "0x1", "transaction failed: {receipt}");
    let block = u64::from_str_radix(receipt["blockNumber"].as_str().expect("mined").trim_start_matches("0x"), 16)
        .expect("hex block number");
    let created = receipt["contractAddress"].as_str().and_then(|a| a.parse().ok());
    (block, created)
}
