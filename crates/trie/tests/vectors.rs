//! Canonical vectors from ethereum/tests (TrieTests) and real mainnet proofs (zk-pig), plus
//! checks that a pruned trie built from a full trie's nodes behaves exactly like the full one.

use std::path::PathBuf;

use alloy_primitives::{keccak256, Bytes, B256};
use bp_trie::{MapSource, NodeSource, Trie, TrieError, EMPTY_ROOT};
use serde_json::Value;

fn fixtures() -> PathBuf {
    bp_testkit::fixtures().join("mpt-rlp-vectors")
}

fn load(rel: &str) -> Value {
    let path = fixtures().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// TrieTests strings: `0x…` is hex, anything else is the raw bytes of the string.
fn bytes_of(v: &str) -> Vec<u8> {
    match v.strip_prefix("0x") {
        Some(h) => hex::decode(h).expect("hex"),
        None => v.as_bytes().to_vec(),
    }
}

/// No nodes at all: every operation on an in-memory trie must succeed without lookups.
struct NoNodes;
impl NodeSource for NoNodes {
    fn node(&mut self, _: &B256) -> Option<Bytes> {
        None
    }
}

fn run_file(rel: &str, secure: bool) -> usize {
    let tests = load(rel);
    let mut count = 0;
    for (name, test) in tests.as_object().expect("object") {
        let pairs: Vec<(String, Option<String>)> = match &test["in"] {
            Value::Array(items) => {
                items.iter().map(|p| (p[0].as_str().unwrap().to_owned(), p[1].as_str().map(str::to_owned))).collect()
            }
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned))).collect(),
            other => panic!("{name}: unexpected input {other}"),
        };
        let mut trie = Trie::new();
        let mut full: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        for (k, v) in &pairs {
            let mut key = bytes_of(k);
            if secure {
                key = keccak256(&key).to_vec();
            }
            let value = v.as_deref().map(bytes_of);
            match &value {
                Some(value) => trie.insert(&key, value.clone(), &mut NoNodes).unwrap(),
                None => trie.remove(&key, &mut NoNodes).unwrap(),
            }
            full.push((key, value));
        }
        let expected: B256 = test["root"].as_str().unwrap().parse().unwrap();
        assert_eq!(trie.hash(), expected, "{rel} {name}");
        count += 1;

        // The same contents through a pruned trie: every key reads back from the nodes alone.
        let mut nodes = MapSource::new();
        trie.for_each_node(|_, rlp| {
            nodes.insert(rlp.into());
        });
        let mut pruned = Trie::from_root(expected);
        let mut last = std::collections::BTreeMap::new();
        for (k, v) in full {
            last.insert(k, v);
        }
        for (k, v) in &last {
            assert_eq!(&pruned.get(k, &mut nodes).unwrap(), v, "{rel} {name} get");
        }
    }
    count
}

#[test]
fn ethereum_trie_tests() {
    let n = run_file("ethereum-tests/TrieTests/trietest.json", false)
        + run_file("ethereum-tests/TrieTests/trieanyorder.json", false)
        + run_file("ethereum-tests/TrieTests/trietest_secureTrie.json", true)
        + run_file("ethereum-tests/TrieTests/trieanyorder_secureTrie.json", true)
        + run_file("ethereum-tests/TrieTests/hex_encoded_securetrie_test.json", true);
    assert!(n >= 25, "only {n} vectors ran");
}

/// Deterministic pseudo-random 32-byte keys (hashed, as in the state trie).
fn key(i: u64) -> Vec<u8> {
    keccak256(i.to_be_bytes()).to_vec()
}

#[test]
fn pruned_updates_match_full_trie() {
    let mut full = Trie::new();
    for i in 0..300u64 {
        full.insert(&key(i), vec![(i % 200) as u8 + 1; (i % 40) as usize + 1], &mut NoNodes).unwrap();
    }
    let root = full.hash();
    let mut nodes = MapSource::new();
    full.for_each_node(|_, rlp| {
        nodes.insert(rlp.into());
    });

    let mut pruned = Trie::from_root(root);
    for i in (0..300u64).step_by(3) {
        full.remove(&key(i), &mut NoNodes).unwrap();
        pruned.remove(&key(i), &mut nodes).unwrap();
    }
    for i in 300..340u64 {
        full.insert(&key(i), vec![7; 33], &mut NoNodes).unwrap();
        pruned.insert(&key(i), vec![7; 33], &mut nodes).unwrap();
    }
    assert_eq!(pruned.hash(), full.hash());
    assert_ne!(full.hash(), root);

    // Remove everything: the trie must collapse back to the empty root.
    for i in 0..340u64 {
        pruned.remove(&key(i), &mut nodes).unwrap();
    }
    assert_eq!(pruned.hash(), EMPTY_ROOT);
}

#[test]
fn missing_node_is_an_error_not_absence() {
    let mut full = Trie::new();
    for i in 0..64u64 {
        full.insert(&key(i), vec![1; 40], &mut NoNodes).unwrap();
    }
    let root = full.hash();
    // Only the root node: every lookup below it must fail, naming the missing node.
    let mut only_root = MapSource::new();
    full.for_each_node(|hash, rlp| {
        if hash == root {
            only_root.insert(rlp.into());
        }
    });
    let mut pruned = Trie::from_root(root);
    match pruned.get(&key(5), &mut only_root) {
        Err(TrieError::MissingNode { path, .. }) => assert_eq!(path.len(), 1),
        other => panic!("expected a missing-node error, got {other:?}"),
    }
    // Even a key that is absent cannot be proven absent without the nodes on its path.
    assert!(matches!(pruned.get(&key(1000), &mut only_root), Err(TrieError::MissingNode { .. })));
    let mut nothing = MapSource::new();
    assert!(
        matches!(Trie::from_root(root).get(&key(5), &mut nothing), Err(TrieError::MissingNode { path, .. }) if path.is_empty())
    );
}

/// A deletion that leaves a branch with one child must fetch that sibling, even though no key
/// below it was read: the witness of such a block must contain it.
#[test]
fn deletion_needs_the_lone_sibling() {
    let mut full = Trie::new();
    // Two keys diverging at the first nibble: root is a branch with two leaf children.
    let a = [0x10u8; 32];
    let b = [0x20u8; 32];
    full.insert(&a, vec![1; 40], &mut NoNodes).unwrap();
    full.insert(&b, vec![2; 40], &mut NoNodes).unwrap();
    let root = full.hash();
    let mut nodes = MapSource::new();
    let mut leaf_b = B256::ZERO;
    full.for_each_node(|hash, rlp| {
        if hash != root && rlp.len() > 40 && rlp.ends_with(&[2; 40]) {
            leaf_b = hash;
        }
        nodes.insert(rlp.into());
    });
    assert_ne!(leaf_b, B256::ZERO);
    let mut without_sibling = nodes.clone();
    without_sibling.remove(&leaf_b);

    // Reading and deleting `a` alone: the proof of `a` suffices for the read...
    let mut pruned = Trie::from_root(root);
    assert_eq!(pruned.get(&a, &mut without_sibling).unwrap(), Some(vec![1; 40]));
    // ...but not for the deletion, which collapses the root into b's leaf.
    match pruned.clone().remove(&a, &mut without_sibling) {
        Err(TrieError::MissingNode { hash, path }) => {
            assert_eq!(hash, leaf_b);
            assert_eq!(path, "2");
        }
        other => panic!("expected the sibling to be missing, got {other:?}"),
    }
    pruned.remove(&a, &mut nodes).unwrap();
    let mut expected = Trie::new();
    expected.insert(&b, vec![2; 40], &mut NoNodes).unwrap();
    assert_eq!(pruned.hash(), expected.hash());
}

#[test]
fn mainnet_account_proofs_verify() {
    let data = load("zk-pig-mainnet-proofs/account_proofs.json");
    let root: B256 = data["root"].as_str().unwrap().parse().unwrap();
    let accounts = data["accounts"].as_array().unwrap();
    assert!(!accounts.is_empty());
    for account in accounts {
        let mut nodes = MapSource::from_nodes(
            account["accountProof"].as_array().unwrap().iter().map(|n| Bytes::from(bytes_of(n.as_str().unwrap()))),
        );
        let address = bytes_of(account["address"].as_str().unwrap());
        let value =
            Trie::from_root(root).get(keccak256(&address).as_slice(), &mut nodes).unwrap().expect("account exists");
        let storage_hash = bytes_of(account["storageHash"].as_str().unwrap());
        let code_hash = bytes_of(account["codeHash"].as_str().unwrap());
        // The account leaf is rlp([nonce, balance, storageRoot, codeHash]): both hashes end it.
        assert!(value.ends_with(&[&[0xa0][..], &storage_hash, &[0xa0], &code_hash].concat()));
    }
}
