//! `blockprover node` as its users meet it, with a client no one here wrote (foundry's `cast`):
//! a node on anvil with no prover of its own and a `blockprover prover` in another process; a
//! deposit made with `cast send` on L1 reaches the user's L2 balance; an L2 transfer and an L2
//! withdrawal sent with `cast send` succeed; `blockprover claim` refuses until the batch is
//! verified, then pays the withdrawal on L1; SIGTERM stops the node and the same command
//! resumes the chain.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use alloy_primitives::U256;
use bp_l1::{LocalAnvil, ANVIL_KEYS};
use serde_json::Value;

/// foundry's `cast`: `BLOCKPROVER_CAST`, else beside the npm anvil, else on the `PATH`. Where
/// it cannot be found the test is skipped, unless `BLOCKPROVER_REQUIRE_ANVIL=1` (CI) says the
/// tools must be there.
fn cast_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("BLOCKPROVER_CAST") {
        return Some(PathBuf::from(path));
    }
    let beside_anvil = LocalAnvil::binary()
        .and_then(|anvil| Some(anvil.parent()?.parent()?.parent()?.join("cast-linux-amd64/bin/cast")))
        .filter(|p| p.is_file());
    let on_path = || {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("cast")).find(|p| p.is_file()))
    };
    let found = beside_anvil.or_else(on_path);
    if found.is_none() {
        assert!(
            std::env::var("BLOCKPROVER_REQUIRE_ANVIL").as_deref() != Ok("1"),
            "cast not found (set BLOCKPROVER_CAST or put it on PATH)"
        );
        eprintln!("SKIPPED: cast not found; set BLOCKPROVER_CAST");
    }
    found
}

/// Runs `cast` with `args`; its status and stdout.
fn cast(binary: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(binary).args(args).output().expect("cast runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        eprintln!("cast {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    (output.status.success(), stdout.trim().to_string())
}

/// `cast balance` in wei.
fn balance(binary: &Path, rpc: &str, address: &str) -> U256 {
    let (ok, out) = cast(binary, &["balance", "--rpc-url", rpc, address]);
    assert!(ok, "cast balance failed");
    out.parse().expect("a balance in wei")
}

/// A `blockprover node`, and the lines of its standard output as they come.
struct Node {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Node {
    fn start(dir: &Path, l1: &str, secret: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_blockprover"))
            .args(["node", "--l1", l1, "--block-time", "1000", "--blocks-per-batch", "2", "--provers", "0"])
            .args(["--http-port", "0", "--listen-port", "0", "--metrics-addr", "off"])
            .arg("--auth-secret-file")
            .arg(secret)
            .arg("--data-dir")
            .arg(dir)
            .stdout(Stdio::piped())
            .spawn()
            .expect("the node starts");
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Self { child, lines }
    }

    /// The address after `prefix` on the line that starts with it.
    fn address(&self, prefix: &str) -> String {
        loop {
            let line = self.lines.recv_timeout(Duration::from_secs(120)).expect("the node prints its addresses");
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.split_whitespace().next().expect("an address").to_string();
            }
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    fn stop(mut self) {
        // SAFETY: kill(2) with a child's pid and a signal number; no memory is touched.
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                assert!(status.success(), "the node exited with {status} on SIGTERM");
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the node did not stop within 20 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A child process killed when dropped.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every half second for up to `limit`.
fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn cast_deposits_transfers_and_withdraws_and_a_remote_prover_settles_the_claim() {
    if !LocalAnvil::available_for_tests() {
        return;
    }
    let Some(cast_bin) = cast_binary() else { return };
    let l1 = LocalAnvil::start("prague", None).expect("anvil starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "a shared secret of the node and its provers").expect("writes");
    let node_dir = dir.path().join("node");
    let node = Node::start(&node_dir, &l1.url, &secret);
    let l2 = node.address("node: L2 JSON-RPC on ");
    let coordinator = node.address("node: provers connect to ");
    let deployment: Value =
        serde_json::from_slice(&std::fs::read(node_dir.join("l1.json")).expect("l1.json")).expect("JSON");
    let bridge = deployment["deployment"]["bridge"].as_str().expect("bridge").to_string();

    // A prover in its own process, as on another machine: the same secret, from a file.
    let prover = Command::new(env!("CARGO_BIN_EXE_blockprover"))
        .args(["prover", "--endpoint", &coordinator, "--proving-time-ms", "300"])
        .arg("--auth-secret-file")
        .arg(&secret)
        .arg("--data-dir")
        .arg(dir.path().join("prover"))
        .stdout(Stdio::null())
        .spawn()
        .expect("the prover starts");
    // Killed however the test ends: a failed assertion must not leave it polling for ever.
    let prover = KillOnDrop(prover);

    let (ok, chain_id) = cast(&cast_bin, &["chain-id", "--rpc-url", &l2]);
    assert!(ok);
    assert_eq!(chain_id, bp_devnet::DEVNET_CHAIN_ID.to_string());

    // Anvil's dev account 3 deposits 1 ether to itself on the L2, with cast, not with our code.
    let user_key = ANVIL_KEYS[3];
    let (ok, user) = cast(&cast_bin, &["wallet", "address", "--private-key", user_key]);
    assert!(ok);
    let one_ether = U256::from(10u64).pow(U256::from(18));
    let (ok, _) = cast(
        &cast_bin,
        &[
            "send",
            "--rpc-url",
            &l1.url,
            "--private-key",
            user_key,
            &bridge,
            "deposit(address,uint256,bytes)",
            &user,
            "100000",
            "0x",
            "--value",
            "1ether",
        ],
    );
    assert!(ok, "the L1 deposit failed");
    wait_for("the deposit on the L2", Duration::from_secs(60), || balance(&cast_bin, &l2, &user) >= one_ether);

    // An L2 transfer, its receipt successful.
    let to = "0x0000000000000000000000000000000000007777";
    let (ok, receipt) =
        cast(&cast_bin, &["send", "--rpc-url", &l2, "--private-key", user_key, "--json", to, "--value", "12345"]);
    assert!(ok, "the L2 transfer failed");
    let receipt: Value = serde_json::from_str(&receipt).expect("a JSON receipt");
    assert_eq!(receipt["status"], "0x1", "{receipt:#}");
    assert_eq!(balance(&cast_bin, &l2, to), U256::from(12345));

    // An L2 withdrawal of 0.1 ether to an L1 account with nothing on it.
    let receiver = "0x00000000000000000000000000000000000c1a1e";
    let l2_bridge = bp_input::L2_BRIDGE_ADDRESS.to_string();
    let (ok, receipt) = cast(
        &cast_bin,
        &[
            "send",
            "--rpc-url",
            &l2,
            "--private-key",
            user_key,
            "--json",
            &l2_bridge,
            "withdraw(address)",
            receiver,
            "--value",
            "0.1ether",
        ],
    );
    assert!(ok, "the L2 withdrawal failed");
    let receipt: Value = serde_json::from_str(&receipt).expect("a JSON receipt");
    assert_eq!(receipt["status"], "0x1", "{receipt:#}");
    let tx = receipt["transactionHash"].as_str().expect("a hash").to_string();

    // The claim says why it cannot be made until the remote prover's proof is verified on L1,
    // then pays.
    let claim = || {
        Command::new(env!("CARGO_BIN_EXE_blockprover"))
            .args(["claim", "--l2-rpc-url", &l2, "--l1-rpc-url", &l1.url, "--tx", &tx, "--private-key", user_key])
            .output()
            .expect("claim runs")
    };
    let mut refusals = Vec::new();
    wait_for("the claim", Duration::from_secs(180), || {
        let output = claim();
        if !output.status.success() {
            refusals.push(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        output.status.success()
    });
    assert!(
        refusals.iter().all(|r| r.contains("not verified yet") || r.contains("not in a sealed batch yet")),
        "{refusals:#?}"
    );
    assert_eq!(balance(&cast_bin, &l1.url, receiver), one_ether / U256::from(10));
    // A second claim pays nothing.
    let again = claim();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already claimed"));
    assert_eq!(balance(&cast_bin, &l1.url, receiver), one_ether / U256::from(10));

    // SIGTERM stops the node; the same command resumes the chain where it was.
    let (ok, head) = cast(&cast_bin, &["block-number", "--rpc-url", &l2]);
    assert!(ok);
    node.stop();
    let node = Node::start(&node_dir, &l1.url, &secret);
    let l2 = node.address("node: L2 JSON-RPC on ");
    let (ok, resumed) = cast(&cast_bin, &["block-number", "--rpc-url", &l2]);
    assert!(ok);
    assert!(resumed.parse::<u64>().expect("a number") >= head.parse::<u64>().expect("a number"));
    assert_eq!(balance(&cast_bin, &l2, to), U256::from(12345));
    node.stop();
    drop(prover);
}
