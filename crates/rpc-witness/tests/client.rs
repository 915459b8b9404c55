//! The RPC client against a scripted HTTP server on 127.0.0.1: transient failures are retried,
//! answers are cached, node errors are final.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use bp_rpc_witness::{RpcClient, RpcError};
use serde_json::json;

/// Serves the scripted `(status, body)` answers in order, one per connection; returns the URL
/// and the number of requests served so far.
fn server(script: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let served = Arc::new(Mutex::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for (status, body) in script {
            let Ok((stream, _)) = listener.accept() else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut request = vec![0; length];
            let _ = reader.read_exact(&mut request);
            let mut stream = reader.into_inner();
            // Counted before answering, so the client never sees an answer not yet counted.
            *counter.lock().expect("lock") += 1;
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, served)
}

#[test]
fn transient_failures_are_retried_and_answers_cached() {
    let (url, served) = server(vec![
        (503, "busy"),
        (200, r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"rate limited"}}"#),
        (200, r#"{"jsonrpc":"2.0","id":1,"result":"0x7a69"}"#),
    ]);
    let cache = std::env::temp_dir().join(format!("bp-client-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let client = RpcClient::new(&url, Some(&cache)).with_retries(5, Duration::from_millis(1));
    assert_eq!(client.call("eth_chainId", json!([])).expect("third attempt succeeds"), "0x7a69");
    assert_eq!(*served.lock().expect("lock"), 3);
    assert_eq!(client.calls(), 1);

    // The server is done; the same question is answered from disk.
    assert_eq!(client.call("eth_chainId", json!([])).expect("cached"), "0x7a69");
    assert_eq!(client.cache_hits(), 1);
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn node_errors_are_final_and_unsupported_methods_recognised() {
    let (url, served) =
        server(vec![(200, r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}"#)]);
    let client = RpcClient::new(&url, None).with_retries(5, Duration::from_millis(1));
    let error = client.call("debug_executionWitness", json!(["0x2"])).expect_err("node error");
    assert!(error.is_unsupported(), "{error}");
    assert!(matches!(error, RpcError::Node { code: -32601, .. }));
    assert_eq!(*served.lock().expect("lock"), 1, "not retried");
}

#[test]
fn an_unreachable_node_fails_after_the_retries() {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let client = RpcClient::new(&format!("http://127.0.0.1:{port}"), None).with_retries(3, Duration::from_millis(1));
    match client.call("eth_chainId", json!([])) {
        Err(RpcError::Transport { attempts: 3, .. }) => {}
        other => panic!("expected a transport error after 3 attempts, got {other:?}"),
    }
}
