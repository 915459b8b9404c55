//! A bounded load test: 50 concurrent clients poll for a fixed time; no request may fail, and
//! the request latency percentiles are printed (run with `--nocapture` to see them).

mod common;

use std::time::{Duration, Instant};

use bp_protocol::Message;
use common::*;

const CLIENTS: usize = 50;
const DURATION: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_poll_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("inputs")).unwrap();
    // A few batches, so some requests take the assignment path (a write), most find nothing.
    write_inputs(&dir.path().join("inputs"), &conformance_inputs(5));
    let running = start(config(dir.path()), &dir.path().join("inputs"), 5).await;
    let endpoint = running.addr.to_string();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut assigned = 0;
                let started = Instant::now();
                while started.elapsed() < DURATION {
                    let sent = Instant::now();
                    let answer = send_as(&endpoint, &key(), &format!("load{i}"), &request()).await;
                    latencies.push(sent.elapsed());
                    match answer {
                        Ok(Message::Response(Some(_))) => assigned += 1,
                        Ok(Message::Response(None)) => {}
                        other => panic!("client {i}: {other:?}"),
                    }
                }
                (latencies, assigned)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut assigned = 0;
    for client in clients {
        let (l, a) = client.await.expect("no client failed");
        latencies.extend(l);
        assigned += a;
    }
    assert_eq!(assigned, 5, "each batch handed out once");
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    eprintln!(
        "load: {CLIENTS} clients for {DURATION:?}: {} requests ({:.0}/s), 0 errors; latency p50 {:?}, p99 {:?}, max {:?}",
        latencies.len(),
        latencies.len() as f64 / DURATION.as_secs_f64(),
        at(0.50),
        at(0.99),
        latencies.last().unwrap()
    );
    running.shutdown().await;
}
