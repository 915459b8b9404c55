//! Test support: where the shared fixtures are, and a real local node (anvil) on 127.0.0.1.

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use bp_rpc_witness::RpcClient;
use serde_json::json;

/// `../shared/fixtures`, or `BLOCKPROVER_FIXTURES`.
pub fn fixtures() -> PathBuf {
    std::env::var_os("BLOCKPROVER_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"))
}

/// anvil's first dev account, unlocked.
pub const DEV_ACCOUNT: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// A running anvil, killed (by its PID) when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn anvil_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BLOCKPROVER_ANVIL") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("anvil")).find(|p| p.is_file()))
}

impl Anvil {
    /// Starts anvil (found in `BLOCKPROVER_ANVIL`, then `PATH`) on a free 127.0.0.1 port with
    /// Cancun rules and one second between block timestamps (anvil lacks the EIP-7002/7251
    /// contracts, without which Prague blocks are invalid). Without anvil: `None` after saying
    /// so, or a panic if `BLOCKPROVER_REQUIRE_ANVIL=1` (as CI sets).
    pub fn start() -> Option<Anvil> {
        let Some(binary) = anvil_binary() else {
            if std::env::var("BLOCKPROVER_REQUIRE_ANVIL").is_ok_and(|v| v == "1") {
                panic!("anvil not found (set BLOCKPROVER_ANVIL or put it on PATH)");
            }
            eprintln!("SKIPPED: anvil not found; set BLOCKPROVER_ANVIL or BLOCKPROVER_REQUIRE_ANVIL=1");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--hardfork", "cancun", "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let anvil = Anvil { child, url: format!("http://127.0.0.1:{port}") };
        let probe = RpcClient::new(&anvil.url, None).with_retries(1, Duration::ZERO);
        let started = Instant::now();
        while probe.call("eth_chainId", json!([])).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "anvil did not answer within 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        // Blocks mined within one second would share a timestamp, which consensus rules forbid.
        probe.call_fresh("anvil_setBlockTimestampInterval", json!([1])).expect("anvil extension");
        Some(anvil)
    }

    /// A client without cache or retries.
    pub fn client(&self) -> RpcClient {
        RpcClient::new(&self.url, None).with_retries(1, Duration::ZERO)
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
