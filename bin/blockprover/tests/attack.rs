//! The real coordinator under an unauthenticated flood: 1000 connections from another address,
//! each announcing the largest frame and sending filler, or opening the handshake and stalling.
//! Nothing unauthenticated may cost more than a few KB: the coordinator's resident memory stays
//! under 200 MB, and an authenticated prover is served throughout (its latency is printed).

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use bp_backend::{Backend, ExecBackend, ProofType};
use bp_protocol::{AuthKey, FrameLimits, Message, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "attack test shared secret";
const ATTACKERS: usize = 1000;
const ATTACK: Duration = Duration::from_secs(8);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn coordinator(dir: &Path, port: u16) -> Process {
    std::fs::create_dir_all(dir.join("inputs")).unwrap();
    std::fs::write(dir.join("secret"), SECRET).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_blockprover"))
        .args(["coordinator", "--metrics-addr", "off", "--handshake-timeout-secs", "2"])
        .arg("--inputs")
        .arg(dir.join("inputs"))
        .arg("--data-dir")
        .arg(dir.join("coordinator"))
        .arg("--auth-secret-file")
        .arg(dir.join("secret"))
        .env("PROVER_SERVER_LISTEN_IP", "127.0.0.1")
        .env("PROVER_SERVER_LISTEN_PORT", port.to_string())
        .env("BLOCKPROVER_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("coordinator starts");
    Process(child)
}

/// Resident memory of a process, in bytes.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    kib * 1024
}

/// One attacker: from 127.0.0.2, again and again, connects, reads whatever comes, announces a
/// 256 MiB frame and streams filler until the coordinator hangs up; every other connection
/// instead stalls inside the handshake.
async fn attacker(port: u16, index: usize, stop: Arc<AtomicBool>, connections: Arc<AtomicU64>) {
    let filler = vec![0xa5u8; 64 << 10];
    let mut round = 0usize;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        let Ok(mut stream) = socket.connect(format!("127.0.0.1:{port}").parse().unwrap()).await else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        connections.fetch_add(1, Ordering::Relaxed);
        let mut greeting = [0u8; 128];
        let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut greeting)).await;
        if (index + round).is_multiple_of(2) {
            let _ = stream.write_all(&(256u32 << 20).to_be_bytes()).await;
            while !stop.load(Ordering::Relaxed) && stream.write_all(&filler).await.is_ok() {}
        } else {
            // A frame header that fits the handshake limit, then nothing.
            let _ = stream.write_all(&1000u32.to_be_bytes()).await;
            let mut sink = [0u8; 64];
            let _ = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut sink)).await;
        }
    }
}

#[test]
fn an_unauthenticated_flood_costs_little_and_provers_are_still_served() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let process = coordinator(dir.path(), port);
    let pid = process.0.id();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let key = AuthKey::parse(SECRET).unwrap();
    let limits = FrameLimits::default();
    let endpoint = format!("127.0.0.1:{port}");
    let request = Message::Request(Request { proof_type: ProofType::Exec, program_id: ExecBackend.program_id() });
    let ask = || bp_prover::exchange(&endpoint, &key, "honest-prover", &limits, Duration::from_secs(10), &request);

    runtime.block_on(async {
        let started = Instant::now();
        while ask().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "the coordinator did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let idle = resident(pid);

        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicU64::new(0));
        let attackers: Vec<_> =
            (0..ATTACKERS).map(|i| tokio::spawn(attacker(port, i, stop.clone(), connections.clone()))).collect();
        let mut peak = 0;
        let mut latencies = Vec::new();
        let attack = Instant::now();
        while attack.elapsed() < ATTACK {
            let sent = Instant::now();
            let answer = ask().await;
            latencies.push(sent.elapsed());
            assert!(matches!(answer, Ok(Message::Response(None))), "the prover is served: {answer:?}");
            peak = peak.max(resident(pid));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, Ordering::Relaxed);
        for attacker in attackers {
            attacker.abort();
        }
        latencies.sort();
        let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        println!(
            "attack: {ATTACKERS} attackers, {} connections in {ATTACK:?}; coordinator resident {:.1} MB idle, {:.1} MB \
             peak; prover: {} requests served, latency p50 {:?}, p99 {:?}, max {:?}",
            connections.load(Ordering::Relaxed),
            idle as f64 / 1e6,
            peak as f64 / 1e6,
            latencies.len(),
            p(0.5),
            p(0.99),
            p(1.0),
        );
        assert!(peak < 200_000_000, "resident memory {peak} bytes under attack");
        assert!(connections.load(Ordering::Relaxed) >= ATTACKERS as u64, "every attacker connected");
    });
}
