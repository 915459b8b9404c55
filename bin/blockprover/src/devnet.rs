//! `blockprover devnet`: the whole system on one machine — an L2 block builder producing real
//! batches, a coordinator on 127.0.0.1 and several prover clients — with progress while it
//! runs and a table of the proved batches at the end.

use crate::output::outln;
use std::{
    io::Read,
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use bp_backend::ProofType;
use bp_coordinator::{now_ms, ConnectionLimits, CoordinatorConfig, Store};
use bp_devnet::{Builder, DevnetSource, SealedBatch};
use bp_program::ProgramOutput;
use bp_protocol::{AuthKey, FrameLimits};
use bp_prover::{Prover, ProverConfig};

use crate::service::{runtime, shutdown_signal};

/// Run a local L2 devnet end to end: build batches, prove them, check every proof.
#[derive(clap::Args, Debug)]
pub(crate) struct DevnetArgs {
    /// Batches to have proved in the data dir; a later run with a larger number continues,
    /// one with the same number finishes what an interrupted run left.
    #[arg(long, default_value_t = 3)]
    batches: usize,
    /// Blocks per batch (a batch whose state diff would not fit one blob is refused).
    #[arg(long, default_value_t = 4)]
    blocks_per_batch: u64,
    /// Prover clients to run.
    #[arg(long, default_value_t = 2)]
    provers: usize,
    /// Proof backend the provers use (`exec`: native execution, no zero-knowledge proof).
    #[arg(long, env = "BLOCKPROVER_BACKEND", default_value = "exec")]
    backend: ProofType,
    /// Where the builder's blocks, the coordinator's database and the provers' kept proofs live.
    #[arg(long, env = "BLOCKPROVER_DATA_DIR", default_value = "blockprover-devnet")]
    data_dir: PathBuf,
    /// Address the devnet's coordinator listens on.
    #[arg(long, default_value = "127.0.0.1")]
    listen_ip: IpAddr,
    /// Port the devnet's coordinator listens on (0: any free port).
    #[arg(long, default_value_t = 0)]
    listen_port: u16,
    /// Print the summary as JSON (every output word in full) instead of a table.
    #[arg(long)]
    json: bool,
}

/// A batch's line in the summary: the builder's batch, and its proof's outputs and proving
/// time if it has one.
struct Row<'a> {
    sealed: &'a SealedBatch,
    proved: Option<(ProgramOutput, u64)>,
}

pub(crate) fn run(args: DevnetArgs) -> Result<()> {
    if args.batches == 0 || args.blocks_per_batch == 0 || args.provers == 0 {
        bail!("--batches, --blocks-per-batch and --provers must be at least 1");
    }
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let backend: Arc<dyn bp_backend::Backend> = bp_backend::backend(args.backend)?.into();
    let builder = Builder::open(&args.data_dir.join("l2.sqlite")).context("opening the L2 builder")?;
    let existing = builder.sealed().len();
    let target = args.batches.max(existing);
    if let Some(last) = builder.sealed().last() {
        let stored = last.last_block - last.first_block + 1;
        if stored != args.blocks_per_batch && target > existing {
            eprintln!(
                "devnet: the stored chain's last batch has {stored} block(s); new batches will have {} \
                 (--blocks-per-batch)",
                args.blocks_per_batch
            );
        }
    }
    eprintln!(
        "devnet: chain {} in {}; {existing} batch(es) already built, building up to {target} of {} block(s); {} {} prover(s)",
        builder.chain().chain_id,
        args.data_dir.display(),
        args.blocks_per_batch,
        args.provers,
        args.backend,
    );
    let builder = Arc::new(Mutex::new(builder));
    let key = AuthKey::new(random_secret()?);
    let limits = FrameLimits::default();
    let db = args.data_dir.join("coordinator.sqlite");
    let config = CoordinatorConfig {
        listen: SocketAddr::new(args.listen_ip, args.listen_port),
        metrics_listen: None,
        db: db.clone(),
        key: key.clone(),
        limits,
        required: vec![args.backend],
        assignment_timeout: Duration::from_secs(120),
        connections: ConnectionLimits::default(),
        source_poll: Duration::from_millis(50),
    };
    let started = Instant::now();
    let interrupted = runtime()?.block_on(async {
        let source = DevnetSource::new(builder.clone(), target, args.blocks_per_batch);
        let running = bp_coordinator::start(config, vec![Box::new(source)]).await?;
        let stop = tokio_util::sync::CancellationToken::new();
        let mut provers = tokio::task::JoinSet::new();
        for i in 0..args.provers {
            let config = ProverConfig {
                endpoints: vec![running.addr.to_string()],
                poll_interval: Duration::from_millis(100),
                name: format!("devnet-prover-{i}"),
                data_dir: args.data_dir.join("provers").join(i.to_string()),
                key: key.clone(),
                limits,
                reply_timeout: Duration::from_secs(120),
                submit_attempts: 5,
                submit_backoff: Duration::from_millis(200),
                max_batches: None,
                max_refusals: 3,
                idle_report: Duration::from_secs(60),
            };
            let prover = Prover::new(config, backend.clone())?;
            provers.spawn(prover.run(stop.clone()));
        }
        let store = running.coordinator().store();
        let mut last = String::new();
        let mut shutdown = std::pin::pin!(shutdown_signal());
        let interrupted = loop {
            tokio::select! {
                _ = &mut shutdown => break true,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            let built = builder.lock().unwrap_or_else(|p| p.into_inner()).sealed().len();
            let counts = store.counts(args.backend, now_ms())?;
            let line = format!(
                "devnet: built {built}/{target} batches, {} assigned, {}/{target} proved",
                counts.assigned, counts.proved
            );
            if line != last {
                eprintln!("{line} ({:.1} s)", started.elapsed().as_secs_f64());
                last = line;
            }
            if built >= target && counts.proved >= target as u64 {
                break false;
            }
        };
        if interrupted {
            eprintln!("devnet: interrupted; stopping provers (unsubmitted proofs stay in their data dirs)");
        }
        stop.cancel();
        while provers.join_next().await.is_some() {}
        running.shutdown().await;
        anyhow::Ok(interrupted)
    })?;

    let builder = builder.lock().unwrap_or_else(|p| p.into_inner());
    let rows = summary_rows(&builder, &Store::open(&db)?, args.backend)?;
    let proved = rows.iter().filter(|r| r.proved.is_some()).count();
    let mismatched = rows.iter().filter(|r| r.proved.as_ref().is_some_and(|(o, _)| *o != r.sealed.expected)).count();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        print_json(&rows, args.backend, seconds);
    } else {
        print_summary(&rows);
        outln!(
            "{proved} of {} batches proved with {}, {mismatched} mismatching the builder's outputs; {seconds:.1} s",
            rows.len(),
            args.backend,
        );
    }
    if mismatched > 0 {
        bail!("{mismatched} proof(s) disagree with the builder");
    }
    if interrupted && proved < target {
        bail!("interrupted with {proved} of {target} batches proved; run the same command again to resume");
    }
    Ok(())
}

/// The summary as one JSON document: every batch with its counts and full outputs.
fn print_json(rows: &[Row<'_>], backend: ProofType, seconds: f64) {
    let batches: Vec<_> = rows
        .iter()
        .map(|r| {
            let s = r.sealed;
            serde_json::json!({
                "batch": s.index,
                "first_block": s.first_block,
                "last_block": s.last_block,
                "transactions": s.transactions,
                "deposits": s.deposits,
                "withdrawals": s.withdrawals,
                "gas_used": s.gas_used,
                "state_diff_bytes": s.state_diff_bytes,
                "outputs": s.expected,
                "proved": r.proved.is_some(),
                "proving_ms": r.proved.map(|(_, ms)| ms),
                "check": match &r.proved {
                    Some((output, _)) if *output == s.expected => "ok",
                    Some(_) => "mismatch",
                    None => "not proved",
                },
            })
        })
        .collect();
    crate::output::json(&serde_json::json!({ "backend": backend.name(), "seconds": seconds, "batches": batches }));
}

fn summary_rows<'a>(builder: &'a Builder, store: &Store, proof_type: ProofType) -> Result<Vec<Row<'a>>> {
    let numbers: std::collections::HashMap<String, u64> =
        store.batches()?.into_iter().map(|b| (b.source, b.number)).collect();
    let proofs: std::collections::HashMap<u64, (Vec<u8>, u64)> = store
        .proofs()?
        .into_iter()
        .filter(|p| p.proof_type == proof_type)
        .map(|p| (p.batch, (p.public_outputs, p.proving_ms)))
        .collect();
    builder
        .sealed()
        .iter()
        .map(|s| {
            let number = numbers.get(&bp_devnet::source_name(s.first_block, s.last_block));
            let proved = match number.and_then(|n| proofs.get(n)) {
                Some((bytes, ms)) => Some((
                    ProgramOutput::from_public_bytes(bytes).context("a stored proof's public outputs are malformed")?,
                    *ms,
                )),
                None => None,
            };
            Ok(Row { sealed: s, proved })
        })
        .collect()
}

fn short(hash: &alloy_primitives::B256) -> String {
    let hex = hash.to_string();
    format!("{}…{}", &hex[..10], &hex[hex.len() - 4..])
}

fn print_summary(rows: &[Row<'_>]) {
    outln!(
        "{:>5} {:>9} {:>4} {:>4} {:>4} {:>9} {:>6} {:>8}  {:<16} {:<16} {:<16} {:<16}  check",
        "batch",
        "blocks",
        "txs",
        "dep",
        "wd",
        "gas",
        "diff B",
        "prove ms",
        "final root",
        "withdrawals",
        "deposits",
        "state diff",
    );
    for r in rows {
        let s = r.sealed;
        let (check, ms) = match &r.proved {
            Some((output, ms)) if *output == s.expected => ("ok", ms.to_string()),
            Some((_, ms)) => ("MISMATCH", ms.to_string()),
            None => ("not proved", "-".into()),
        };
        let e = &s.expected;
        let l2 = e.l2.unwrap_or_default();
        outln!(
            "{:>5} {:>9} {:>4} {:>4} {:>4} {:>9} {:>6} {:>8}  {:<16} {:<16} {:<16} {:<16}  {check}",
            s.index,
            format!("{}..={}", s.first_block, s.last_block),
            s.transactions,
            s.deposits,
            s.withdrawals,
            s.gas_used,
            s.state_diff_bytes,
            ms,
            short(&e.final_state_root),
            short(&l2.withdrawals_root),
            short(&l2.deposits_hash),
            short(&l2.state_diff_hash),
        );
    }
}

/// The coordinator and provers share a fresh secret each run (they live in this process).
fn random_secret() -> Result<Vec<u8>> {
    let mut secret = vec![0u8; 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut secret)).context("reading /dev/urandom")?;
    Ok(secret)
}
