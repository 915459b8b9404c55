//! `bp_trie::Trie` against alloy-trie's `HashBuilder`, an independent implementation: random
//! sequences of inserts, updates and deletes (short keys that share prefixes, so branches,
//! extensions, inline nodes and every deletion restructuring occur), then the root of what is
//! left. A trie rebuilt from the first root's nodes alone must give the same root after the same
//! further changes, so pruned (witness-backed) tries are checked as well as in-memory ones.

use std::collections::BTreeMap;

use alloy_primitives::{Bytes, B256};
use alloy_trie::{HashBuilder, Nibbles};
use bp_trie::{MapSource, Trie, EMPTY_ROOT};
use proptest::prelude::*;

/// One change: insert (or update) a key, or delete it.
#[derive(Debug, Clone)]
enum Change {
    Insert(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

/// Keys of one to three bytes over a small alphabet share long prefixes; values from one byte
/// (inline nodes) to 40 (hashed nodes).
fn change() -> impl Strategy<Value = Change> {
    let key = proptest::collection::vec(prop_oneof![Just(0x00u8), Just(0x01), Just(0x10), Just(0xff)], 1..=3);
    let value = proptest::collection::vec(any::<u8>(), 1..=40);
    prop_oneof![
        3 => (key.clone(), value).prop_map(|(k, v)| Change::Insert(k, v)),
        1 => key.prop_map(Change::Delete),
    ]
}

/// alloy-trie's root of `entries`, keys hashed or not as the trie is used (here: raw keys, of
/// one length per run so that no key is a prefix of another).
fn reference_root(entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> B256 {
    let mut builder = HashBuilder::default();
    for (key, value) in entries {
        builder.add_leaf(Nibbles::unpack(key), value);
    }
    builder.root()
}

/// Applies `changes` to `trie` and to `entries`.
fn apply(trie: &mut Trie, entries: &mut BTreeMap<Vec<u8>, Vec<u8>>, changes: &[Change], source: &mut MapSource) {
    for change in changes {
        match change {
            Change::Insert(key, value) => {
                trie.insert(key, value.clone(), source).expect("insert");
                entries.insert(key.clone(), value.clone());
            }
            Change::Delete(key) => {
                trie.remove(key, source).expect("delete");
                entries.remove(key);
            }
        }
    }
}

/// Keys of one length, padded from the strategy's (an MPT cannot hold a key that is a prefix of
/// another; Ethereum's hashed keys are all 32 bytes).
fn fixed_length(changes: Vec<Change>, len: usize) -> Vec<Change> {
    let pad = |mut key: Vec<u8>| {
        key.resize(len, 0x01);
        key
    };
    changes
        .into_iter()
        .map(|c| match c {
            Change::Insert(k, v) => Change::Insert(pad(k), v),
            Change::Delete(k) => Change::Delete(pad(k)),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn roots_match_alloy_trie_after_random_changes(
        first in proptest::collection::vec(change(), 0..40),
        then in proptest::collection::vec(change(), 0..40),
        len in 1usize..=3,
    ) {
        let (first, then) = (fixed_length(first, len), fixed_length(then, len));
        let mut source = MapSource::new();
        let mut trie = Trie::new();
        let mut entries = BTreeMap::new();
        apply(&mut trie, &mut entries, &first, &mut source);
        let root = trie.hash();
        let expected = if entries.is_empty() { EMPTY_ROOT } else { reference_root(&entries) };
        prop_assert_eq!(root, expected);

        // The same trie from its nodes only, as a witness gives it, then the same changes.
        let mut nodes = MapSource::new();
        trie.for_each_node(|_, rlp| {
            nodes.insert(Bytes::from(rlp));
        });
        let mut pruned = Trie::from_root(root);
        let mut reference = entries.clone();
        apply(&mut pruned, &mut reference, &then, &mut nodes);
        apply(&mut trie, &mut entries, &then, &mut source);
        let expected = if entries.is_empty() { EMPTY_ROOT } else { reference_root(&entries) };
        prop_assert_eq!(trie.hash(), expected);
        prop_assert_eq!(pruned.hash(), expected);
    }
}
