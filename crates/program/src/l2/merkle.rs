//! The withdrawals Merkle tree and the deposits hash (docs/l2.md).

use alloc::vec::Vec;
use alloy_primitives::{keccak256, B256};

/// Parent of two nodes: the hash of the pair in ascending order, so a proof needs no
/// left/right flags.
fn parent(a: &B256, b: &B256) -> B256 {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut pair = [0u8; 64];
    pair[..32].copy_from_slice(low.as_slice());
    pair[32..].copy_from_slice(high.as_slice());
    keccak256(pair)
}

/// The leaves padded to a power of two by repeating the last one.
fn padded(leaves: &[B256]) -> Vec<B256> {
    let mut level = leaves.to_vec();
    if let Some(&last) = leaves.last() {
        level.resize(leaves.len().next_power_of_two(), last);
    }
    level
}

fn next_level(level: &[B256]) -> Vec<B256> {
    level.chunks_exact(2).map(|pair| parent(&pair[0], &pair[1])).collect()
}

/// Root of the sorted-pair Merkle tree over `leaves` in order: all-zero for none, the leaf
/// itself for one.
pub fn merkle_root(leaves: &[B256]) -> B256 {
    let mut level = padded(leaves);
    if level.is_empty() {
        return B256::ZERO;
    }
    while level.len() > 1 {
        level = next_level(&level);
    }
    level[0]
}

/// The siblings from leaf `index` up to the root; `None` if there is no such leaf.
pub fn merkle_proof(leaves: &[B256], index: usize) -> Option<Vec<B256>> {
    if index >= leaves.len() {
        return None;
    }
    let mut level = padded(leaves);
    let mut index = index;
    let mut proof = Vec::new();
    while level.len() > 1 {
        proof.push(level[index ^ 1]);
        level = next_level(&level);
        index /= 2;
    }
    Some(proof)
}

/// Whether `proof` leads from `leaf` to `root` (what an L1 claim checks).
pub fn verify_merkle_proof(leaf: B256, proof: &[B256], root: B256) -> bool {
    proof.iter().fold(leaf, |node, sibling| parent(&node, sibling)) == root
}

/// Deposits hash of a batch: all-zero if there are none, else the 2-byte big-endian count
/// followed by the last 30 bytes of `keccak256(h1 ‖ … ‖ hn)`. `None` above 65535 deposits.
pub fn deposits_hash(deposit_hashes: &[B256]) -> Option<B256> {
    if deposit_hashes.is_empty() {
        return Some(B256::ZERO);
    }
    let count = u16::try_from(deposit_hashes.len()).ok()?;
    let concatenated: Vec<u8> = deposit_hashes.iter().flat_map(|h| h.0).collect();
    let mut out = keccak256(concatenated);
    out[..2].copy_from_slice(&count.to_be_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    fn leaves(n: u8) -> Vec<B256> {
        (1..=n).map(|i| keccak256([i])).collect()
    }

    /// Each root below was computed outside this code with foundry's `cast keccak` over the
    /// sorted pairs (the commands are in docs/l2.md).
    #[test]
    fn roots_match_hand_computed_vectors() {
        assert_eq!(merkle_root(&[]), B256::ZERO);
        assert_eq!(merkle_root(&leaves(1)), keccak256([1]));
        assert_eq!(merkle_root(&leaves(2)), ROOT_2);
        assert_eq!(merkle_root(&leaves(3)), ROOT_3);
        assert_eq!(merkle_root(&leaves(5)), ROOT_5);
    }

    const ROOT_2: B256 = b256!("0x71d8979cbfae9b197a4fbcc7d387b1fae9560e2f284d30b4e90c80f6bc074f57");
    const ROOT_3: B256 = b256!("0x41018595206752552113afefd2e76718ba8a13a420c5d92398dd10a1acb491d5");
    const ROOT_5: B256 = b256!("0x1b4169deb5891e5028b1d2bc9a2083a8b1dd02deaa0913cd084d74188a7620e1");

    #[test]
    fn every_leaf_proves_against_the_root() {
        for n in [1u8, 2, 3, 5] {
            let leaves = leaves(n);
            let root = merkle_root(&leaves);
            for (i, leaf) in leaves.iter().enumerate() {
                let proof = merkle_proof(&leaves, i).expect("leaf exists");
                assert_eq!(proof.len(), leaves.len().next_power_of_two().trailing_zeros() as usize);
                assert!(verify_merkle_proof(*leaf, &proof, root), "{n} leaves, leaf {i}");
                assert!(!verify_merkle_proof(keccak256([0xff]), &proof, root));
            }
            assert!(merkle_proof(&leaves, leaves.len()).is_none());
        }
    }

    #[test]
    fn deposits_hash_vectors() {
        assert_eq!(deposits_hash(&[]), Some(B256::ZERO));
        let hashes = leaves(3);
        let got = deposits_hash(&hashes).expect("few deposits");
        assert_eq!(got, DEPOSITS_3);
        assert_eq!(&got[..2], &[0, 3]);
        assert!(deposits_hash(&vec![B256::ZERO; 65_536]).is_none());
    }

    const DEPOSITS_3: B256 = b256!("0x0003536d751cbd951ba3ab929a2d3d22398e2c4b042c89fd339d401b23871c4e");
}
