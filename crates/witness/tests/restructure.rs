//! The two trie-restructuring cases of witnesses built from `eth_getProof`, constructed
//! explicitly: a deletion leaves a branch with one child that the pre-state proofs show only
//! by hash.

use alloy_primitives::{Bytes, B256};
use bp_trie::{bytes_to_nibbles, decode_node, DecodedNode, MapSource, NodeChild, NodeSource, Trie, TrieError};
use bp_witness::recover_collapse_siblings;

/// Keys chosen by their leading nibbles; values long enough that leaves are hash-referenced.
fn key(prefix: &str) -> B256 {
    let mut hex = prefix.to_string();
    while hex.len() < 64 {
        hex.push('7');
    }
    hex.parse().expect("valid hex")
}

fn value(n: u8) -> Vec<u8> {
    vec![n; 40]
}

/// A full trie over `keys`, every node stored by hash.
fn full_trie(keys: &[B256]) -> (Trie, MapSource) {
    let mut trie = Trie::new();
    for (i, k) in keys.iter().enumerate() {
        trie.insert(k.as_slice(), value(i as u8 + 1), &mut MapSource::new()).expect("in memory");
    }
    let mut nodes = MapSource::new();
    trie.for_each_node(|hash, rlp| nodes.insert_hashed(hash, rlp.into()));
    (trie, nodes)
}

/// What `eth_getProof` returns for `key`: the hash-referenced nodes on its path.
fn proof(nodes: &MapSource, root: B256, key: &B256) -> Vec<Bytes> {
    let nibbles = bytes_to_nibbles(key.as_slice());
    let mut out = Vec::new();
    let mut next = Some(root);
    let mut pos = 0;
    while let Some(hash) = next.take() {
        let rlp = nodes.get(&hash).expect("full trie").clone();
        let mut node = decode_node(&rlp, hash).expect("valid node");
        out.push(rlp);
        loop {
            let child = match node {
                DecodedNode::Leaf { .. } => break,
                DecodedNode::Extension { path, child } => {
                    if !nibbles[pos..].starts_with(&path) {
                        break;
                    }
                    pos += path.len();
                    child
                }
                DecodedNode::Branch { children, .. } => {
                    let child = children[nibbles[pos] as usize].clone();
                    pos += 1;
                    child
                }
            };
            match child {
                NodeChild::Hash(h) => {
                    next = Some(h);
                    break;
                }
                NodeChild::Inline(inner) => node = *inner,
                NodeChild::Empty => break,
            }
        }
    }
    out
}

/// Deletes `deleted` from the pruned trie known from its pre-state proof alone, after giving
/// `recover_collapse_siblings` the post-state proof; returns the outcome and how many nodes
/// were recovered.
fn delete_with_proofs(keys: &[B256], deleted: B256, recover: bool) -> (Result<B256, TrieError>, B256, MapSource) {
    let (mut full, nodes) = full_trie(keys);
    let root = full.hash();
    let mut pool = MapSource::from_nodes(proof(&nodes, root, &deleted));

    let mut after = full.clone();
    after.remove(deleted.as_slice(), &mut MapSource::new()).expect("in memory");
    let expected = after.hash();
    let mut post_nodes = MapSource::new();
    after.for_each_node(|hash, rlp| post_nodes.insert_hashed(hash, rlp.into()));
    let post = proof(&post_nodes, expected, &deleted);
    if recover {
        recover_collapse_siblings(&mut pool, &post);
    }
    let mut pruned = Trie::from_root(root);
    let result = pruned.remove(deleted.as_slice(), &mut pool).map(|()| pruned.hash());
    (result, expected, pool)
}

fn missing_hash(result: &Result<B256, TrieError>) -> B256 {
    match result {
        Err(TrieError::MissingNode { hash, .. }) => *hash,
        other => panic!("expected a missing node, got {other:?}"),
    }
}

#[test]
fn case_1_leaf_sibling_is_recovered_from_the_post_state_exclusion_proof() {
    // Root branch: 1 → leaf A; 2 → branch {0 → leaf B, 1 → leaf C}. Deleting B leaves C alone
    // under the branch at 2, which collapses into a leaf that moves up one level.
    let keys = [key("1"), key("20"), key("21")];
    let deleted = keys[1];

    let (without, _, _) = delete_with_proofs(&keys, deleted, false);
    let (_, full_nodes) = full_trie(&keys);
    let sibling = missing_hash(&without);
    let sibling_rlp = full_nodes.get(&sibling).expect("the sibling is a node of the full trie");
    assert!(matches!(decode_node(sibling_rlp, sibling), Ok(DecodedNode::Leaf { .. })), "the sibling is leaf C");

    let (with, expected, mut pool) = delete_with_proofs(&keys, deleted, true);
    assert_eq!(with.expect("recovered"), expected);
    assert_eq!(pool.node(&sibling).as_ref(), Some(sibling_rlp));
}

#[test]
fn case_1_extension_sibling_is_recovered_the_same_way() {
    // Root branch: 1 → leaf A; 2 → extension [0] → branch {0 → B, 1 → C}. Deleting A makes the
    // root an extension [2, 0]; the old extension [0] is the sibling.
    let keys = [key("1"), key("200"), key("201")];
    let (without, _, _) = delete_with_proofs(&keys, keys[0], false);
    missing_hash(&without);
    let (with, expected, _) = delete_with_proofs(&keys, keys[0], true);
    assert_eq!(with.expect("recovered"), expected);
}

#[test]
fn case_2_branch_sibling_needs_the_node_itself() {
    // Root branch: 1 → leaf A; 2 → branch {0 → B, 1 → C}. Deleting A leaves the branch at 2
    // alone: the root becomes an extension [2] over it. The post-state shows only its hash.
    let keys = [key("1"), key("20"), key("21")];
    let deleted = keys[0];
    let (result, expected, mut pool) = delete_with_proofs(&keys, deleted, true);
    let missing = missing_hash(&result);
    let (_, full_nodes) = full_trie(&keys);
    let branch = full_nodes.get(&missing).expect("a node of the full trie").clone();
    assert!(matches!(decode_node(&branch, missing), Ok(DecodedNode::Branch { .. })), "the sibling is the branch");

    // What `debug_dbGet` would answer: the node by its hash. With it, the deletion completes.
    pool.insert(branch);
    let (mut full, _) = full_trie(&keys);
    let mut pruned = Trie::from_root(full.hash());
    pruned.remove(deleted.as_slice(), &mut pool).expect("complete now");
    assert_eq!(pruned.hash(), expected);
}

#[test]
fn unrelated_post_nodes_add_nothing() {
    let keys = [key("1"), key("20"), key("21")];
    let (_, nodes) = full_trie(&keys);
    let mut pool = MapSource::new();
    let post: Vec<Bytes> = nodes.iter().map(|(_, rlp)| rlp.clone()).collect();
    assert_eq!(recover_collapse_siblings(&mut pool, &post), 0);
}
