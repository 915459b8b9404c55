//! Fuzz targets: every decoder that reads bytes from outside, driven with arbitrary input. A
//! target may refuse its input with an error, never panic, hang or allocate without bound.
//!
//! The same targets run two ways: a fixed number of mutated seeds in the test command
//! (`tests/fuzz.rs`, `BLOCKPROVER_FUZZ_CASES` per target), and for longer runs from the
//! `fuzz/` directory with `cargo fuzz` (docs in `fuzz/README.md`). A crash found is a test kept
//! (`tests/fuzz.rs`, `regressions`).

#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod mutate;

pub use mutate::{Mutator, Rng};

use std::time::Duration;

use alloy_primitives::{keccak256, B256};
use alloy_rlp::Decodable;
use bp_input::{BlockTx, ProgramInput};
use bp_protocol::{AuthKey, FrameBudget, FrameLimits, Message, Session};
use bp_trie::{MapSource, Trie};

/// The binary program input, and the program on whatever decodes.
pub fn program_input(data: &[u8]) {
    if let Ok(input) = ProgramInput::from_binary(data) {
        let _ = bp_program::execute_input(&input);
    }
}

/// Every JSON input format `execute` reads (detected by content, as for a file).
pub fn json_input(data: &[u8]) {
    let _ = bp_formats::parse(data, None);
}

/// Block and transaction RLP.
pub fn block_rlp(data: &[u8]) {
    if let Ok(block) = bp_input::decode_block(data) {
        // What decodes must re-encode to the same bytes.
        assert_eq!(alloy_rlp::encode(&block), data, "a decoded block re-encodes to its bytes");
    }
    let _ = BlockTx::decode(&mut &data[..]);
    let _ = <BlockTx as alloy_eips::eip2718::Decodable2718>::decode_2718(&mut &data[..]);
    let _ = alloy_consensus_header(data);
}

fn alloy_consensus_header(data: &[u8]) -> Option<B256> {
    bp_input::decode_block(data).ok().map(|b| b.header.hash_slow())
}

/// Trie nodes: decoding, and a trie rooted at the node walked with gets, inserts and removes.
pub fn trie_node(data: &[u8]) {
    let hash = keccak256(data);
    let _ = bp_trie::decode_node(data, hash);
    let mut source = MapSource::from_nodes([alloy_primitives::Bytes::copy_from_slice(data)]);
    let mut trie = Trie::from_root(hash);
    for key in [[0u8; 32], [0xff; 32], *hash] {
        let _ = trie.get(&key, &mut source);
        let _ = trie.insert(&key, vec![1], &mut source);
        let _ = trie.remove(&key, &mut source);
    }
    let _ = trie.hash();
}

/// The state-diff decoder (what anyone reading a blob runs).
pub fn state_diff(data: &[u8]) {
    if let Ok(diff) = bp_program::l2::StateDiff::decode(data) {
        // What decodes re-encodes to the bytes it was read from (trailing padding aside).
        let again = bp_program::l2::StateDiff::decode(&diff.encode()).expect("an encoded diff decodes");
        assert_eq!(again, diff);
    }
}

/// Protocol messages, and frames as a coordinator reads them from an authenticated peer and,
/// before that, from anyone.
pub fn frames(data: &[u8]) {
    let _ = postcard::from_bytes::<Message>(data);
    let _ = bp_backend::Proof::from_bytes(data);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    runtime.block_on(async {
        let limits = FrameLimits {
            max_frame: 1 << 20,
            max_handshake_frame: 4096,
            io_timeout: Duration::from_millis(50),
            idle_timeout: Duration::from_millis(50),
        };
        let key = AuthKey::new(b"fuzz secret of sixteen bytes".to_vec());
        // A peer that has not authenticated.
        let mut before = Stream { read: data, written: Vec::new() };
        let _ = Session::accept(&mut before, &key, B256::ZERO, &limits).await;
        // A prover reading a coordinator's greeting and answers.
        let mut greeting = Stream { read: data, written: Vec::new() };
        if let Ok(mut session) = Session::connect(&mut greeting, &key, "fuzz", &limits).await {
            let _ = session.receive(&mut greeting, &limits, None).await;
        }
        // An authenticated peer's frames (the tag check comes after the length and budget checks).
        let mut after = Stream { read: data, written: Vec::new() };
        let mut session = Session::resume(key, bp_protocol::Nonces::default());
        let budget = FrameBudget::new(1 << 20);
        let _ = session.receive(&mut after, &limits, Some(&budget)).await;
    });
}

/// Reads from a byte slice, writes into a vector.
struct Stream<'a> {
    read: &'a [u8],
    written: Vec<u8>,
}

impl tokio::io::AsyncRead for Stream<'_> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = buf.remaining().min(self.read.len());
        buf.put_slice(&self.read[..n]);
        self.read = &self.read[n..];
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Stream<'_> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.written.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// A fuzz target: takes any bytes, may refuse them, must not panic.
pub type Target = fn(&[u8]);

/// Every target by name, for the harnesses.
pub const TARGETS: [(&str, Target); 6] = [
    ("program_input", program_input),
    ("json_input", json_input),
    ("block_rlp", block_rlp),
    ("trie_node", trie_node),
    ("state_diff", state_diff),
    ("frames", frames),
];
