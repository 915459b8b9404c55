//! The devnet settling on a real L1 node (anvil): deposits made on L1 and included by the L2,
//! every batch committed with its blob and verified by the coordinator's proof sender, every
//! withdrawal claimed and paid; a devnet on a node that keeps its state resumes; the roles'
//! keys are refused where they are swapped.

use std::{path::Path, process::Command};

use alloy_primitives::U256;
use bp_l1::{LocalAnvil, ANVIL_KEYS};
use serde_json::Value;

/// Runs `devnet --l1 <l1> --json` for `batches` batches of 2 blocks; its status, JSON summary
/// (if any) and stderr.
fn devnet(dir: &Path, l1: &str, batches: usize) -> (bool, Option<Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_blockprover"))
        .args(["devnet", "--json", "--l1", l1, "--batches", &batches.to_string(), "--blocks-per-batch", "2"])
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprintln!("{stderr}");
    (output.status.success(), serde_json::from_slice(&output.stdout).ok(), stderr)
}

/// Checks a settled devnet's summary: every batch proved, committed, verified, and its
/// withdrawals claimed (those of `claimed_from` on) and paid in full; the number of claims.
fn check_settled(summary: &Value, batches: usize, claimed_from: usize) -> usize {
    let rows = summary["batches"].as_array().expect("batches");
    assert_eq!(rows.len(), batches);
    assert!(rows.iter().all(|b| b["check"] == "ok"), "{summary:#}");
    let report = &summary["l1"]["report"];
    assert_eq!(report["verified"], batches as u64, "{summary:#}");
    assert_eq!(summary["l1"]["verify_gas"].as_array().map(Vec::len), Some(batches), "{summary:#}");
    let withdrawals: u64 = rows[claimed_from..].iter().map(|b| b["withdrawals"].as_u64().expect("count")).sum();
    assert!(withdrawals > 0, "the traffic withdraws in every batch");
    assert_eq!(report["claimed"], withdrawals, "{summary:#}");
    // Every devnet withdrawal is 0.01 ether, paid to the receiver by the bridge.
    let paid: U256 = report["paid"].as_str().expect("paid").parse().expect("a number");
    assert_eq!(paid, U256::from(withdrawals) * U256::from(10u64.pow(16)), "{summary:#}");
    let deposits: u64 = rows[claimed_from..].iter().map(|b| b["deposits"].as_u64().expect("count")).sum();
    assert_eq!(report["deposit_gas"].as_array().map(Vec::len), Some(deposits as usize), "{summary:#}");
    withdrawals as usize
}

#[test]
fn the_devnet_settles_on_an_embedded_anvil_and_refuses_to_resume_on_a_new_one() {
    if !LocalAnvil::available_for_tests() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, summary, stderr) = devnet(dir.path(), "anvil", 2);
    assert!(ok, "devnet --l1 anvil failed: {stderr}");
    check_settled(&summary.expect("a JSON summary"), 2, 0);

    // The embedded node is gone with the run: its contracts cannot settle the next batches.
    let (ok, _, stderr) = devnet(dir.path(), "anvil", 3);
    assert!(!ok);
    assert!(stderr.contains("an embedded anvil lives for one run only"), "{stderr}");
}

#[test]
fn a_devnet_on_a_lasting_l1_resumes_and_the_proof_sender_is_its_own_account() {
    if !LocalAnvil::available_for_tests() {
        return;
    }
    let node = LocalAnvil::start("prague", None).expect("anvil starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let (ok, summary, stderr) = devnet(dir.path(), &node.url, 1);
    assert!(ok, "devnet --l1 URL failed: {stderr}");
    check_settled(&summary.expect("a JSON summary"), 1, 0);

    // A second run continues on the same contracts: one more batch, only its withdrawals claimed.
    let (ok, summary, stderr) = devnet(dir.path(), &node.url, 2);
    assert!(ok, "the resumed devnet failed: {stderr}");
    check_settled(&summary.expect("a JSON summary"), 2, 1);

    // The coordinator refuses to send proofs from the committer's account, or from an account
    // that is not the proposer's proof sender.
    let l1: Value = serde_json::from_slice(&std::fs::read(dir.path().join("l1.json")).expect("l1.json")).expect("JSON");
    let proposer = l1["deployment"]["proposer"].as_str().expect("proposer").to_string();
    let inputs = tempfile::tempdir().expect("temp dir");
    for (key, refusal) in
        [(ANVIL_KEYS[1], "is the proposer's committer"), (ANVIL_KEYS[3], "is not the proposer's proof sender")]
    {
        let output = Command::new(env!("CARGO_BIN_EXE_blockprover"))
            .args(["coordinator", "--insecure-no-auth", "--listen-port", "0", "--metrics-addr", "off"])
            .args(["--l1-rpc-url", &node.url, "--l1-proposer", &proposer, "--proof-sender-key", key])
            .arg("--inputs")
            .arg(inputs.path())
            .arg("--data-dir")
            .arg(dir.path().join("coordinator"))
            .output()
            .expect("the binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(refusal), "{stderr}");
    }
}

#[test]
fn deploy_writes_contracts_a_devnet_then_settles_on() {
    if !LocalAnvil::available_for_tests() {
        return;
    }
    let node = LocalAnvil::start("prague", None).expect("anvil starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let address = |i: usize| bp_l1::signer(ANVIL_KEYS[i]).expect("a key").address().to_string();
    let deploy = |committer: &str, proof_sender: &str, mode: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_blockprover"))
            .args(["deploy", "--l1-rpc-url", &node.url, "--owner-key", ANVIL_KEYS[0]])
            .args(["--committer", committer, "--proof-sender", proof_sender, "-o"])
            .arg(dir.path().join("l1.json"))
            .args(mode)
            .output()
            .expect("the binary runs")
    };
    let refused = deploy(&address(1), &address(1), &["--dev-mode"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must be different accounts"));
    // Without a verifier, proofs would not be checked: only a deployment that asks for dev
    // mode by name goes ahead.
    let proofless = deploy(&address(1), &address(2), &[]);
    assert!(!proofless.status.success());
    let stderr = String::from_utf8_lossy(&proofless.stderr);
    assert!(
        stderr.contains("no verifier given, so L1 would not check proofs") && stderr.contains("--dev-mode"),
        "{stderr}"
    );
    let both = deploy(
        &address(1),
        &address(2),
        &["--dev-mode", "--risc0-verifier", &address(3), "--risc0-image-id", &format!("0x{}", "07".repeat(32))],
    );
    assert!(!both.status.success());
    assert!(!dir.path().join("l1.json").exists(), "nothing is written when nothing is deployed");

    let deployed = deploy(&address(1), &address(2), &["--dev-mode"]);
    assert!(deployed.status.success(), "{}", String::from_utf8_lossy(&deployed.stderr));
    let l1: Value = serde_json::from_slice(&std::fs::read(dir.path().join("l1.json")).expect("l1.json")).expect("JSON");
    assert_eq!(l1["url"], node.url.as_str());

    // The devnet finds the deployment in its data dir and settles on those contracts.
    let (ok, summary, stderr) = devnet(dir.path(), &node.url, 1);
    assert!(ok, "devnet on the deployed contracts failed: {stderr}");
    let summary = summary.expect("a JSON summary");
    check_settled(&summary, 1, 0);
    assert_eq!(
        summary["l1"]["report"]["proposer"].as_str().map(str::to_lowercase),
        l1["deployment"]["proposer"].as_str().map(str::to_lowercase)
    );
    assert_eq!(summary["l1"]["report"]["mode"], "dev mode (no zk proof is checked on L1)");

    // The owner's actions, and the contract's refusals as the command prints them.
    let proposer = l1["deployment"]["proposer"].as_str().expect("proposer").to_string();
    let owner = |key: &str, action: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_blockprover"))
            .args(["owner", "--l1-rpc-url", &node.url, "--owner-key", key, "--proposer", &proposer])
            .args(action)
            .output()
            .expect("the binary runs");
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (ok, stderr) = owner(ANVIL_KEYS[0], &["revert-batches", "--keep", "0"]);
    assert!(!ok && stderr.contains("a verified batch cannot be reverted"), "{stderr}");
    let (ok, stderr) = owner(ANVIL_KEYS[3], &["set-proof-sender", &address(4)]);
    assert!(!ok && stderr.contains("not the owner"), "{stderr}");
    let (ok, stderr) = owner(ANVIL_KEYS[0], &["set-committer", &address(2)]);
    assert!(!ok && stderr.contains("committer and proof sender must differ"), "{stderr}");
    let (ok, stderr) = owner(ANVIL_KEYS[0], &["set-committer", &address(3)]);
    assert!(ok, "{stderr}");
}
