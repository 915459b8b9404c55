//! SSZ merkleization of the new-payload request: the hash tree root that is the first word of
//! EIP-8025's output.
//!
//! Ours rather than `tree_hash`'s because the root is computed inside the zkVM guests:
//! `tree_hash` hashes through `ethereum_hashing`, which has SHA-256 only on x86-64 (and through
//! `ring`, C code, elsewhere), so it cannot build for a RISC-V guest. Here every SHA-256 goes
//! through revm's installed crypto provider: the `sha2` crate natively, the zkVM's SHA
//! accelerator in a guest. The rules are the SSZ specification's (`merkleize`, `pack`,
//! `mix_in_length`, limits from the list bounds), and the tests check every root against
//! `tree_hash` on the fixtures and on edge cases.

use alloy_primitives::{Address, B256, U256};

use crate::containers::{limits, ExecutionPayload, NewPayloadRequest, Withdrawal};

/// One 32-byte leaf or node.
type Chunk = [u8; 32];

/// The deepest tree any list of the schema needs: `ByteList[2**30]` is 2^25 chunks.
const MAX_DEPTH: usize = 32;

/// The hash tree root of a new-payload request.
pub(crate) fn request_root(request: &NewPayloadRequest) -> B256 {
    let m = Merkleizer::new();
    let fields = [
        payload_root(&m, &request.execution_payload),
        m.list(request.versioned_hashes.iter().map(|h| h.0).collect(), limits::VERSIONED_HASHES),
        request.parent_beacon_block_root.0,
        m.list(
            request.execution_requests.iter().map(|r| m.byte_list(r, limits::EXECUTION_REQUEST)).collect(),
            limits::EXECUTION_REQUESTS,
        ),
    ];
    B256::from(m.container(&fields))
}

fn payload_root(m: &Merkleizer, p: &ExecutionPayload) -> Chunk {
    let fields = [
        p.parent_hash.0,
        address(p.fee_recipient),
        p.state_root.0,
        p.receipts_root.0,
        m.byte_vector(p.logs_bloom.as_slice()),
        p.prev_randao.0,
        uint64(p.block_number),
        uint64(p.gas_limit),
        uint64(p.gas_used),
        uint64(p.timestamp),
        m.byte_list(&p.extra_data, limits::EXTRA_DATA),
        uint256(p.base_fee_per_gas),
        p.block_hash.0,
        m.list(p.transactions.iter().map(|tx| m.byte_list(tx, limits::TRANSACTION)).collect(), limits::TRANSACTIONS),
        m.list(p.withdrawals.iter().map(|w| withdrawal_root(m, w)).collect(), limits::WITHDRAWALS),
        uint64(p.blob_gas_used),
        uint64(p.excess_blob_gas),
        m.byte_list(&p.block_access_list, limits::ACCESS_LIST),
        uint64(p.slot_number),
    ];
    m.container(&fields)
}

fn withdrawal_root(m: &Merkleizer, w: &Withdrawal) -> Chunk {
    m.container(&[uint64(w.index), uint64(w.validator_index), address(w.address), uint64(w.amount)])
}

/// A `uint64`: little-endian, zero-padded.
fn uint64(value: u64) -> Chunk {
    let mut chunk = [0; 32];
    chunk[..8].copy_from_slice(&value.to_le_bytes());
    chunk
}

/// A `uint256`: little-endian.
fn uint256(value: U256) -> Chunk {
    value.to_le_bytes()
}

/// A `Bytes20`: packed into one chunk, zero-padded on the right.
fn address(value: Address) -> Chunk {
    let mut chunk = [0; 32];
    chunk[..20].copy_from_slice(value.as_slice());
    chunk
}

/// Merkleization with the roots of all-zero subtrees computed once.
struct Merkleizer {
    /// `zeros[d]`: the root of a tree of depth `d` whose leaves are all zero.
    zeros: [Chunk; MAX_DEPTH + 1],
}

impl Merkleizer {
    fn new() -> Self {
        let mut zeros = [[0; 32]; MAX_DEPTH + 1];
        for depth in 1..=MAX_DEPTH {
            zeros[depth] = hash(&zeros[depth - 1], &zeros[depth - 1]);
        }
        Self { zeros }
    }

    /// `merkleize(chunks, limit)`: the root of the chunks padded with zero chunks to the next
    /// power of two of `limit` (at least one). The decoder bounds every list by its limit, so
    /// `chunks.len() <= limit` always holds here.
    fn merkleize(&self, mut layer: Vec<Chunk>, limit: usize) -> Chunk {
        let depth = limit.max(1).next_power_of_two().trailing_zeros() as usize;
        debug_assert!(layer.len() <= limit.max(1) && depth <= MAX_DEPTH);
        if layer.is_empty() {
            return self.zeros[depth];
        }
        for zero in &self.zeros[..depth] {
            if layer.len() % 2 == 1 {
                layer.push(*zero);
            }
            let pairs = layer.len() / 2;
            for i in 0..pairs {
                layer[i] = hash(&layer[2 * i], &layer[2 * i + 1]);
            }
            layer.truncate(pairs);
        }
        layer[0]
    }

    /// A container: its fields' roots merkleized.
    fn container(&self, fields: &[Chunk]) -> Chunk {
        self.merkleize(fields.to_vec(), fields.len())
    }

    /// A list of composite elements (or of `Bytes32`): the elements' roots merkleized to the
    /// list's limit, with the length mixed in.
    fn list(&self, roots: Vec<Chunk>, limit: usize) -> Chunk {
        let len = roots.len() as u64;
        mix_in_length(&self.merkleize(roots, limit), len)
    }

    /// A `ByteList[max_len]`: packed, merkleized to `ceil(max_len / 32)` chunks, the length
    /// mixed in.
    fn byte_list(&self, bytes: &[u8], max_len: usize) -> Chunk {
        mix_in_length(&self.merkleize(pack(bytes), max_len.div_ceil(32)), bytes.len() as u64)
    }

    /// A `ByteVector[N]`: packed and merkleized to its own chunk count.
    fn byte_vector(&self, bytes: &[u8]) -> Chunk {
        self.merkleize(pack(bytes), bytes.len().div_ceil(32))
    }
}

/// `pack`: the bytes in 32-byte chunks, the last one zero-padded.
fn pack(bytes: &[u8]) -> Vec<Chunk> {
    bytes
        .chunks(32)
        .map(|part| {
            let mut chunk = [0; 32];
            chunk[..part.len()].copy_from_slice(part);
            chunk
        })
        .collect()
}

fn mix_in_length(root: &Chunk, len: u64) -> Chunk {
    hash(root, &uint64(len))
}

fn hash(left: &Chunk, right: &Chunk) -> Chunk {
    let mut both = [0; 64];
    both[..32].copy_from_slice(left);
    both[32..].copy_from_slice(right);
    revm::precompile::crypto().sha256(&both)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Bloom, Bytes};
    use ssz::{Decode, Encode};
    use tree_hash::TreeHash;

    /// The request as `ssz_types`' bounded lists, merkleized by `tree_hash`: the reference.
    mod reference {
        use alloy_primitives::{Address, B256, U256};
        use ssz_types::{
            typenum::{self, *},
            FixedVector, VariableList,
        };

        #[derive(ssz_derive::Decode, tree_hash_derive::TreeHash)]
        pub(super) struct Withdrawal {
            index: u64,
            validator_index: u64,
            address: Address,
            amount: u64,
        }

        #[derive(ssz_derive::Decode, tree_hash_derive::TreeHash)]
        pub(super) struct ExecutionPayload {
            parent_hash: B256,
            fee_recipient: Address,
            state_root: B256,
            receipts_root: B256,
            logs_bloom: FixedVector<u8, typenum::U256>,
            prev_randao: B256,
            block_number: u64,
            gas_limit: u64,
            gas_used: u64,
            timestamp: u64,
            extra_data: VariableList<u8, U32>,
            base_fee_per_gas: U256,
            block_hash: B256,
            transactions: VariableList<VariableList<u8, U1073741824>, U1048576>,
            withdrawals: VariableList<Withdrawal, U65536>,
            blob_gas_used: u64,
            excess_blob_gas: u64,
            block_access_list: VariableList<u8, U16777216>,
            slot_number: u64,
        }

        #[derive(ssz_derive::Decode, tree_hash_derive::TreeHash)]
        pub(super) struct NewPayloadRequest {
            execution_payload: ExecutionPayload,
            versioned_hashes: VariableList<B256, U4096>,
            parent_beacon_block_root: B256,
            execution_requests: VariableList<VariableList<u8, U8388608>, U16>,
        }
    }

    fn reference_root(request: &NewPayloadRequest) -> B256 {
        let reference = reference::NewPayloadRequest::from_ssz_bytes(&request.as_ssz_bytes()).expect("within bounds");
        B256::from(reference.tree_hash_root().0)
    }

    fn bytes(len: usize, seed: u8) -> Bytes {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    fn request(transactions: &[usize], requests: &[usize], withdrawals: usize, hashes: usize) -> NewPayloadRequest {
        NewPayloadRequest {
            execution_payload: ExecutionPayload {
                parent_hash: B256::repeat_byte(1),
                fee_recipient: Address::repeat_byte(2),
                state_root: B256::repeat_byte(3),
                receipts_root: B256::repeat_byte(4),
                logs_bloom: Bloom::from_slice(&bytes(256, 5)),
                prev_randao: B256::repeat_byte(6),
                block_number: 7,
                gas_limit: 8_000_000,
                gas_used: 9,
                timestamp: u64::MAX,
                extra_data: bytes(transactions.len() % 33, 10),
                base_fee_per_gas: U256::from_limbs([1, 2, 3, 4]),
                block_hash: B256::repeat_byte(11),
                transactions: transactions.iter().map(|&n| bytes(n, 12)).collect(),
                withdrawals: (0..withdrawals as u64)
                    .map(|i| Withdrawal {
                        index: i,
                        validator_index: i * 3,
                        address: Address::repeat_byte(i as u8),
                        amount: i << 40,
                    })
                    .collect(),
                blob_gas_used: 131_072,
                excess_blob_gas: 13,
                block_access_list: bytes(transactions.iter().sum::<usize>() % 200, 14),
                slot_number: 15,
            },
            versioned_hashes: (0..hashes).map(|i| B256::repeat_byte(i as u8)).collect(),
            parent_beacon_block_root: B256::repeat_byte(16),
            execution_requests: requests.iter().map(|&n| bytes(n, 17)).collect(),
        }
    }

    #[test]
    fn roots_are_tree_hash_roots_at_every_length_boundary() {
        // Empty lists, one element, chunk boundaries (31, 32, 33, 64, 65 bytes), odd counts,
        // full lists (16 requests, 4096 hashes, 32 bytes of extra data).
        let cases: [(&[usize], &[usize], usize, usize); 8] = [
            (&[], &[], 0, 0),
            (&[0], &[1], 1, 1),
            (&[31, 32, 33], &[0, 32], 2, 3),
            (&[64, 65, 1000], &[97], 3, 4),
            (&[1; 5], &[1; 16], 16, 6),
            (&[4096, 0, 7], &[], 17, 4096),
            (&[100_000], &[1 << 23], 0, 0),
            (&[2; 32], &[], 1, 2),
        ];
        for (i, (txs, requests, withdrawals, hashes)) in cases.into_iter().enumerate() {
            let request = request(txs, requests, withdrawals, hashes);
            assert_eq!(request_root(&request), reference_root(&request), "case {i}");
        }
    }

    #[test]
    fn roots_are_tree_hash_roots_on_every_fixture_request() {
        let inputs = crate::vectors::fixture_inputs();
        assert_eq!(inputs.len(), 222, "the suite's stateless inputs");
        for bytes in inputs {
            let input = crate::decode(&bytes).expect("an input");
            let request = &input.new_payload_request;
            assert_eq!(request_root(request), reference_root(request));
        }
    }
}
