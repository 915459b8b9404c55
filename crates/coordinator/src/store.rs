//! Durable state: batches with their inputs, assignments and proofs, in one SQLite file.
//!
//! Every change is one transaction, committed with `synchronous=FULL` in WAL mode before the
//! prover hears about it: an acknowledged proof or a handed-out assignment survives a crash.

use std::{path::Path, sync::Mutex, time::Duration};

use alloy_primitives::{Address, B256};
use bp_backend::ProofType;
use rusqlite::{params, Connection, OptionalExtension};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database")]
    Sql(#[from] rusqlite::Error),
    /// The database file cannot be opened or set up.
    #[error("database {path}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// The file was written by another version of the coordinator.
    #[error(
        "database {path} has schema version {found}, this build uses {expected}: its batches are of another \
         program version; move it away (or use another --data-dir) to start afresh"
    )]
    Schema {
        /// The file.
        path: String,
        /// Its schema version.
        found: i64,
        /// This build's.
        expected: i64,
    },
    /// The same blocks are already stored as another batch.
    #[error("{origin} holds the blocks of batch {batch} ({existing}) again; not stored twice")]
    Duplicate {
        /// The new batch's source.
        origin: String,
        /// The batch that holds them.
        batch: u64,
        /// That batch's source.
        existing: String,
    },
    /// A stored value cannot be read back.
    #[error("stored {what} of batch {batch} is corrupt")]
    Corrupt {
        /// The batch.
        batch: u64,
        /// Which value.
        what: &'static str,
    },
}

/// What a batch's proof must establish, taken from the batch's own headers.
pub type Expected = bp_program::ProgramOutput;

/// A batch about to be stored.
#[derive(Debug, Clone)]
pub struct NewBatch {
    /// Where it came from (a file name, a block range); unique, so a source is never batched twice.
    pub source: String,
    /// Its first block's number.
    pub first_block: u64,
    /// Its last block's number.
    pub last_block: u64,
    /// Gas of all its blocks (from the headers), for progress reports.
    pub gas_used: u64,
    /// What its proof must establish.
    pub expected: Expected,
    /// The binary program input.
    pub input: Vec<u8>,
    /// For an L2 batch settled on L1: its blob's commitment and opening at the evaluation point.
    pub blob_opening: Option<BlobOpening>,
}

/// What the L1 contract's point-evaluation check of a batch's blob takes besides the public
/// outputs: the blob's KZG commitment and its opening at the outputs' evaluation point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobOpening {
    /// The KZG commitment.
    pub commitment: bp_input::Bytes48,
    /// The opening proof at `z` (`compute_kzg_proof`).
    pub proof: bp_input::Bytes48,
}

/// A batch's verification on L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    /// The coordinator's batch number.
    pub batch: u64,
    /// The verify transaction.
    pub tx_hash: B256,
    /// Its gas.
    pub gas_used: u64,
}

/// The L1 settlement as the proof sender last saw it (`blockprover status` shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1State {
    /// The OnChainProposer.
    pub proposer: Address,
    /// The proofs it requires, in words (`bp_l1::ProofRequirements`), e.g. dev mode.
    pub mode: String,
    /// Its newest committed batch (an L1 batch number).
    pub last_committed: u64,
    /// Its newest verified batch.
    pub last_verified: u64,
    /// When this was read (ms since the epoch).
    pub updated_ms: u64,
}

/// What [`Store::add_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Stored as a new batch with this number.
    New {
        /// Its number.
        number: u64,
        /// How it relates to the batch stored before it.
        follows: Continuity,
    },
    /// Its source was stored before, as this batch.
    Known(u64),
}

impl Added {
    /// The batch's number.
    pub fn number(self) -> u64 {
        match self {
            Added::New { number, .. } | Added::Known(number) => number,
        }
    }
}

/// Whether a new batch starts where the previous one ended (its parent is the previous batch's
/// last block). Independent L1 blocks need not; an L2's batches must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// The store had no batch.
    First,
    /// The batch's parent is the previous batch's last block.
    Follows,
    /// It is not.
    Gap {
        /// The previous batch's last block hash.
        previous_last_block_hash: B256,
    },
}

/// A stored batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Its number, from 0 in the order batches were stored.
    pub number: u64,
    /// Where it came from.
    pub source: String,
    /// Its first block's number.
    pub first_block: u64,
    /// Its last block's number.
    pub last_block: u64,
    /// Gas of all its blocks.
    pub gas_used: u64,
    /// What its proof must establish.
    pub expected: Expected,
    /// The binary program input.
    pub input: Vec<u8>,
}

/// A stored proof.
#[derive(Debug, Clone)]
pub struct StoredProof {
    /// The batch it proves.
    pub batch: u64,
    /// Its kind.
    pub proof_type: ProofType,
    /// `bp_backend::Proof::to_bytes`.
    pub proof: Vec<u8>,
    /// The public outputs it establishes ([`Expected::to_public_bytes`]).
    pub public_outputs: Vec<u8>,
    /// Who proved it.
    pub prover: String,
    /// Proving time, as the prover measured it.
    pub proving_ms: u64,
    /// When the coordinator stored it.
    pub stored_at_ms: u64,
}

/// Batch counts for one proof type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Not proved and not currently assigned.
    pub pending: u64,
    /// Assigned and not yet expired.
    pub assigned: u64,
    /// Proved.
    pub proved: u64,
}

/// A batch handed to a prover and not proved yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAssignment {
    /// The batch.
    pub batch: u64,
    /// The proof kind.
    pub proof_type: ProofType,
    /// The prover's name.
    pub prover: String,
    /// When it was handed out (ms since the epoch).
    pub assigned_ms: u64,
    /// The prover's last word on it: its last heartbeat, or the assignment.
    pub heartbeat_ms: u64,
    /// Until when it is the prover's; 0: the prover gave it up.
    pub expires_ms: u64,
    /// Units proved (RISC Zero: segments), as the last heartbeat said.
    pub done: u64,
    /// Units in all; 0: unknown.
    pub total: u64,
}

impl OpenAssignment {
    /// Whether the prover still holds it at `now`.
    pub fn is_held(&self, now_ms: u64) -> bool {
        self.expires_ms > now_ms
    }
}

/// The coordinator's database.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

/// `PRAGMA user_version` of the layout below. 2: a batch's expected outputs are one value, the
/// program's public output bytes (program version 2). 4: assignments keep the prover's last
/// heartbeat and progress (a version 3 database gains the columns, see [`UPGRADE_FROM_3`]). A
/// database of another version is refused.
const SCHEMA_VERSION: i64 = 4;

/// Takes a version 3 database to version 4: nothing else changed, so its batches stay valid.
const UPGRADE_FROM_3: &str = "
ALTER TABLE assignments ADD COLUMN heartbeat_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN total INTEGER NOT NULL DEFAULT 0;
";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
    number INTEGER PRIMARY KEY,
    source TEXT NOT NULL UNIQUE,
    first_block INTEGER NOT NULL,
    last_block INTEGER NOT NULL,
    expected BLOB NOT NULL,
    gas_used INTEGER NOT NULL,
    input BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    blob_opening BLOB
);
CREATE TABLE IF NOT EXISTS settlements (
    batch INTEGER PRIMARY KEY REFERENCES batches(number),
    tx_hash BLOB NOT NULL,
    gas_used INTEGER NOT NULL,
    settled_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS l1_state (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    proposer BLOB NOT NULL,
    mode TEXT NOT NULL,
    last_committed INTEGER NOT NULL,
    last_verified INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS refused_proofs (
    batch INTEGER NOT NULL REFERENCES batches(number),
    proof_type INTEGER NOT NULL,
    proof BLOB NOT NULL,
    prover TEXT NOT NULL,
    reason TEXT NOT NULL,
    refused_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS assignments (
    batch INTEGER NOT NULL REFERENCES batches(number),
    proof_type INTEGER NOT NULL,
    prover TEXT NOT NULL,
    assigned_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    times INTEGER NOT NULL,
    heartbeat_ms INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch, proof_type)
);
CREATE TABLE IF NOT EXISTS proofs (
    batch INTEGER NOT NULL REFERENCES batches(number),
    proof_type INTEGER NOT NULL,
    proof BLOB NOT NULL,
    public_outputs BLOB NOT NULL,
    prover TEXT NOT NULL,
    proving_ms INTEGER NOT NULL,
    stored_ms INTEGER NOT NULL,
    PRIMARY KEY (batch, proof_type)
);
";

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.display().to_string(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(open_err)?;
        let tables: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
            .map_err(open_err)?;
        if tables > 0 && version == 3 {
            conn.execute_batch(UPGRADE_FROM_3).map_err(open_err)?;
        } else if tables > 0 && version != SCHEMA_VERSION {
            // A database from before schema versions has tables but version 0.
            return Err(StoreError::Schema {
                path: path.display().to_string(),
                found: version,
                expected: SCHEMA_VERSION,
            });
        }
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(open_err)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether a batch from `source` exists.
    pub fn has_source(&self, source: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        Ok(conn.query_row("SELECT 1 FROM batches WHERE source = ?1", [source], |_| Ok(())).optional()?.is_some())
    }

    /// Stores a batch under the next number. A source already stored keeps its number; the
    /// same blocks from another source are refused ([`StoreError::Duplicate`]).
    pub fn add_batch(&self, batch: &NewBatch, now_ms: u64) -> Result<Added, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Some(number) = tx
            .query_row("SELECT number FROM batches WHERE source = ?1", [&batch.source], |r| r.get::<_, i64>(0))
            .optional()?
        {
            return Ok(Added::Known(number as u64));
        }
        let same_blocks = {
            let mut statement = tx.prepare(&format!(
                "SELECT {} FROM batches WHERE first_block = ?1 AND last_block = ?2",
                Self::BATCH_COLUMNS
            ))?;
            let rows = statement
                .query_map(params![as_i64(batch.first_block), as_i64(batch.last_block)], Self::read_batch)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().collect::<Result<Vec<_>, _>>()?
        };
        if let Some(existing) = same_blocks.into_iter().find(|b| {
            b.expected.last_block_hash == batch.expected.last_block_hash
                && b.expected.parent_block_hash == batch.expected.parent_block_hash
        }) {
            return Err(StoreError::Duplicate {
                origin: batch.source.clone(),
                batch: existing.number,
                existing: existing.source,
            });
        }
        let previous: Option<Vec<u8>> =
            tx.query_row("SELECT expected FROM batches ORDER BY number DESC LIMIT 1", [], |r| r.get(0)).optional()?;
        let follows = match previous.map(|bytes| Expected::from_public_bytes(&bytes)) {
            None => Continuity::First,
            Some(Ok(previous)) if previous.last_block_hash == batch.expected.parent_block_hash => Continuity::Follows,
            Some(Ok(previous)) => Continuity::Gap { previous_last_block_hash: previous.last_block_hash },
            Some(Err(_)) => Continuity::Gap { previous_last_block_hash: B256::ZERO },
        };
        let number: i64 = tx.query_row("SELECT COALESCE(MAX(number) + 1, 0) FROM batches", [], |r| r.get(0))?;
        tx.execute(
            "INSERT INTO batches (number, source, first_block, last_block, expected, gas_used, input, created_ms,
                blob_opening)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                number,
                batch.source,
                as_i64(batch.first_block),
                as_i64(batch.last_block),
                batch.expected.to_public_bytes().as_slice(),
                as_i64(batch.gas_used),
                batch.input,
                as_i64(now_ms),
                batch.blob_opening.map(|o| [o.commitment.as_slice(), o.proof.as_slice()].concat()),
            ],
        )?;
        tx.commit()?;
        Ok(Added::New { number: number as u64, follows })
    }

    /// The block after the last batched one, if any batch exists.
    pub fn next_block(&self) -> Result<Option<u64>, StoreError> {
        let conn = self.conn();
        let last: Option<i64> = conn.query_row("SELECT MAX(last_block) FROM batches", [], |r| r.get(0))?;
        Ok(last.map(|n| n as u64 + 1))
    }

    /// A batch row ([`Self::BATCH_COLUMNS`]); the inner error: its expected outputs are corrupt.
    fn read_batch(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Batch, StoreError>> {
        let number = row.get::<_, i64>(0)? as u64;
        let expected: Vec<u8> = row.get(4)?;
        let Ok(expected) = Expected::from_public_bytes(&expected) else {
            return Ok(Err(StoreError::Corrupt { batch: number, what: "expected outputs" }));
        };
        Ok(Ok(Batch {
            number,
            source: row.get(1)?,
            first_block: row.get::<_, i64>(2)? as u64,
            last_block: row.get::<_, i64>(3)? as u64,
            expected,
            gas_used: row.get::<_, i64>(5)? as u64,
            input: row.get(6)?,
        }))
    }

    const BATCH_COLUMNS: &'static str = "number, source, first_block, last_block, expected, gas_used, input";

    /// The batch with this number.
    pub fn batch(&self, number: u64) -> Result<Option<Batch>, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {} FROM batches WHERE number = ?1", Self::BATCH_COLUMNS);
        conn.query_row(&sql, [as_i64(number)], Self::read_batch).optional()?.transpose()
    }

    /// Every batch, oldest first (inputs included).
    pub fn batches(&self) -> Result<Vec<Batch>, StoreError> {
        let conn = self.conn();
        let sql = format!("SELECT {} FROM batches ORDER BY number", Self::BATCH_COLUMNS);
        let mut statement = conn.prepare(&sql)?;
        let rows = statement.query_map([], Self::read_batch)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().collect()
    }

    /// Hands the oldest batch that lacks a `proof_type` proof and is not assigned (or whose
    /// assignment expired) to `prover` until `now + timeout`.
    pub fn assign(
        &self,
        proof_type: ProofType,
        prover: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<Option<Batch>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let kind = i64::from(proof_type.index());
        let now = as_i64(now_ms);
        let number: Option<i64> = tx
            .query_row(
                "SELECT b.number FROM batches b
                 WHERE NOT EXISTS (SELECT 1 FROM proofs p WHERE p.batch = b.number AND p.proof_type = ?1)
                   AND NOT EXISTS (SELECT 1 FROM assignments a
                                   WHERE a.batch = b.number AND a.proof_type = ?1 AND a.expires_ms > ?2)
                 ORDER BY b.number LIMIT 1",
                params![kind, now],
                |r| r.get(0),
            )
            .optional()?;
        let Some(number) = number else { return Ok(None) };
        let expires = as_i64(now_ms.saturating_add(timeout.as_millis() as u64));
        tx.execute(
            "INSERT INTO assignments (batch, proof_type, prover, assigned_ms, expires_ms, times, heartbeat_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, ?4)
             ON CONFLICT (batch, proof_type) DO UPDATE SET
                prover = excluded.prover, assigned_ms = excluded.assigned_ms,
                expires_ms = excluded.expires_ms, times = times + 1,
                heartbeat_ms = excluded.heartbeat_ms, done = 0, total = 0",
            params![number, kind, prover, now, expires],
        )?;
        tx.commit()?;
        drop(conn);
        self.batch(number as u64)
    }

    /// A heartbeat of `prover` for its assignment: the assignment is kept until `now + timeout`
    /// with the progress given, or, with `abandon`, given up (handed out again at once).
    /// `false`: the batch is not this prover's (reassigned after it fell silent, or proved).
    pub fn heartbeat(
        &self,
        beat: &bp_protocol::Heartbeat,
        prover: &str,
        now_ms: u64,
        timeout: Duration,
    ) -> Result<bool, StoreError> {
        let conn = self.conn();
        let expires = if beat.abandon { 0 } else { now_ms.saturating_add(timeout.as_millis() as u64) };
        let updated = conn.execute(
            "UPDATE assignments SET expires_ms = ?4, heartbeat_ms = ?5, done = ?6, total = ?7
             WHERE batch = ?1 AND proof_type = ?2 AND prover = ?3
               AND NOT EXISTS (SELECT 1 FROM proofs p WHERE p.batch = ?1 AND p.proof_type = ?2)",
            params![
                as_i64(beat.batch),
                i64::from(beat.proof_type.index()),
                prover,
                as_i64(expires),
                as_i64(now_ms),
                as_i64(beat.done),
                as_i64(beat.total)
            ],
        )?;
        Ok(updated == 1)
    }

    /// How many times the batch was handed out for `proof_type` (0: never).
    pub fn times_assigned(&self, batch: u64, proof_type: ProofType) -> Result<u64, StoreError> {
        let conn = self.conn();
        let times: Option<i64> = conn
            .query_row(
                "SELECT times FROM assignments WHERE batch = ?1 AND proof_type = ?2",
                params![as_i64(batch), i64::from(proof_type.index())],
                |r| r.get(0),
            )
            .optional()?;
        Ok(times.unwrap_or(0) as u64)
    }

    /// Stores a proof; `false` if one was already stored (it is kept, not replaced).
    pub fn store_proof(&self, proof: &StoredProof) -> Result<bool, StoreError> {
        let conn = self.conn();
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO proofs (batch, proof_type, proof, public_outputs, prover, proving_ms, stored_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                as_i64(proof.batch),
                i64::from(proof.proof_type.index()),
                proof.proof,
                proof.public_outputs,
                proof.prover,
                as_i64(proof.proving_ms),
                as_i64(proof.stored_at_ms),
            ],
        )?;
        Ok(inserted == 1)
    }

    /// Whether a `proof_type` proof of `batch` is stored.
    pub fn has_proof(&self, batch: u64, proof_type: ProofType) -> Result<bool, StoreError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT 1 FROM proofs WHERE batch = ?1 AND proof_type = ?2",
                params![as_i64(batch), i64::from(proof_type.index())],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Every stored proof, by batch then type.
    pub fn proofs(&self) -> Result<Vec<StoredProof>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT batch, proof_type, proof, public_outputs, prover, proving_ms, stored_ms FROM proofs ORDER BY batch, proof_type",
        )?;
        let rows = statement.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, i64>(5)? as u64,
                r.get::<_, i64>(6)? as u64,
            ))
        })?;
        let mut proofs = Vec::new();
        for row in rows {
            let (batch, kind, proof, public_outputs, prover, proving_ms, stored_at_ms) = row?;
            let proof_type = u8::try_from(kind)
                .ok()
                .and_then(ProofType::from_index)
                .ok_or(StoreError::Corrupt { batch, what: "proof type" })?;
            proofs.push(StoredProof { batch, proof_type, proof, public_outputs, prover, proving_ms, stored_at_ms });
        }
        Ok(proofs)
    }

    /// The `proof_type` proof of `batch`, if stored.
    pub fn proof(&self, batch: u64, proof_type: ProofType) -> Result<Option<StoredProof>, StoreError> {
        Ok(self.proofs()?.into_iter().find(|p| p.batch == batch && p.proof_type == proof_type))
    }

    /// The blob opening stored with `batch`, if it has one.
    pub fn blob_opening(&self, batch: u64) -> Result<Option<BlobOpening>, StoreError> {
        let conn = self.conn();
        let bytes: Option<Option<Vec<u8>>> = conn
            .query_row("SELECT blob_opening FROM batches WHERE number = ?1", [as_i64(batch)], |r| r.get(0))
            .optional()?;
        let Some(bytes) = bytes.flatten() else { return Ok(None) };
        if bytes.len() != 96 {
            return Err(StoreError::Corrupt { batch, what: "blob opening" });
        }
        Ok(Some(BlobOpening {
            commitment: bp_input::Bytes48::from_slice(&bytes[..48]),
            proof: bp_input::Bytes48::from_slice(&bytes[48..]),
        }))
    }

    /// Records that `batch` was verified on L1.
    pub fn record_settlement(&self, settlement: &Settlement, now_ms: u64) -> Result<(), StoreError> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR REPLACE INTO settlements (batch, tx_hash, gas_used, settled_ms) VALUES (?1, ?2, ?3, ?4)",
            params![
                as_i64(settlement.batch),
                settlement.tx_hash.as_slice(),
                as_i64(settlement.gas_used),
                as_i64(now_ms)
            ],
        )?;
        Ok(())
    }

    /// Records what the proof sender read of the L1.
    pub fn record_l1_state(&self, state: &L1State) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO l1_state (id, proposer, mode, last_committed, last_verified, updated_ms) \
             VALUES (0, ?1, ?2, ?3, ?4, ?5)",
            params![
                state.proposer.as_slice(),
                state.mode,
                as_i64(state.last_committed),
                as_i64(state.last_verified),
                as_i64(state.updated_ms)
            ],
        )?;
        Ok(())
    }

    /// What the proof sender last read of the L1, if it ever ran.
    pub fn l1_state(&self) -> Result<Option<L1State>, StoreError> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT proposer, mode, last_committed, last_verified, updated_ms FROM l1_state WHERE id = 0",
                [],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)? as u64,
                        r.get::<_, i64>(3)? as u64,
                        r.get::<_, i64>(4)? as u64,
                    ))
                },
            )
            .optional()?;
        let Some((proposer, mode, last_committed, last_verified, updated_ms)) = row else { return Ok(None) };
        let proposer = Address::try_from(proposer.as_slice())
            .map_err(|_| StoreError::Corrupt { batch: last_committed, what: "L1 proposer address" })?;
        Ok(Some(L1State { proposer, mode, last_committed, last_verified, updated_ms }))
    }

    /// Every batch verified on L1, by batch.
    pub fn settlements(&self) -> Result<Vec<Settlement>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT batch, tx_hash, gas_used FROM settlements ORDER BY batch")?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)? as u64)))?;
        let mut out = Vec::new();
        for row in rows {
            let (batch, hash, gas_used) = row?;
            if hash.len() != 32 {
                return Err(StoreError::Corrupt { batch, what: "settlement transaction" });
            }
            out.push(Settlement { batch, tx_hash: B256::from_slice(&hash), gas_used });
        }
        Ok(out)
    }

    /// Moves the proofs of `batch` aside as refused (by the L1 contract, for `reason`) and
    /// forgets its assignments, so that it is proved again.
    pub fn refuse_proofs(&self, batch: u64, reason: &str, now_ms: u64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO refused_proofs (batch, proof_type, proof, prover, reason, refused_ms)
             SELECT batch, proof_type, proof, prover, ?2, ?3 FROM proofs WHERE batch = ?1",
            params![as_i64(batch), reason, as_i64(now_ms)],
        )?;
        tx.execute("DELETE FROM proofs WHERE batch = ?1", [as_i64(batch)])?;
        tx.execute("DELETE FROM assignments WHERE batch = ?1", [as_i64(batch)])?;
        tx.commit()?;
        Ok(())
    }

    /// The proofs of `batch` that L1 refused, oldest first: (proof type, the refusal's reason).
    pub fn refused_proofs(&self, batch: u64) -> Result<Vec<(ProofType, String)>, StoreError> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT proof_type, reason FROM refused_proofs WHERE batch = ?1 ORDER BY refused_ms")?;
        let rows = statement.query_map([as_i64(batch)], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, reason) = row?;
            let proof_type = u8::try_from(kind)
                .ok()
                .and_then(ProofType::from_index)
                .ok_or(StoreError::Corrupt { batch, what: "proof type" })?;
            out.push((proof_type, reason));
        }
        Ok(out)
    }

    /// Every assignment not yet followed by a proof, by batch.
    pub fn open_assignments(&self) -> Result<Vec<OpenAssignment>, StoreError> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT a.batch, a.proof_type, a.prover, a.assigned_ms, a.heartbeat_ms, a.expires_ms, a.done, a.total
             FROM assignments a
             WHERE NOT EXISTS (SELECT 1 FROM proofs p WHERE p.batch = a.batch AND p.proof_type = a.proof_type)
             ORDER BY a.batch, a.proof_type",
        )?;
        let rows = statement.query_map([], |r| {
            let number = |i| r.get::<_, i64>(i).map(|n| n.max(0) as u64);
            Ok((
                number(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                [number(3)?, number(4)?, number(5)?, number(6)?, number(7)?],
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (batch, kind, prover, [assigned_ms, heartbeat_ms, expires_ms, done, total]) = row?;
            let proof_type = u8::try_from(kind)
                .ok()
                .and_then(ProofType::from_index)
                .ok_or(StoreError::Corrupt { batch, what: "proof type" })?;
            out.push(OpenAssignment { batch, proof_type, prover, assigned_ms, heartbeat_ms, expires_ms, done, total });
        }
        Ok(out)
    }

    /// Batch counts for `proof_type` at `now`.
    pub fn counts(&self, proof_type: ProofType, now_ms: u64) -> Result<Counts, StoreError> {
        let conn = self.conn();
        let kind = i64::from(proof_type.index());
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM batches", [], |r| r.get(0))?;
        let proved: i64 = conn.query_row("SELECT COUNT(*) FROM proofs WHERE proof_type = ?1", [kind], |r| r.get(0))?;
        let assigned: i64 = conn.query_row(
            "SELECT COUNT(*) FROM assignments a WHERE a.proof_type = ?1 AND a.expires_ms > ?2
               AND NOT EXISTS (SELECT 1 FROM proofs p WHERE p.batch = a.batch AND p.proof_type = ?1)",
            params![kind, as_i64(now_ms)],
            |r| r.get(0),
        )?;
        Ok(Counts {
            pending: (total - proved - assigned).max(0) as u64,
            assigned: assigned as u64,
            proved: proved as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The assignments table as schema version 3 wrote it.
    const ASSIGNMENTS_3: &str = "
CREATE TABLE batches (number INTEGER PRIMARY KEY);
CREATE TABLE assignments (
    batch INTEGER NOT NULL REFERENCES batches(number),
    proof_type INTEGER NOT NULL,
    prover TEXT NOT NULL,
    assigned_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    times INTEGER NOT NULL,
    PRIMARY KEY (batch, proof_type)
);
INSERT INTO batches (number) VALUES (0);
INSERT INTO assignments VALUES (0, 0, 'old', 10, 20, 1);
PRAGMA user_version = 3;
";

    #[test]
    fn a_version_3_database_gains_the_heartbeat_columns_and_keeps_its_assignments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coordinator.sqlite");
        Connection::open(&path).unwrap().execute_batch(ASSIGNMENTS_3).unwrap();
        let store = Store::open(&path).expect("upgraded");
        let open = store.open_assignments().unwrap();
        let upgraded = OpenAssignment {
            batch: 0,
            proof_type: ProofType::Exec,
            prover: "old".into(),
            assigned_ms: 10,
            heartbeat_ms: 0,
            expires_ms: 20,
            done: 0,
            total: 0,
        };
        assert_eq!(open, vec![upgraded]);
        drop(store);
        assert!(Store::open(&path).is_ok(), "and opens again as version {SCHEMA_VERSION}");
    }

    #[test]
    fn a_database_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coordinator.sqlite");
        Connection::open(&path).unwrap().execute_batch(&ASSIGNMENTS_3.replace("= 3", "= 2")).unwrap();
        let refused = Store::open(&path).unwrap_err();
        assert!(matches!(refused, StoreError::Schema { found: 2, expected: SCHEMA_VERSION, .. }), "{refused}");
    }
}
