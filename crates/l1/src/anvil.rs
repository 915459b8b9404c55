//! A local anvil as the L1 (`blockprover devnet --l1 anvil`, and the tests): bound to
//! 127.0.0.1, stopped by its PID when dropped.

use std::{
    net::TcpListener,
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

    /// Starts anvil on a free port of 127.0.0.1 (or `port`) with `hardfork` rules and one second
    /// between block timestamps, and waits until it answers.
    pub fn start(hardfork: &str, port: Option<u16>) -> Result<Self, L1Error> {
        let binary = Self::binary()
            .ok_or_else(|| L1Error::Config("anvil not found: set BLOCKPROVER_ANVIL or put it on PATH".into()))?;
        let port = match port {
            Some(port) => port,
            None => TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| L1Error::Config(format!("no free port: {e}")))?
                .port(),
        };
        let child = Command::new(&binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--hardfork", hardfork, "--silent"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| L1Error::Config(format!("starting {}: {e}", binary.display())))?;
        let anvil = LocalAnvil { child, url: format!("http://127.0.0.1:{port}"), port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(30) {
                return Err(L1Error::Node("anvil did not listen within 30 s".into()));
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
