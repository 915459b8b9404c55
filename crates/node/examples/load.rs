//! A small load generator for the node: the L2 JSON-RPC and the block loop in this process on a
//! fresh chain, and wallet-like clients over HTTP (one per developer account: read the pending
//! nonce, send signed transfers, poll a balance). Prints the transactions per second the
//! chain included and the latency of each method (p50, p99).
//!
//! `cargo run --release -p bp-node --example load -- [SECONDS] [BLOCK_TIME_MS]` (default 20,
//! 1000). A measurement, not a test.

use std::{
    sync::{atomic::Ordering, Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::providers::Provider;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{keccak256, Address, Bytes, Signature, TxKind, U256};
use bp_devnet::{Builder, DEV_ACCOUNTS};
use bp_node::{Chain, Sequencer};
use k256::ecdsa::SigningKey;
use tokio_util::sync::CancellationToken;

/// Latencies of one method, in microseconds.
type Samples = Arc<Mutex<Vec<(&'static str, u64)>>>;

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    let block_time: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let dir = tempfile::tempdir()?;
    let builder = Arc::new(Mutex::new(Builder::open(&dir.path().join("l2.sqlite"))?));
    let chain_id = builder.lock().unwrap_or_else(|p| p.into_inner()).chain().chain_id;
    let chain = Arc::new(Chain::new(builder, None));
    let sequencer = Arc::new(Sequencer::new(chain.clone(), 10));
    let stop = CancellationToken::new();
    let (addr, _server) = bp_node::rpc::spawn("127.0.0.1:0".parse()?, chain.clone(), stop.clone()).await?;
    let url = format!("http://{addr}");
    let blocks = tokio::spawn(bp_node::sequence(sequencer, None, Duration::from_millis(block_time), stop.clone()));

    let samples: Samples = Arc::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut clients = Vec::new();
    for i in 0..DEV_ACCOUNTS {
        let (url, samples) = (url.clone(), samples.clone());
        clients.push(tokio::spawn(async move {
            let key =
                SigningKey::from_slice(keccak256(format!("blockprover devnet account {i}")).as_slice()).expect("a key");
            let from = Address::from_public_key(key.verifying_key());
            let rpc = bp_l1::provider(&bp_l1::L1Config::new(url), None).expect("a client");
            let timed = |method: &'static str, took: Duration| {
                samples.lock().unwrap_or_else(|p| p.into_inner()).push((method, took.as_micros() as u64));
            };
            let t = Instant::now();
            let mut nonce = rpc.get_transaction_count(from).pending().await.expect("a nonce");
            timed("eth_getTransactionCount", t.elapsed());
            let mut sent = 0u64;
            while Instant::now() < deadline {
                let tx = TxEip1559 {
                    chain_id,
                    nonce,
                    gas_limit: 21_000,
                    max_fee_per_gas: 100_000_000_000,
                    max_priority_fee_per_gas: 1_000_000_000,
                    to: TxKind::Call(Address::repeat_byte(0x70 + i as u8)),
                    value: U256::from(1),
                    ..Default::default()
                };
                let (sig, recovery) = key.sign_prehash_recoverable(tx.signature_hash().as_slice()).expect("signs");
                let signed = tx.into_signed(Signature::from_signature_and_parity(sig, recovery.is_y_odd()));
                let raw = Bytes::from(TxEnvelope::Eip1559(signed).encoded_2718());
                let t = Instant::now();
                let answer = rpc.send_raw_transaction(&raw).await;
                timed("eth_sendRawTransaction", t.elapsed());
                match answer {
                    Ok(_) => {
                        nonce += 1;
                        sent += 1;
                    }
                    // The pool holds 64 per sender: wait for a block, as a wallet would.
                    Err(_) => {
                        let t = Instant::now();
                        let _ = rpc.get_balance(from).await;
                        timed("eth_getBalance", t.elapsed());
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
            sent
        }));
    }
    let mut sent = 0;
    for client in clients {
        sent += client.await?;
    }
    // One more block takes what the pool still holds.
    tokio::time::sleep(Duration::from_millis(block_time + 200)).await;
    let elapsed = started.elapsed().as_secs_f64();
    stop.cancel();
    blocks.await??;
    let included = chain.status.transactions.load(Ordering::Relaxed);
    let head = chain.status.head.load(Ordering::Relaxed);
    println!(
        "{included} of {sent} sent transfers included in {head} blocks of {block_time} ms over {elapsed:.1} s: \
         {:.0} tx/s, {:.0} per block",
        included as f64 / elapsed,
        included as f64 / head.max(1) as f64
    );
    let samples = samples.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for method in ["eth_sendRawTransaction", "eth_getBalance", "eth_getTransactionCount"] {
        let mut took: Vec<u64> = samples.iter().filter(|(m, _)| *m == method).map(|(_, t)| *t).collect();
        if took.is_empty() {
            continue;
        }
        took.sort_unstable();
        println!(
            "{method}: {} calls, p50 {:.2} ms, p99 {:.2} ms",
            took.len(),
            percentile(&took, 0.5) as f64 / 1000.0,
            percentile(&took, 0.99) as f64 / 1000.0
        );
    }
    Ok(())
}
