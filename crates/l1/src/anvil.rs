//! A local anvil as the L1 (`blockprover devnet --l1 anvil`, and the tests): bound to
//! 127.0.0.1, stopped by its PID when dropped.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy::{primitives::Bytes, providers::Provider};

use crate::{L1Config, L1Error};

/// The private keys of anvil's first five dev accounts (its default mnemonic: public test keys
/// that hold ether on local nodes only): owner and deployer, committer, proof sender, and two
/// users.
pub const ANVIL_KEYS: [&str; 5] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

/// A running anvil, killed when dropped.
#[derive(Debug)]
pub struct LocalAnvil {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl LocalAnvil {
    /// The anvil binary: `BLOCKPROVER_ANVIL`, else `anvil` on the `PATH`.
    pub fn binary() -> Option<PathBuf> {
        if let Some(path) = std::env::var_os("BLOCKPROVER_ANVIL") {
            return Some(PathBuf::from(path));
        }
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|dir| dir.join("anvil")).find(|p| p.is_file()))
    }

    /// For tests: whether anvil can be found. Where it cannot, says so (a skip) and returns
    /// false, or panics if `BLOCKPROVER_REQUIRE_ANVIL=1` (as CI sets).
    pub fn available_for_tests() -> bool {
        if Self::binary().is_some() {
            return true;
        }
        assert!(
            std::env::var("BLOCKPROVER_REQUIRE_ANVIL").as_deref() != Ok("1"),
            "anvil not found (set BLOCKPROVER_ANVIL or put it on PATH)"
        );
        eprintln!("SKIPPED: anvil not found; set BLOCKPROVER_ANVIL or BLOCKPROVER_REQUIRE_ANVIL=1");
        false
    }

    /// Starts anvil on 127.0.0.1 with `hardfork` rules, on `port` or (`None`) on a port anvil
    /// picks itself and reports (so concurrent nodes cannot race for one), and waits until it
    /// answers. Its log is read and dropped.
    pub fn start(hardfork: &str, port: Option<u16>) -> Result<Self, L1Error> {
        let binary = Self::binary()
            .ok_or_else(|| L1Error::Config("anvil not found: set BLOCKPROVER_ANVIL or put it on PATH".into()))?;
        let mut child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.unwrap_or(0).to_string(), "--hardfork", hardfork])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| L1Error::Config(format!("starting {}: {e}", binary.display())))?;
        let stdout = child.stdout.take().ok_or_else(|| L1Error::Node("anvil's output is not piped".into()))?;
        let mut anvil = LocalAnvil { child, url: String::new(), port: 0 };
        let (listening, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut listening = Some(listening);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = line.trim().strip_prefix("Listening on ") {
                    if let Some(listening) = listening.take() {
                        let _ = listening.send(address.to_string());
                    }
                }
            }
        });
        // Disconnected: anvil exited before listening (a port taken, a bad flag).
        let address = address
            .recv_timeout(Duration::from_secs(30))
            .map_err(|e| L1Error::Node(format!("anvil did not start listening: {e}")))?;
        anvil.port = address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| L1Error::Node(format!("anvil listens on {address:?}")))?;
        anvil.url = format!("http://127.0.0.1:{}", anvil.port);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", anvil.port)).is_err() {
            if started.elapsed() > Duration::from_secs(30) {
                return Err(L1Error::Node("anvil did not accept connections within 30 s".into()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(anvil)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's whole state (`anvil_dumpState`), for another anvil to load: a node stopped
    /// and started again with its chain.
    pub async fn dump_state(&self) -> Result<Bytes, L1Error> {
        let provider = crate::provider(&L1Config::new(self.url.clone()), None)?;
        provider.raw_request("anvil_dumpState".into(), ()).await.map_err(|e| L1Error::Node(e.to_string()))
    }

    /// Moves the node's clock `seconds` ahead and mines a block at the new time (a delay of the
    /// contracts waited out in a test).
    pub async fn advance_time(&self, seconds: u64) -> Result<(), L1Error> {
        let provider = crate::provider(&L1Config::new(self.url.clone()), None)?;
        let node = |e: alloy::transports::TransportError| L1Error::Node(e.to_string());
        let _: serde_json::Value = provider.raw_request("evm_increaseTime".into(), (seconds,)).await.map_err(node)?;
        let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.map_err(node)?;
        Ok(())
    }

    /// Loads a state [`Self::dump_state`] gave.
    pub async fn load_state(&self, state: &Bytes) -> Result<(), L1Error> {
        let provider = crate::provider(&L1Config::new(self.url.clone()), None)?;
        let _: bool =
            provider.raw_request("anvil_loadState".into(), (state,)).await.map_err(|e| L1Error::Node(e.to_string()))?;
        Ok(())
    }
}

impl Drop for LocalAnvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
