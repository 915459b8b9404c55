//! `status` and `proof export`: what a coordinator's database holds, read in place (a running
//! coordinator keeps serving; SQLite's WAL lets both read).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use bp_backend::ProofType;
use bp_coordinator::{now_ms, Store};
use serde_json::json;

use crate::output::{errln, outln};

/// Show every batch of a coordinator: its blocks, its state per proof type and its full
/// public outputs.
#[derive(clap::Args, Debug)]
pub(crate) struct StatusArgs {
    /// The coordinator's data directory (the one holding `coordinator.sqlite`).
    #[arg(long, env = "BLOCKPROVER_DATA_DIR", default_value = "blockprover-data")]
    data_dir: PathBuf,
    /// Print JSON (one document, every output word in full) instead of a table.
    #[arg(long)]
    json: bool,
}

/// Write a stored proof to a file that `blockprover verify` reads.
#[derive(clap::Args, Debug)]
pub(crate) struct ExportArgs {
    /// The coordinator's data directory (the one holding `coordinator.sqlite`).
    #[arg(long, env = "BLOCKPROVER_DATA_DIR", default_value = "blockprover-data")]
    data_dir: PathBuf,
    /// The batch number (`blockprover status` lists them).
    #[arg(long)]
    batch: u64,
    /// Which proof of the batch, if it has several.
    #[arg(long)]
    proof_type: Option<ProofType>,
    /// Where to write the proof.
    #[arg(short, long)]
    output: PathBuf,
}

fn open(data_dir: &Path) -> Result<Store> {
    let db = data_dir.join("coordinator.sqlite");
    if !db.is_file() {
        bail!("no coordinator database at {} (--data-dir, BLOCKPROVER_DATA_DIR)", db.display());
    }
    Ok(Store::open(&db)?)
}

pub(crate) fn status(args: StatusArgs) -> Result<()> {
    let store = open(&args.data_dir)?;
    let batches = store.batches()?;
    let proofs = store.proofs()?;
    let assignments = store.open_assignments()?;
    let l1 = store.l1_state()?;
    let now = now_ms();
    let state_of = |batch: u64| -> Vec<(ProofType, String)> {
        let mut states: Vec<(ProofType, String)> =
            proofs.iter().filter(|p| p.batch == batch).map(|p| (p.proof_type, "proved".to_owned())).collect();
        for a in assignments.iter().filter(|a| a.batch == batch) {
            let state = match a.expires_ms {
                0 => format!("pending (given back by {})", a.prover),
                _ if a.is_held(now) => format!("assigned to {}", a.prover),
                _ => format!("pending ({} fell silent)", a.prover),
            };
            states.push((a.proof_type, state));
        }
        states
    };
    let at_work: Vec<_> = assignments.iter().filter(|a| a.is_held(now)).collect();
    if args.json {
        let rows: Vec<_> = batches
            .iter()
            .map(|b| {
                let states: serde_json::Map<_, _> =
                    state_of(b.number).into_iter().map(|(t, s)| (t.name().to_owned(), s.into())).collect();
                json!({
                    "batch": b.number,
                    "source": b.source,
                    "first_block": b.first_block,
                    "last_block": b.last_block,
                    "gas_used": b.gas_used,
                    "input_bytes": b.input.len(),
                    "proofs": states,
                    "outputs": b.expected,
                })
            })
            .collect();
        let l1 = l1.map(|l1| {
            json!({
                "proposer": l1.proposer,
                "mode": l1.mode,
                "last_committed": l1.last_committed,
                "last_verified": l1.last_verified,
                "updated_ms": l1.updated_ms,
            })
        });
        let provers: Vec<_> = at_work
            .iter()
            .map(|a| {
                json!({
                    "prover": a.prover,
                    "proof_type": a.proof_type.name(),
                    "batch": a.batch,
                    "assigned_ms": a.assigned_ms,
                    "heartbeat_ms": a.heartbeat_ms,
                    "segments_done": a.done,
                    "segments_total": a.total,
                })
            })
            .collect();
        crate::output::json(&json!({ "batches": rows, "provers": provers, "l1": l1 }));
        return Ok(());
    }
    outln!("{:>5}  {:<17}  {:>10}  {:<28}  {:<66}  source", "batch", "blocks", "gas", "proofs", "final state root");
    for b in &batches {
        let states = state_of(b.number);
        let states = if states.is_empty() {
            "pending".to_owned()
        } else {
            states.iter().map(|(t, s)| format!("{t}: {s}")).collect::<Vec<_>>().join(", ")
        };
        outln!(
            "{:>5}  {:<17}  {:>10}  {:<28}  {}  {}",
            b.number,
            format!("{}..={}", b.first_block, b.last_block),
            b.gas_used,
            states,
            b.expected.final_state_root,
            b.source
        );
    }
    for a in &at_work {
        let progress = match a.total {
            0 => String::new(),
            total => format!(", segments {}/{total}", a.done),
        };
        outln!(
            "prover {}: {} batch {} for {} s, last heartbeat {} s ago{progress}",
            a.prover,
            a.proof_type,
            a.batch,
            now.saturating_sub(a.assigned_ms) / 1000,
            now.saturating_sub(a.heartbeat_ms) / 1000
        );
    }
    if let Some(l1) = &l1 {
        outln!(
            "L1: proposer {}, {}; batches committed up to {}, verified up to {} (read {} s ago)",
            l1.proposer,
            l1.mode,
            l1.last_committed,
            l1.last_verified,
            now.saturating_sub(l1.updated_ms) / 1000
        );
    }
    outln!(
        "{} batches, {} proofs ({}; --json for every output word)",
        batches.len(),
        proofs.len(),
        args.data_dir.display()
    );
    Ok(())
}

pub(crate) fn export(args: ExportArgs) -> Result<()> {
    let store = open(&args.data_dir)?;
    let proofs: Vec<_> = store
        .proofs()?
        .into_iter()
        .filter(|p| p.batch == args.batch && args.proof_type.is_none_or(|t| t == p.proof_type))
        .collect();
    let proof = match proofs.as_slice() {
        [] => bail!(
            "batch {} has no stored proof{}",
            args.batch,
            match args.proof_type {
                Some(t) => format!(" of type {t}"),
                None => String::new(),
            }
        ),
        [one] => one,
        several => {
            let types: Vec<_> = several.iter().map(|p| p.proof_type.name()).collect();
            bail!("batch {} has proofs of types {}: choose one with --proof-type", args.batch, types.join(", "))
        }
    };
    crate::inputs::write_atomically(&args.output, &proof.proof)?;
    // An exec "proof" carries outputs only: it is checked by re-executing the batch's input.
    let check = match proof.proof_type {
        bp_backend::ProofType::Exec => format!(
            "check it with `blockprover verify {} --input BATCH_INPUT` (an exec proof is checked by re-executing \
             its batch)",
            args.output.display()
        ),
        _ => format!("check it with `blockprover verify {}`", args.output.display()),
    };
    errln!(
        "batch {}: {} proof by {} ({} bytes) written to {}; {check}",
        args.batch,
        proof.proof_type,
        proof.prover,
        proof.proof.len(),
        args.output.display(),
    );
    Ok(())
}
