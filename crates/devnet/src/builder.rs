//! The L2 block builder: genesis, blocks of deterministic traffic executed on its own state,
//! batches sealed with their witness (recorded from the builder's own full state) and their
//! state-diff blob commitment, all kept in an embedded SQLite store.

use std::{collections::BTreeMap, path::Path};

use alloy_consensus::{proofs::calculate_transaction_root, BlockBody, Header, EMPTY_OMMER_ROOT_HASH};
use alloy_eips::{
    eip1559::BaseFeeParams, eip2935::HISTORY_STORAGE_ADDRESS, eip2935::HISTORY_STORAGE_CODE,
    eip4788::BEACON_ROOTS_ADDRESS, eip4788::BEACON_ROOTS_CODE, eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS,
    eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_CODE, eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS,
    eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_CODE,
};
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};
use alloy_rlp::Decodable;
use alloy_sol_types::SolEvent;
use alloy_trie::EMPTY_ROOT_HASH;
use bp_input::{Bytes48, ChainConfig, EthBlock, L2Input, ProgramInput};
use bp_program::{
    l2::{self, AccountChange, AccountState, WithdrawalMessage},
    BlockReceipt, ErrorChain, L2Commitments, ProgramOutput,
};
use bp_witness::{AllocAccount, FullState};
use revm::database::{states::bundle_state::BundleRetention, State};
use rusqlite::{params, Connection, OptionalExtension};

use crate::{
    contracts::{
        l2_bridge_code, messenger_code, store_code, token_code, L2Bridge, MESSENGER_ADDRESS, STORE_ADDRESS,
        TOKEN_ADDRESS,
    },
    state::DevState,
    traffic::{
        block_transactions, DepositFeed, DevAccountKey, MadeUpDeposits, Nonces, DEV_ACCOUNTS, WITHDRAWAL_RECEIVER,
    },
};

/// The devnet's chain id.
pub const DEVNET_CHAIN_ID: u64 = 65_536_999;
/// Genesis timestamp; block `n` is `n * BLOCK_TIME` seconds later.
pub(crate) const GENESIS_TIMESTAMP: u64 = 1_700_000_000;
/// Seconds between blocks.
pub const BLOCK_TIME: u64 = 12;
/// Every block's gas limit.
pub const GAS_LIMIT: u64 = 30_000_000;
/// The most L2 gas one deposit may ask for (the L1 bridge refuses more). A deposit must fit
/// one batch's blob whatever it does, or the deposits queued behind it could never be included:
/// the cheapest state diff costs about 175 gas a byte (a value transfer to a cold account,
/// 53 bytes for 9,300 gas), so 10M gas is at most about 57 KB of the blob's 124 KB.
pub const MAX_DEPOSIT_GAS: u64 = 10_000_000;
/// The L2 gas a block gives deposits (the rest is for transactions); at least one deposit is
/// always included, and one never asks for more than [`MAX_DEPOSIT_GAS`].
pub const DEPOSIT_GAS_PER_BLOCK: u64 = GAS_LIMIT / 2;
/// Receives the priority fees.
pub const COINBASE: Address = Address::new([0xc0; 20]);

/// Why the builder cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    /// The store file cannot be opened.
    #[error("builder store {path}")]
    Store {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// The store failed.
    #[error("builder store")]
    Sql(#[from] rusqlite::Error),
    /// A stored block is not a block.
    #[error("stored block {0} cannot be decoded")]
    StoredBlock(u64),
    /// A stored block rebuilds to another block (the code changed since it was built).
    #[error("stored block {number} re-executes to hash {rebuilt}, the store has {stored}")]
    Replay {
        /// The block.
        number: u64,
        /// The rebuilt block's hash.
        rebuilt: B256,
        /// The stored block's hash.
        stored: B256,
    },
    /// The builder's own traffic makes an invalid block.
    #[error("block {number}")]
    Block {
        /// The block.
        number: u64,
        /// Why.
        #[source]
        error: bp_program::BlockError,
    },
    /// The batch's state diff does not fit one blob.
    #[error(
        "batch of blocks {first}..={last}: the state diff is {size} bytes, more than one blob ({capacity}); use \
         fewer blocks per batch"
    )]
    StateDiffTooLarge {
        /// First block.
        first: u64,
        /// Last block.
        last: u64,
        /// Encoded size.
        size: usize,
        /// What a blob holds.
        capacity: usize,
    },
    /// The state diff cannot be expressed.
    #[error("state diff")]
    StateDiff(#[from] l2::StateDiffError),
    /// The blob cannot be committed to.
    #[error("KZG")]
    Kzg(#[from] l2::KzgError),
    /// The genesis allocation gives another root in the program's trie than in the builder's.
    #[error("genesis state root {0} differs from the program trie's {1}")]
    Genesis(B256, B256),
    /// The deposits of a block could not be had (from the L1).
    #[error("deposits: {0}")]
    Deposits(String),
    /// There is no open block to seal.
    #[error("no block built since the last batch: nothing to seal")]
    EmptyBatch,
    /// The program does not accept or reproduce what the builder built.
    #[error("the program disagrees with the builder on blocks {first}..={last}: {detail}")]
    ProgramDisagrees {
        /// First block.
        first: u64,
        /// Last block.
        last: u64,
        /// How.
        detail: String,
    },
}

/// A sealed batch: its input and what its proof must show, by the builder's own account.
#[derive(Debug, Clone)]
pub struct SealedBatch {
    /// 0-based batch index.
    pub index: usize,
    /// Its first block.
    pub first_block: u64,
    /// Its last block.
    pub last_block: u64,
    /// Gas of all its blocks.
    pub gas_used: u64,
    /// Transactions, privileged ones included.
    pub transactions: usize,
    /// Privileged transactions.
    pub deposits: usize,
    /// Messenger withdrawals.
    pub withdrawals: usize,
    /// Size of the encoded state diff.
    pub state_diff_bytes: usize,
    /// The public outputs its proof must have.
    pub expected: ProgramOutput,
    /// Its program input.
    pub input: ProgramInput,
    /// Its state-diff blob, as the committer posts it and the proof sender opens it.
    pub blob: BlobData,
    /// Its withdrawals through the L2 bridge, with what an L1 claim of each takes.
    pub withdrawal_claims: Vec<Withdrawal>,
    /// The Merkle leaves of all its withdrawal messages, in the order of its withdrawals root.
    pub withdrawal_leaves: Vec<B256>,
}

/// An ether withdrawal of a batch: the message the program committed and what it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawal {
    /// The messenger's message (its leaf is in the batch's withdrawals root).
    pub message: WithdrawalMessage,
    /// The L1 receiver the L2 bridge bound into it.
    pub receiver: Address,
    /// The amount it bound.
    pub amount: U256,
    /// Its leaf's position in the batch's withdrawals tree.
    pub index: usize,
}

/// A batch's state-diff blob with what L1 needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobData {
    /// The blob (the state diff packed).
    pub blob: l2::Blob,
    /// Its KZG commitment.
    pub commitment: Bytes48,
    /// Its blob proof (`compute_blob_kzg_proof`), for the EIP-4844 transaction's sidecar.
    pub proof: Bytes48,
    /// Its opening at the program's evaluation point (`blob_z`), for the point-evaluation
    /// precompile.
    pub opening_proof: Bytes48,
}

/// The devnet chain configuration: Prague rules from genesis, chain id [`DEVNET_CHAIN_ID`], no
/// EIP-6110 deposit contract (deposits are privileged transactions).
pub fn chain_config() -> ChainConfig {
    let mut chain = ChainConfig::for_test_network("Prague").expect("Prague is a known network");
    chain.chain_id = DEVNET_CHAIN_ID;
    chain.deposit_contract = None;
    chain
}

/// Genesis accounts: the developer accounts (ether and tokens), the messenger, the token, the
/// storage contract and the system contracts Prague needs.
pub(crate) fn genesis_alloc(keys: &[DevAccountKey]) -> BTreeMap<Address, AllocAccount> {
    let ether = U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18));
    let mut alloc = BTreeMap::new();
    let mut token_balances = BTreeMap::new();
    for key in keys {
        alloc.insert(key.address, AllocAccount { balance: ether, ..Default::default() });
        token_balances.insert(U256::from_be_slice(key.address.as_slice()), U256::from(10u64).pow(U256::from(24)));
    }
    let contract =
        |code: Bytes, storage: BTreeMap<U256, U256>| AllocAccount { nonce: 1, balance: U256::ZERO, code, storage };
    alloc.insert(MESSENGER_ADDRESS, contract(messenger_code(), BTreeMap::new()));
    alloc.insert(bp_input::L2_BRIDGE_ADDRESS, contract(l2_bridge_code(), BTreeMap::new()));
    alloc.insert(TOKEN_ADDRESS, contract(token_code(), token_balances));
    alloc.insert(STORE_ADDRESS, contract(store_code(), BTreeMap::new()));
    for (address, code) in [
        (BEACON_ROOTS_ADDRESS, &BEACON_ROOTS_CODE),
        (HISTORY_STORAGE_ADDRESS, &HISTORY_STORAGE_CODE),
        (WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, &WITHDRAWAL_REQUEST_PREDEPLOY_CODE),
        (CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, &CONSOLIDATION_REQUEST_PREDEPLOY_CODE),
    ] {
        alloc.insert(address, contract(code.clone(), BTreeMap::new()));
    }
    alloc
}

impl Nonces for DevState {
    fn nonce(&self, address: Address) -> u64 {
        self.accounts.get(&address).map_or(0, |a| a.nonce)
    }
}

/// The builder.
#[derive(Debug)]
pub struct Builder {
    chain: ChainConfig,
    keys: Vec<DevAccountKey>,
    state: DevState,
    head: Header,
    full: FullState,
    deposits_made: u64,
    store: Connection,
    sealed: Vec<SealedBatch>,
    /// Every block from genesis, with its receipts.
    blocks: Vec<ChainBlock>,
    /// The blocks built after the last sealed batch (the open batch).
    open: OpenBatch,
}

/// A block of the chain with its receipts.
#[derive(Debug, Clone)]
pub struct ChainBlock {
    /// The block.
    pub block: EthBlock,
    /// Its hash.
    pub hash: B256,
    /// Its receipts, one per transaction.
    pub receipts: Vec<BlockReceipt>,
}

/// How far the replay of a stored chain is, when a builder opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replay {
    /// Batches replayed so far.
    pub batches: usize,
    /// Batches stored.
    pub of: usize,
    /// Since the replay started.
    pub elapsed: std::time::Duration,
    /// Whether the whole stored chain is replayed (its open blocks too).
    pub done: bool,
}

/// A batch blob's KZG commitment, its blob proof, and its opening `y` at the program's point `z`.
struct BlobKzg {
    commitment: Bytes48,
    blob_proof: Bytes48,
    opening_proof: Bytes48,
    z: B256,
    y: B256,
}

/// The blocks built since the last sealed batch, and the state before them.
#[derive(Debug, Clone, Default)]
struct OpenBatch {
    /// The last sealed block's header (genesis before the first batch).
    parent: Header,
    /// The state after `parent`.
    pre: DevState,
    /// How many blocks are open.
    blocks: usize,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, rlp BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (number INTEGER PRIMARY KEY, first_block INTEGER NOT NULL, last_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blob_kzg (batch INTEGER PRIMARY KEY, commitment BLOB NOT NULL, blob_proof BLOB NOT NULL, opening_proof BLOB NOT NULL);
";

impl Builder {
    /// Opens the builder's store at `path` (creating it), starts from genesis and replays every
    /// stored batch, checking each re-executed block against the stored one.
    pub fn open(path: &Path) -> Result<Self, BuilderError> {
        Self::open_reporting(path, |replay| match replay.done {
            false => tracing::info!(
                batches = %format!("{}/{}", replay.batches, replay.of),
                elapsed_s = replay.elapsed.as_secs(),
                "replaying the stored chain"
            ),
            true => tracing::info!(
                batches = replay.of,
                seconds = format!("{:.1}", replay.elapsed.as_secs_f64()),
                "stored chain replayed"
            ),
        })
    }

    /// [`Builder::open`], telling `report` how far the replay of a stored chain is every two
    /// seconds, and once when it is done (not at all for an empty store).
    pub fn open_reporting(path: &Path, mut report: impl FnMut(Replay)) -> Result<Self, BuilderError> {
        let store_err = |source| BuilderError::Store { path: path.display().to_string(), source };
        let store = Connection::open(path).map_err(store_err)?;
        store.pragma_update(None, "journal_mode", "WAL").map_err(store_err)?;
        store.pragma_update(None, "synchronous", "FULL").map_err(store_err)?;
        store.execute_batch(SCHEMA).map_err(store_err)?;

        let keys: Vec<_> = (0..DEV_ACCOUNTS).map(DevAccountKey::new).collect();
        let (alloc, mut state, genesis) = genesis(&keys);
        let full = FullState::from_alloc(&alloc, genesis.clone())
            .map_err(|(ours, header)| BuilderError::Genesis(header, ours))?;
        state.block_hashes.insert(0, genesis.hash_slow());
        let mut builder = Self {
            chain: chain_config(),
            keys,
            state,
            head: genesis.clone(),
            full,
            deposits_made: 0,
            store,
            sealed: Vec::new(),
            blocks: vec![ChainBlock {
                block: EthBlock {
                    header: genesis.clone(),
                    body: BlockBody {
                        transactions: Vec::new(),
                        ommers: Vec::new(),
                        withdrawals: Some(Default::default()),
                    },
                },
                hash: genesis.hash_slow(),
                receipts: Vec::new(),
            }],
            open: OpenBatch::default(),
        };
        builder.open = OpenBatch { parent: genesis, pre: builder.state.clone(), blocks: 0 };

        let ranges: Vec<(u64, u64)> = {
            let mut stmt = builder.store.prepare("SELECT first_block, last_block FROM batches ORDER BY number")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)))?;
            rows.collect::<Result<_, _>>()?
        };
        let stored_blocks: i64 = builder.store.query_row("SELECT COUNT(*) FROM blocks", [], |r| r.get(0))?;
        let started = std::time::Instant::now();
        let mut last_report = started;
        for (index, &(first, last)) in ranges.iter().enumerate() {
            for number in first..=last {
                builder.replay_block(number)?;
            }
            builder.seal_open()?;
            if last_report.elapsed() >= std::time::Duration::from_secs(2) {
                report(Replay { batches: index + 1, of: ranges.len(), elapsed: started.elapsed(), done: false });
                last_report = std::time::Instant::now();
            }
        }
        // Blocks built after the last sealed batch are the open batch again.
        let mut number = builder.head.number + 1;
        while builder.stored_block(number)?.is_some() {
            builder.replay_block(number)?;
            number += 1;
        }
        if stored_blocks > 0 {
            report(Replay { batches: ranges.len(), of: ranges.len(), elapsed: started.elapsed(), done: true });
        }
        Ok(builder)
    }

    /// The stored block `number`, if there is one.
    fn stored_block(&self, number: u64) -> Result<Option<EthBlock>, BuilderError> {
        let rlp: Option<Vec<u8>> = self
            .store
            .query_row("SELECT rlp FROM blocks WHERE number = ?1", [number as i64], |r| r.get(0))
            .optional()?;
        rlp.map(|rlp| EthBlock::decode(&mut rlp.as_slice()).map_err(|_| BuilderError::StoredBlock(number))).transpose()
    }

    /// Re-executes stored block `number` into the open batch and checks it rebuilds to itself.
    fn replay_block(&mut self, number: u64) -> Result<(), BuilderError> {
        let stored = self.stored_block(number)?.ok_or(BuilderError::StoredBlock(number))?;
        let built = self.build_block(stored.body.transactions.clone(), stored.header.timestamp)?;
        let (rebuilt, stored) = (built.hash, stored.header.hash_slow());
        if rebuilt != stored {
            return Err(BuilderError::Replay { number, rebuilt, stored });
        }
        self.open.blocks += 1;
        Ok(())
    }

    /// The chain configuration.
    pub fn chain(&self) -> &ChainConfig {
        &self.chain
    }

    /// Every sealed batch, oldest first.
    pub fn sealed(&self) -> &[SealedBatch] {
        &self.sealed
    }

    /// The latest block.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// Privileged transactions in the chain so far (the next one's nonce).
    pub fn deposits_made(&self) -> u64 {
        self.deposits_made
    }

    /// Every block from genesis (block `n` at index `n`), with its receipts.
    pub fn blocks(&self) -> &[ChainBlock] {
        &self.blocks
    }

    /// The state after the latest block.
    pub fn state(&self) -> &DevState {
        &self.state
    }

    /// Every trie node and code of every state the chain has had (for proofs and witnesses of
    /// any block).
    pub fn full_state(&self) -> &FullState {
        &self.full
    }

    /// Blocks built since the last sealed batch.
    pub fn open_blocks(&self) -> usize {
        self.open.blocks
    }

    /// Builds `blocks` new blocks of traffic with made-up deposits (no L1) and seals them into the
    /// next batch: [`Self::build_batch_with`] the embedded devnet's way.
    pub fn build_batch(&mut self, blocks: u64) -> Result<&SealedBatch, BuilderError> {
        let mut feed = MadeUpDeposits { chain_id: self.chain.chain_id };
        self.build_batch_with(blocks, &mut feed, WITHDRAWAL_RECEIVER)
    }

    /// Builds new blocks of traffic, with the deposits `feed` gives each block and withdrawals
    /// to `withdrawal_receiver` on L1, until the open batch has `blocks` blocks, then seals it
    /// and stores it. The batch closes early, before the block that would make its state diff
    /// more than one blob holds (that block opens the next batch); a single block whose diff
    /// does not fit one blob is refused ([`BuilderError::StateDiffTooLarge`]).
    pub fn build_batch_with(
        &mut self,
        blocks: u64,
        feed: &mut dyn DepositFeed,
        withdrawal_receiver: Address,
    ) -> Result<&SealedBatch, BuilderError> {
        while (self.open.blocks as u64) < blocks.max(1) {
            let number = self.head.number + 1;
            let deposits = feed.deposits(number, self.deposits_made).map_err(BuilderError::Deposits)?;
            let txs =
                block_transactions(number, self.chain.chain_id, &self.keys, &self.state, deposits, withdrawal_receiver);
            if self.push_block(txs, GENESIS_TIMESTAMP + number * BLOCK_TIME)?.is_some() {
                return Ok(self.sealed.last().expect("just sealed"));
            }
        }
        self.seal_open()?;
        Ok(self.sealed.last().expect("just sealed"))
    }

    /// Builds the next block of `transactions` (deposits among them) at `timestamp`, stores it
    /// and adds it to the open batch. When the block would make the open batch's state diff
    /// overflow one blob, the open batch is sealed first and the block opens the next one:
    /// the index of the batch sealed so is returned. A block whose diff alone does not fit one
    /// blob is refused ([`BuilderError::StateDiffTooLarge`]) and the chain is as before.
    pub fn push_block(
        &mut self,
        transactions: Vec<bp_input::BlockTx>,
        timestamp: u64,
    ) -> Result<Option<usize>, BuilderError> {
        let before = (self.state.clone(), self.head.clone(), self.deposits_made);
        let number = match self.build_block(transactions.clone(), timestamp) {
            Ok(built) => built.block.header.number,
            Err(e) => {
                // A block the program refused after the builder applied it leaves nothing.
                (self.state, self.head, self.deposits_made) = before;
                return Err(e);
            }
        };
        let blocks = &self.blocks[self.blocks.len() - self.open.blocks - 1..];
        let size = batch_diff(&self.open.parent, &self.open.pre, &self.state, blocks)?.encode().len();
        let mut sealed = None;
        if size > l2::BLOB_CAPACITY {
            (self.state, self.head, self.deposits_made) = before;
            self.blocks.pop();
            if self.open.blocks == 0 {
                return Err(BuilderError::StateDiffTooLarge {
                    first: number,
                    last: number,
                    size,
                    capacity: l2::BLOB_CAPACITY,
                });
            }
            tracing::info!(block = number, size, "batch closed before a block that would overflow its blob");
            sealed = Some(self.seal_open()?);
            self.build_block(transactions, timestamp)?;
        }
        let rlp = alloy_rlp::encode(&self.blocks[number as usize].block);
        self.store
            .execute("INSERT OR REPLACE INTO blocks (number, rlp) VALUES (?1, ?2)", params![number as i64, rlp])?;
        self.open.blocks += 1;
        Ok(sealed)
    }

    /// Seals the open blocks into the next batch and stores it; returns its index. An open
    /// batch of no blocks is refused.
    pub fn seal_open(&mut self) -> Result<usize, BuilderError> {
        if self.open.blocks == 0 {
            return Err(BuilderError::EmptyBatch);
        }
        let first = self.blocks.len() - self.open.blocks;
        let blocks: Vec<EthBlock> = self.blocks[first..].iter().map(|b| b.block.clone()).collect();
        let receipts: Vec<Vec<BlockReceipt>> = self.blocks[first..].iter().map(|b| b.receipts.clone()).collect();
        let parent = std::mem::take(&mut self.open.parent);
        let pre = std::mem::take(&mut self.open.pre);
        let (first_block, last_block) = (parent.number + 1, self.head.number);
        self.seal(parent, pre, blocks, receipts)?;
        self.open = OpenBatch { parent: self.head.clone(), pre: self.state.clone(), blocks: 0 };
        let index = self.sealed.len() - 1;
        self.store.execute(
            "INSERT OR REPLACE INTO batches (number, first_block, last_block) VALUES (?1, ?2, ?3)",
            params![index as i64, first_block as i64, last_block as i64],
        )?;
        Ok(index)
    }

    /// The KZG commitment and openings of batch `index`'s `blob` (holding `encoded`). Their MSMs
    /// were 85 % of a restart's replay, so they are kept in the store; a kept row is checked
    /// (a blob proof and an opening verified: milliseconds), never taken on trust, and
    /// recomputed when it does not verify.
    fn blob_kzg(&self, index: usize, blob: &[u8; l2::BLOB_BYTES], encoded: &[u8]) -> Result<BlobKzg, BuilderError> {
        let kept: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = self
            .store
            .query_row(
                "SELECT commitment, blob_proof, opening_proof FROM blob_kzg WHERE batch = ?1",
                [index as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let point = |commitment: &Bytes48| l2::evaluation_point(&l2::versioned_hash(commitment), encoded);
        if let Some((commitment, blob_proof, opening_proof)) = kept {
            let bytes48 = |b: Vec<u8>| <[u8; 48]>::try_from(b).ok().map(Bytes48::from);
            if let (Some(commitment), Some(blob_proof), Some(opening_proof)) =
                (bytes48(commitment), bytes48(blob_proof), bytes48(opening_proof))
            {
                let z = point(&commitment);
                let y = l2::evaluate_blob(blob, &z)?;
                if l2::blob_commits(blob, &commitment, &blob_proof)?
                    && l2::opens_to(&commitment, &z, &y, &opening_proof)?
                {
                    return Ok(BlobKzg { commitment, blob_proof, opening_proof, z, y });
                }
            }
            tracing::warn!(
                batch = index,
                "the kept KZG commitment of the batch's blob does not verify; recomputing it"
            );
        }
        let (commitment, blob_proof) = l2::commit_blob(blob)?;
        // The point is the program's definition; the value comes from c-kzg's own evaluation,
        // with the opening proof the L1 contract's point-evaluation check takes.
        let z = point(&commitment);
        let (opening_proof, y) = l2::open_blob(blob, &z)?;
        self.store.execute(
            "INSERT OR REPLACE INTO blob_kzg (batch, commitment, blob_proof, opening_proof) VALUES (?1, ?2, ?3, ?4)",
            params![index as i64, commitment.as_slice(), blob_proof.as_slice(), opening_proof.as_slice()],
        )?;
        Ok(BlobKzg { commitment, blob_proof, opening_proof, z, y })
    }

    /// Executes `transactions` as the next block at `timestamp` on the builder's state, fills
    /// in the header from the results and appends the block to the chain. A block that fails
    /// leaves the chain as it was.
    fn build_block(
        &mut self,
        transactions: Vec<bp_input::BlockTx>,
        timestamp: u64,
    ) -> Result<&ChainBlock, BuilderError> {
        let parent = &self.head;
        let number = parent.number + 1;
        let parent_hash = parent.hash_slow();
        let mut header = Header {
            parent_hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: COINBASE,
            transactions_root: calculate_transaction_root(&transactions),
            number,
            gas_limit: GAS_LIMIT,
            timestamp,
            extra_data: Bytes::from_static(b"blockprover devnet"),
            mix_hash: keccak256(number.to_be_bytes()),
            base_fee_per_gas: parent.next_block_base_fee(BaseFeeParams::ethereum()),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Default::default()
        };
        let mut block = EthBlock {
            header: header.clone(),
            body: BlockBody { transactions, ommers: Vec::new(), withdrawals: Some(Default::default()) },
        };
        let mut state = State::builder().with_database(std::mem::take(&mut self.state)).with_bundle_update().build();
        let result = bp_program::run_block(&mut state, &block, parent_hash, &self.chain, true);
        state.merge_transitions(BundleRetention::PlainState);
        let bundle = state.take_bundle();
        self.state = state.database;
        let result = result.map_err(|error| BuilderError::Block { number, error })?;
        self.state.apply(&bundle);

        header.state_root = self.state.state_root();
        (header.receipts_root, header.logs_bloom) = bp_program::receipts_root_and_bloom(&result.receipts);
        header.gas_used = result.gas_used;
        header.requests_hash = Some(result.requests.requests_hash());
        block.header = header;
        // The program's own run, through the recorder, must reach the builder's state: it also
        // keeps every node of this block's state for proofs and witnesses of it.
        let recorded = self
            .full
            .execute_batch(std::slice::from_ref(&block), &self.chain, true)
            .ok_or_else(|| BuilderError::ProgramDisagrees {
                first: number,
                last: number,
                detail: "unknown parent".into(),
            })
            .and_then(|generated| {
                generated.result.map_err(|e| BuilderError::ProgramDisagrees {
                    first: number,
                    last: number,
                    detail: ErrorChain(&e).to_string(),
                })
            });
        // The state is applied by now: the caller puts it back on an error (`push_block`), or
        // the chain cannot be opened (`replay_block`).
        let output = recorded?;
        if output.final_state_root != block.header.state_root {
            let detail = format!("program root {}, builder {}", output.final_state_root, block.header.state_root);
            return Err(BuilderError::ProgramDisagrees { first: number, last: number, detail });
        }
        let hash = block.header.hash_slow();
        self.state.block_hashes.insert(number, hash);
        self.deposits_made += block.body.transactions.iter().filter(|tx| tx.as_privileged().is_some()).count() as u64;
        self.head = block.header.clone();
        self.blocks.push(ChainBlock { block, hash, receipts: result.receipts });
        Ok(self.blocks.last().expect("just pushed"))
    }

    /// Seals built blocks into a batch: the builder's own state diff, blob and commitments,
    /// then the witness recorded by running the program on the builder's full state.
    fn seal(
        &mut self,
        parent: Header,
        pre: DevState,
        blocks: Vec<EthBlock>,
        receipts: Vec<Vec<BlockReceipt>>,
    ) -> Result<(), BuilderError> {
        let (first, last) = (parent.number + 1, self.head.number);
        let withdrawals: Vec<WithdrawalMessage> =
            receipts.iter().flatten().flat_map(|r| r.logs.iter()).filter_map(l2::withdrawal_from_log).collect();
        // What the L2 bridge bound into each message: an L1 claim needs them.
        let claims: Vec<(Address, U256)> = receipts
            .iter()
            .flatten()
            .flat_map(|r| r.logs.iter())
            .filter(|log| log.address == bp_input::L2_BRIDGE_ADDRESS)
            .filter_map(|log| L2Bridge::WithdrawalInitiated::decode_log(log).ok())
            .map(|event| (event.data.receiver, event.data.amount))
            .collect();
        // The bridge's events and its messages come in the same order; a message from anyone
        // else (a direct messenger call) has no claim here but keeps its place in the tree.
        let mut claims = claims.into_iter().peekable();
        let mut withdrawal_claims = Vec::new();
        for (index, message) in withdrawals.iter().enumerate() {
            let Some(&(receiver, amount)) = claims.peek() else { break };
            if message.from == bp_input::L2_BRIDGE_ADDRESS && message.data_hash == claim_data_hash(receiver, amount) {
                withdrawal_claims.push(Withdrawal { message: *message, receiver, amount, index });
                claims.next();
            }
        }
        let withdrawal_leaves = withdrawals.iter().map(WithdrawalMessage::leaf).collect();
        let deposits: Vec<B256> = blocks
            .iter()
            .flat_map(|b| b.body.transactions.iter())
            .filter_map(|tx| tx.as_privileged())
            .map(|tx| tx.deposit_hash())
            .collect();
        let open = &self.blocks[self.blocks.len() - blocks.len()..];
        let diff = batch_diff(&parent, &pre, &self.state, open)?;
        let encoded = diff.encode();
        let blob = l2::pack_blob(&encoded).ok_or(BuilderError::StateDiffTooLarge {
            first,
            last,
            size: encoded.len(),
            capacity: l2::BLOB_CAPACITY,
        })?;
        let BlobKzg { commitment: blob_commitment, blob_proof, opening_proof, z: blob_z, y: blob_y } =
            self.blob_kzg(self.sealed.len(), &blob, &encoded)?;
        let state_diff_hash = l2::versioned_hash(&blob_commitment);
        let leaves: Vec<B256> = withdrawals.iter().map(WithdrawalMessage::leaf).collect();
        let transactions: usize = blocks.iter().map(|b| b.body.transactions.len()).sum();
        let expected = ProgramOutput {
            initial_state_root: parent.state_root,
            final_state_root: self.head.state_root,
            parent_block_hash: parent.hash_slow(),
            last_block_hash: self.head.hash_slow(),
            chain_id: self.chain.chain_id,
            chain_config_hash: self.chain.hash(),
            tx_count: (transactions - deposits.len()) as u64,
            l2: Some(L2Commitments {
                withdrawals_root: l2::merkle_root(&leaves),
                deposits_hash: l2::deposits_hash(&deposits).unwrap_or_default(),
                state_diff_hash,
                blob_z,
                blob_y,
            }),
        };

        // The program's own run (through the recorder, which cuts the witness) must reach the
        // builder's final state, and the sealed input must prove exactly the builder's outputs.
        let disagree = |detail: String| BuilderError::ProgramDisagrees { first, last, detail };
        let generated =
            self.full.witness_of(&blocks, &self.chain, true).ok_or_else(|| disagree("unknown parent".into()))?;
        let recorded = generated.result.map_err(|e| disagree(ErrorChain(&e).to_string()))?;
        if recorded.final_state_root != expected.final_state_root {
            return Err(disagree(format!("program {recorded:?}, builder {expected:?}")));
        }
        let gas_used = blocks.iter().map(|b| b.header.gas_used).sum();
        let input = ProgramInput {
            blocks,
            parent_header: parent,
            witness: generated.witness,
            chain: self.chain.clone(),
            l2: Some(L2Input { blob_commitment }),
        };
        let proved = bp_program::execute_input(&input).map_err(|e| disagree(ErrorChain(&e).to_string()))?;
        if let Some(m) = proved.first_difference(&expected) {
            return Err(disagree(format!("{}: program {}, builder {}", m.word, m.got, m.expected)));
        }
        self.sealed.push(SealedBatch {
            index: self.sealed.len(),
            first_block: first,
            last_block: last,
            gas_used,
            transactions,
            deposits: deposits.len(),
            withdrawals: withdrawals.len(),
            state_diff_bytes: encoded.len(),
            expected,
            input,
            blob: BlobData { blob, commitment: blob_commitment, proof: blob_proof, opening_proof },
            withdrawal_claims,
            withdrawal_leaves,
        });
        Ok(())
    }
}

/// The state diff of `blocks` on top of `parent`, from the builder's states before (`pre`) and
/// after (`post`) them.
fn batch_diff(
    parent: &Header,
    pre: &DevState,
    post: &DevState,
    blocks: &[ChainBlock],
) -> Result<l2::StateDiff, BuilderError> {
    let withdrawals = blocks
        .iter()
        .flat_map(|b| b.receipts.iter())
        .flat_map(|r| r.logs.iter())
        .filter_map(l2::withdrawal_from_log)
        .collect();
    let deposits = blocks
        .iter()
        .flat_map(|b| b.block.body.transactions.iter())
        .filter_map(|tx| tx.as_privileged())
        .map(|tx| tx.deposit_hash())
        .collect();
    let (first, last) = (parent.number + 1, parent.number + blocks.len() as u64);
    let changes = account_changes(pre, post);
    Ok(l2::build_state_diff(first, last, &changes, withdrawals, deposits, |hash| post.codes.get(hash).cloned())?)
}

/// What the L2 bridge binds into its message: `keccak256(receiver ‖ amount)` (the L1 bridge
/// rebuilds it from the claim).
fn claim_data_hash(receiver: Address, amount: U256) -> B256 {
    let mut preimage = [0u8; 20 + 32];
    preimage[..20].copy_from_slice(receiver.as_slice());
    preimage[20..].copy_from_slice(&amount.to_be_bytes::<32>());
    keccak256(preimage)
}

/// The devnet's genesis: its allocation, the state it makes and its header.
fn genesis(keys: &[DevAccountKey]) -> (BTreeMap<Address, AllocAccount>, DevState, Header) {
    let alloc = genesis_alloc(keys);
    let mut state = DevState::default();
    for (address, account) in &alloc {
        state.insert(*address, account.balance, account.code.clone(), account.storage.clone());
    }
    let header = genesis_header(state.state_root());
    (alloc, state, header)
}

/// The devnet's genesis header (what the L1 contracts are deployed with as batch 0).
pub fn genesis_block() -> Header {
    let keys: Vec<_> = (0..DEV_ACCOUNTS).map(DevAccountKey::new).collect();
    genesis(&keys).2
}

fn genesis_header(state_root: B256) -> Header {
    Header {
        ommers_hash: EMPTY_OMMER_ROOT_HASH,
        state_root,
        transactions_root: EMPTY_ROOT_HASH,
        receipts_root: EMPTY_ROOT_HASH,
        gas_limit: GAS_LIMIT,
        timestamp: GENESIS_TIMESTAMP,
        extra_data: Bytes::from_static(b"blockprover devnet genesis"),
        base_fee_per_gas: Some(1_000_000_000),
        withdrawals_root: Some(EMPTY_ROOT_HASH),
        blob_gas_used: Some(0),
        excess_blob_gas: Some(0),
        parent_beacon_block_root: Some(B256::ZERO),
        requests_hash: Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
        ..Default::default()
    }
}

/// Every account that differs between `pre` and `post`, compared field by field and slot by
/// slot (the builder's own view, independent of the program's change tracking).
fn account_changes(pre: &DevState, post: &DevState) -> BTreeMap<Address, AccountChange> {
    let as_state =
        |a: &crate::state::DevAccount| AccountState { balance: a.balance, nonce: a.nonce, code_hash: a.code_hash };
    let mut changes = BTreeMap::new();
    let addresses: std::collections::BTreeSet<&Address> = pre.accounts.keys().chain(post.accounts.keys()).collect();
    for address in addresses {
        let (before, after) = (pre.accounts.get(address), post.accounts.get(address));
        if before == after {
            continue;
        }
        let empty = BTreeMap::new();
        let (slots_before, slots_after) = (before.map_or(&empty, |a| &a.storage), after.map_or(&empty, |a| &a.storage));
        let keys: std::collections::BTreeSet<&U256> = slots_before.keys().chain(slots_after.keys()).collect();
        let storage = keys
            .into_iter()
            .filter_map(|k| {
                let (b, a) =
                    (slots_before.get(k).copied().unwrap_or_default(), slots_after.get(k).copied().unwrap_or_default());
                (b != a).then(|| (B256::from(k.to_be_bytes::<32>()), (b, a)))
            })
            .collect();
        changes.insert(
            *address,
            AccountChange {
                initial: before.map(as_state),
                current: after.map(as_state),
                storage_cleared: false,
                storage,
            },
        );
    }
    changes
}
