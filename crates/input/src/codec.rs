//! The program input's own binary form: `BPIN`, a version byte, then one RLP list.
//!
//! Why RLP rather than bincode, rkyv or SSZ: the bulk of an input (blocks, headers, trie nodes)
//! *is* RLP on the wire and inside the program — blocks and headers are decoded from RLP and
//! hashed as RLP, trie nodes are hashed as the byte strings they are — so RLP stores them with
//! no transcoding and the guest reads them with the decoder it already links. Typed transactions
//! keep their canonical EIP-2718 bytes. rkyv would need archive impls for every alloy type and
//! bincode cannot carry alloy's internally tagged transaction serde; SSZ has no encoding for
//! legacy blocks. The few remaining fields (the chain configuration) are small RLP lists.
//!
//! Layout: `[blocks, parent_header, [state, codes, headers, keys], chain, l2?]` with
//! `chain = [chain_id, [[fork_name, kind, a, b, c]…], [[fork_name, target, max, update_fraction,
//! min_blob_fee, max_blobs_per_tx, blob_base_cost]…], deposit_contract_or_empty]` and, for an L2
//! batch only, `l2 = [blob_commitment]`. Version 2 added `l2` (then with a blob proof) and the
//! privileged transaction type; version 3 dropped the blob proof (the L1 contract checks the
//! blob, docs/l2.md). An L1 input of version 1 or 2 reads unchanged.

use alloc::{string::String, vec::Vec};
use alloy_consensus::Header;
use alloy_eips::eip7840::BlobParams;
use alloy_hardforks::{EthereumHardfork, ForkCondition};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use core::{ops::Range, str::FromStr};

use crate::{ChainConfig, EthBlock, ExecutionWitness, L2Input, ProgramInput};

/// First bytes of every binary input.
pub const MAGIC: &[u8; 4] = b"BPIN";
/// The layout version this code writes and reads.
pub const VERSION: u8 = 3;
/// The oldest layout version this code reads.
pub const OLDEST_VERSION: u8 = 1;

/// A binary input that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bytes do not start with `BPIN`.
    #[error("not a binary program input (no BPIN magic)")]
    NotBinary,
    /// Written by an incompatible version.
    #[error(
        "binary program input version {0} is not supported (this build reads versions {OLDEST_VERSION} to {VERSION})"
    )]
    Version(u8),
    /// Malformed RLP or trailing bytes.
    #[error("malformed binary program input: {0}")]
    Rlp(String),
    /// A fork name this build does not know.
    #[error("unknown fork {0:?} in the chain configuration")]
    UnknownFork(String),
    /// A fork condition kind this build does not know.
    #[error("unknown fork condition kind {0}")]
    ForkKind(u8),
}

/// Why bytes are not a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockDecodeError {
    /// Malformed RLP, a list where a string belongs, a field out of range, an unknown
    /// transaction type…
    #[error("not a block: {0}")]
    Rlp(alloy_rlp::Error),
    /// Bytes after the block.
    #[error("{0} bytes after the block")]
    Trailing(usize),
    /// RLP that decodes but is not the block's canonical encoding.
    #[error("not the canonical encoding of the block it decodes to")]
    NonCanonical,
}

/// A block from exactly its canonical RLP: decoding must use every byte, and encoding the
/// result must give the same bytes. alloy's decoder already refuses leading zeros in integers
/// and long forms of short lengths; the round trip catches whatever else a decoder accepts
/// that is not the one encoding of the block.
pub fn decode_block(bytes: &[u8]) -> Result<EthBlock, BlockDecodeError> {
    let mut rest = bytes;
    let block = EthBlock::decode(&mut rest).map_err(BlockDecodeError::Rlp)?;
    if !rest.is_empty() {
        return Err(BlockDecodeError::Trailing(rest.len()));
    }
    if alloy_rlp::encode(&block) != bytes {
        return Err(BlockDecodeError::NonCanonical);
    }
    Ok(block)
}

/// Written with the witness's items as [`Bytes`], read with them as [`Span`]s of the input.
#[derive(RlpEncodable, RlpDecodable)]
#[rlp(trailing)]
struct WireInput<T> {
    blocks: Vec<EthBlock>,
    parent_header: Header,
    witness: WireWitness<T>,
    chain: WireChain,
    l2: Option<L2Input>,
}

#[derive(RlpEncodable, RlpDecodable)]
struct WireWitness<T> {
    state: Vec<T>,
    codes: Vec<T>,
    headers: Vec<T>,
    keys: Vec<T>,
}

/// Where an RLP string's payload lies in the buffer being decoded. The witness is most of an
/// input's bytes: a reader that owns the input as [`Bytes`] takes its items as slices of it,
/// with no copy (in a zkVM, copying a mainnet block's witness costs two million cycles).
struct Span {
    address: usize,
    len: usize,
}

impl Decodable for Span {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let payload = alloy_rlp::Header::decode_bytes(buf, false)?;
        Ok(Self { address: payload.as_ptr() as usize, len: payload.len() })
    }
}

impl WireWitness<Span> {
    /// The items, each made by `item` from its range in `buffer`, which the spans were decoded
    /// from.
    fn resolve(self, buffer: &[u8], mut item: impl FnMut(Range<usize>) -> Bytes) -> ExecutionWitness {
        let base = buffer.as_ptr() as usize;
        let mut list = |spans: Vec<Span>| {
            spans.iter().map(|span| item(span.address - base..span.address - base + span.len)).collect()
        };
        ExecutionWitness {
            state: list(self.state),
            codes: list(self.codes),
            headers: list(self.headers),
            keys: list(self.keys),
        }
    }
}

#[derive(RlpEncodable, RlpDecodable)]
struct WireChain {
    chain_id: u64,
    forks: Vec<WireFork>,
    blob_schedule: Vec<WireBlobParams>,
    deposit_contract: Bytes,
}

/// kind 0: block `a`; 1: timestamp `a`; 2: TTD (activation block `a`, fork block `b - 1` or
/// none if `b == 0`, total difficulty `c`); 3: never. `b` is wider than a block number so that
/// every fork block, `u64::MAX` included, has its own encoding.
#[derive(RlpEncodable, RlpDecodable)]
struct WireFork {
    name: String,
    kind: u8,
    a: u64,
    b: u128,
    c: U256,
}

#[derive(RlpEncodable, RlpDecodable)]
struct WireBlobParams {
    fork: String,
    target_blob_count: u64,
    max_blob_count: u64,
    update_fraction: u128,
    min_blob_fee: u128,
    max_blobs_per_tx: u64,
    blob_base_cost: u64,
}

fn fork_by_name(name: &str) -> Result<EthereumHardfork, CodecError> {
    EthereumHardfork::from_str(name).map_err(|_| CodecError::UnknownFork(name.into()))
}

impl From<&ChainConfig> for WireChain {
    fn from(chain: &ChainConfig) -> Self {
        Self {
            chain_id: chain.chain_id,
            forks: chain.forks.iter().map(|(fork, condition)| wire_fork(*fork, *condition)).collect(),
            blob_schedule: chain
                .blob_schedule
                .iter()
                .map(|(fork, p)| WireBlobParams {
                    fork: fork.name().into(),
                    target_blob_count: p.target_blob_count,
                    max_blob_count: p.max_blob_count,
                    update_fraction: p.update_fraction,
                    min_blob_fee: p.min_blob_fee,
                    max_blobs_per_tx: p.max_blobs_per_tx,
                    blob_base_cost: p.blob_base_cost,
                })
                .collect(),
            deposit_contract: chain.deposit_contract.map(|a| Bytes::copy_from_slice(a.as_slice())).unwrap_or_default(),
        }
    }
}

impl TryFrom<WireChain> for ChainConfig {
    type Error = CodecError;

    fn try_from(wire: WireChain) -> Result<Self, CodecError> {
        let forks = wire
            .forks
            .iter()
            .map(|f| {
                let condition = match f.kind {
                    0 => ForkCondition::Block(f.a),
                    1 => ForkCondition::Timestamp(f.a),
                    2 => ForkCondition::TTD {
                        activation_block_number: f.a,
                        fork_block: match f.b.checked_sub(1) {
                            None => None,
                            Some(block) => Some(u64::try_from(block).map_err(|_| {
                                CodecError::Rlp(alloc::format!("fork block {block} of {} is over 2^64", f.name))
                            })?),
                        },
                        total_difficulty: f.c,
                    },
                    3 => ForkCondition::Never,
                    other => return Err(CodecError::ForkKind(other)),
                };
                Ok((fork_by_name(&f.name)?, condition))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let blob_schedule = wire
            .blob_schedule
            .iter()
            .map(|p| {
                let params = BlobParams {
                    target_blob_count: p.target_blob_count,
                    max_blob_count: p.max_blob_count,
                    update_fraction: p.update_fraction,
                    min_blob_fee: p.min_blob_fee,
                    max_blobs_per_tx: p.max_blobs_per_tx,
                    blob_base_cost: p.blob_base_cost,
                };
                Ok((fork_by_name(&p.fork)?, params))
            })
            .collect::<Result<Vec<_>, CodecError>>()?;
        let deposit_contract = match wire.deposit_contract.len() {
            0 => None,
            20 => Some(Address::from_slice(&wire.deposit_contract)),
            n => return Err(CodecError::Rlp(alloc::format!("deposit contract is {n} bytes"))),
        };
        Ok(ChainConfig { chain_id: wire.chain_id, forks, blob_schedule, deposit_contract })
    }
}

impl ChainConfig {
    /// The configuration's canonical bytes: the RLP `chain` list of the binary input (see the
    /// module documentation). Decoding them gives back this configuration exactly, so two
    /// configurations with the same bytes execute every block alike.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        alloy_rlp::encode(WireChain::from(self))
    }

    /// `keccak256` of [`Self::canonical_bytes`]: the rules a proof commits to (public output
    /// `chain config hash`, docs/l2.md).
    pub fn hash(&self) -> B256 {
        keccak256(self.canonical_bytes())
    }
}

impl ProgramInput {
    /// The binary form (see the module documentation).
    pub fn to_binary(&self) -> Vec<u8> {
        let wire = WireInput {
            blocks: self.blocks.clone(),
            parent_header: self.parent_header.clone(),
            witness: WireWitness {
                state: self.witness.state.clone(),
                codes: self.witness.codes.clone(),
                headers: self.witness.headers.clone(),
                keys: self.witness.keys.clone(),
            },
            chain: WireChain::from(&self.chain),
            l2: self.l2.clone(),
        };
        let mut out = Vec::with_capacity(wire.length() + 5);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        wire.encode(&mut out);
        out
    }

    /// Reads the binary form, copying the witness out of `bytes`.
    pub fn from_binary(bytes: &[u8]) -> Result<Self, CodecError> {
        Self::decode_binary(bytes, |range| Bytes::copy_from_slice(&bytes[range]))
    }

    /// Reads the binary form; the witness's items stay in `bytes`, as slices of it.
    pub fn from_binary_shared(bytes: Bytes) -> Result<Self, CodecError> {
        Self::decode_binary(&bytes, |range| bytes.slice(range))
    }

    /// Reads `bytes`, making each witness item from its range with `item`.
    fn decode_binary(bytes: &[u8], item: impl FnMut(Range<usize>) -> Bytes) -> Result<Self, CodecError> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(CodecError::NotBinary)?;
        let (&version, mut rest) = rest.split_first().ok_or(CodecError::NotBinary)?;
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(CodecError::Version(version));
        }
        let wire = WireInput::<Span>::decode(&mut rest).map_err(|e| match version {
            // Version 3 dropped the L2 blob proof; an L1 input of version 1 or 2 reads unchanged.
            2 => CodecError::Rlp(alloc::format!("{e} (an L2 input of version 2 carries a blob proof: rebuild it)")),
            _ => CodecError::Rlp(alloc::format!("{e}")),
        })?;
        if !rest.is_empty() {
            return Err(CodecError::Rlp(alloc::format!("{} trailing bytes", rest.len())));
        }
        Ok(Self {
            blocks: wire.blocks,
            parent_header: wire.parent_header,
            witness: wire.witness.resolve(bytes, item),
            chain: ChainConfig::try_from(wire.chain)?,
            l2: wire.l2,
        })
    }
}

fn wire_fork(fork: EthereumHardfork, condition: ForkCondition) -> WireFork {
    let (kind, a, b, c) = match condition {
        ForkCondition::Block(n) => (0, n, 0, U256::ZERO),
        ForkCondition::Timestamp(t) => (1, t, 0, U256::ZERO),
        ForkCondition::TTD { activation_block_number, fork_block, total_difficulty } => {
            (2, activation_block_number, fork_block.map_or(0, |b| u128::from(b) + 1), total_difficulty)
        }
        ForkCondition::Never => (3, 0, 0, U256::ZERO),
    };
    WireFork { name: fork.name().into(), kind, a, b, c }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProgramInput {
        let mut chain = ChainConfig::mainnet();
        chain.forks.push((
            EthereumHardfork::Paris,
            ForkCondition::TTD {
                activation_block_number: 15_537_394,
                fork_block: None,
                total_difficulty: U256::from(58_750_000_000_000_000_000_000u128),
            },
        ));
        ProgramInput {
            blocks: vec![EthBlock::default()],
            parent_header: Header { number: 7, ..Default::default() },
            witness: ExecutionWitness {
                state: vec![Bytes::from_static(&[0xc0])],
                codes: vec![Bytes::from_static(&[0x60, 0x00])],
                headers: vec![],
                keys: vec![Bytes::from_static(&[1; 20])],
            },
            chain,
            l2: None,
        }
    }

    #[test]
    fn round_trip() {
        let input = sample();
        let bytes = input.to_binary();
        assert_eq!(ProgramInput::from_binary(&bytes), Ok(input));
    }

    #[test]
    fn shared_read_equals_copying_read_and_points_into_the_input() {
        let bytes = Bytes::from(sample().to_binary());
        let shared = ProgramInput::from_binary_shared(bytes.clone()).unwrap();
        assert_eq!(Ok(&shared), ProgramInput::from_binary(&bytes).as_ref());
        let inside = bytes.as_ptr_range();
        for item in shared.witness.state.iter().chain(&shared.witness.codes).chain(&shared.witness.keys) {
            assert!(inside.contains(&item.as_ptr()), "an item was copied out of the input");
        }
        // Both readers refuse alike.
        let mut trailing = bytes.to_vec();
        trailing.push(0);
        let refused = ProgramInput::from_binary(&trailing);
        assert!(refused.is_err());
        assert_eq!(ProgramInput::from_binary_shared(Bytes::from(trailing)), refused);
    }

    #[test]
    fn l2_round_trip_and_version_1_still_reads() {
        let mut input = sample();
        let v1 = input.to_binary();
        let mut v1 = v1;
        v1[4] = 1;
        assert_eq!(ProgramInput::from_binary(&v1), Ok(input.clone()));
        input.l2 = Some(L2Input { blob_commitment: [1; 48].into() });
        let bytes = input.to_binary();
        assert_eq!(ProgramInput::from_binary(&bytes), Ok(input));
    }

    #[test]
    fn chain_config_bytes_read_back_and_every_field_changes_the_hash() {
        let known = [ChainConfig::mainnet(), ChainConfig::sepolia(), ChainConfig::hoodi()];
        for chain in known.iter().chain([&sample().chain]) {
            let bytes = chain.canonical_bytes();
            let wire = WireChain::decode(&mut bytes.as_slice()).expect("RLP");
            assert_eq!(ChainConfig::try_from(wire).as_ref(), Ok(chain));
        }
        let base = ChainConfig::hoodi();
        let mut variants = vec![base.clone()];
        let mut change = |edit: &dyn Fn(&mut ChainConfig)| {
            let mut chain = base.clone();
            edit(&mut chain);
            variants.push(chain);
        };
        change(&|c| c.chain_id += 1);
        change(&|c| c.forks.retain(|(f, _)| *f != EthereumHardfork::Prague));
        change(&|c| c.forks.iter_mut().for_each(|(_, at)| *at = ForkCondition::Timestamp(0)));
        change(&|c| c.blob_schedule[0].1.max_blob_count += 1);
        change(&|c| c.blob_schedule.pop().map(drop).unwrap_or_default());
        change(&|c| c.deposit_contract = None);
        let ttd =
            |fork_block| ForkCondition::TTD { activation_block_number: 0, fork_block, total_difficulty: U256::ZERO };
        change(&|c| c.forks.push((EthereumHardfork::Paris, ttd(Some(u64::MAX)))));
        change(&|c| c.forks.push((EthereumHardfork::Paris, ttd(Some(u64::MAX - 1)))));
        change(&|c| c.forks.push((EthereumHardfork::Paris, ttd(None))));
        let hashes: std::collections::BTreeSet<B256> = variants.iter().map(ChainConfig::hash).collect();
        assert_eq!(hashes.len(), variants.len(), "each configuration has its own hash");
        for chain in &variants {
            let wire = WireChain::decode(&mut chain.canonical_bytes().as_slice()).expect("RLP");
            assert_eq!(ChainConfig::try_from(wire).as_ref(), Ok(chain));
        }
    }

    /// The hashes docs/l2.md lists, so that a verifier can pin a known chain's rules.
    #[test]
    fn known_chain_hashes() {
        for (chain, hash) in [
            (ChainConfig::mainnet(), MAINNET_HASH),
            (ChainConfig::sepolia(), SEPOLIA_HASH),
            (ChainConfig::hoodi(), HOODI_HASH),
        ] {
            assert_eq!(chain.hash(), hash, "chain {}", chain.chain_id);
        }
    }

    const MAINNET_HASH: B256 =
        alloy_primitives::b256!("0x857b5ca505eb0758c79242098a38d837b8105360a79edd8bd8c7d30a8d4193b7");
    const SEPOLIA_HASH: B256 =
        alloy_primitives::b256!("0xc547c221220a4d13c9a86e063cdbce11752ec7bdc318977a6d3371e4c68d7685");
    const HOODI_HASH: B256 =
        alloy_primitives::b256!("0xab39c1c810414819b406a9327ecc76a1ce1cd8047d501bb7f805670d675f29b5");

    #[test]
    fn rejects_bad_bytes() {
        let bytes = sample().to_binary();
        assert_eq!(ProgramInput::from_binary(b"{}"), Err(CodecError::NotBinary));
        let mut other = bytes.clone();
        other[4] = 9;
        assert_eq!(ProgramInput::from_binary(&other), Err(CodecError::Version(9)));
        assert!(matches!(ProgramInput::from_binary(&bytes[..bytes.len() - 1]), Err(CodecError::Rlp(_))));
        let mut longer = bytes;
        longer.push(0);
        assert!(matches!(ProgramInput::from_binary(&longer), Err(CodecError::Rlp(_))));
    }
}
