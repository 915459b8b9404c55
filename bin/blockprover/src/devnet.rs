//! `blockprover devnet`: the whole system on one machine — an L2 block builder producing real
//! batches, a coordinator on 127.0.0.1 and several prover clients — with progress while it
//! runs and a table of the proved batches at the end.

use crate::output::{errln, outln};
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
use bp_node::L1Target;
use bp_program::ProgramOutput;
use bp_protocol::{AuthKey, FrameLimits};
use bp_prover::{Prover, ProverConfig};

use crate::{
    devnet_l1::{DevnetL1, L1Args, L1Report},
    service::{runtime, shutdown_signal},
};

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
    #[command(flatten)]
    l1: L1Args,
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
    // The true time of a resumed run includes replaying the stored chain (tens of seconds for
    // hundreds of batches), which is why it reports its progress.
    let started = Instant::now();
    let builder = Builder::open_reporting(&args.data_dir.join("l2.sqlite"), |replay| match replay.done {
        false => errln!(
            "devnet: replaying the stored chain: {}/{} batches, {} s",
            replay.batches,
            replay.of,
            replay.elapsed.as_secs()
        ),
        true => errln!("devnet: replayed the stored {} batch(es) in {:.1} s", replay.of, replay.elapsed.as_secs_f64()),
    })
    .context("opening the L2 builder")?;
    let existing = builder.sealed().len();
    let target = args.batches.max(existing);
    if let Some(last) = builder.sealed().last() {
        let stored = last.last_block - last.first_block + 1;
        if stored != args.blocks_per_batch && target > existing {
            errln!(
                "devnet: the stored chain's last batch has {stored} block(s); new batches will have {} \
                 (--blocks-per-batch)",
                args.blocks_per_batch
            );
        }
    }
    errln!(
        "devnet: chain {} in {}; {existing} batch(es) already built, building up to {target} of {} block(s); {} {} prover(s)",
        builder.chain().chain_id,
        args.data_dir.display(),
        args.blocks_per_batch,
        args.provers,
        args.backend,
    );
    crate::service::warn_if_provers_exceed_memory("devnet", args.provers, args.backend);
    let builder = Arc::new(Mutex::new(builder));
    let key = AuthKey::new(random_secret()?);
    let limits = FrameLimits::default();
    let db = args.data_dir.join("coordinator.sqlite");
    let runtime = runtime()?;
    let mut l1 = match &args.l1.l1 {
        Some(_) => {
            let builder = builder.lock().unwrap_or_else(|p| p.into_inner());
            Some(runtime.block_on(DevnetL1::start(&args.l1, &builder, &args.data_dir))?)
        }
        None => None,
    };
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
        settlement: l1.as_ref().map(DevnetL1::settlement),
    };
    let ran = runtime.block_on(async {
        let stop = tokio_util::sync::CancellationToken::new();
        // With an L1 the deposits come from L1 transactions, so the L1 side builds and commits
        // the batches and the coordinator's source only hands them over.
        let (source, mut driver) = match l1.take() {
            Some(mut l1) => {
                let (building, stop, blocks) = (builder.clone(), stop.clone(), args.blocks_per_batch);
                let driver =
                    tokio::spawn(
                        async move { l1.build_and_commit(&building, target, blocks, &stop).await.map(|()| l1) },
                    );
                (DevnetSource::hand_over(builder.clone()), Some(driver))
            }
            None => (DevnetSource::new(builder.clone(), target, args.blocks_per_batch), None),
        };
        let running = bp_coordinator::start(config, vec![Box::new(source)]).await?;
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
        let mut l1 = None;
        let mut failed = None;
        let mut interrupted = loop {
            tokio::select! {
                _ = &mut shutdown => break true,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            if let Some(handle) = driver.take_if(|h| h.is_finished()) {
                match handle.await {
                    Ok(Ok(done)) => l1 = Some(done),
                    Ok(Err(e)) => failed = Some(e),
                    Err(e) => failed = Some(anyhow::anyhow!("the L1 driver stopped: {e}")),
                }
                if failed.is_some() {
                    break false;
                }
            }
            let built = builder.lock().unwrap_or_else(|p| p.into_inner()).sealed().len();
            let counts = store.counts(args.backend, now_ms())?;
            let line = format!(
                "devnet: built {built}/{target} batches, {} assigned, {}/{target} proved",
                counts.assigned, counts.proved
            );
            if line != last {
                errln!("{line} ({:.1} s)", started.elapsed().as_secs_f64());
                last = line;
            }
            if built >= target && counts.proved >= target as u64 && driver.is_none() {
                break false;
            }
        };
        let mut report = None;
        if let Some(l1) = l1.as_mut().filter(|_| !interrupted && failed.is_none()) {
            errln!("devnet: waiting for L1 to verify {target} batches");
            tokio::select! {
                verified = l1.wait_verified(target as u64) => {
                    if let Err(e) = verified { failed = Some(e) }
                }
                _ = &mut shutdown => interrupted = true,
            }
            if failed.is_none() && !interrupted {
                let sealed = builder.lock().unwrap_or_else(|p| p.into_inner()).sealed().to_vec();
                if let Err(e) = l1.claim_all(&sealed).await {
                    failed = Some(e);
                }
            }
            report = Some(l1.report().clone());
        }
        if interrupted {
            errln!(
                "devnet: interrupted; stopping provers (proofs under way are abandoned, their batches given back; \
                 unsubmitted proofs stay in their data dirs)"
            );
        }
        stop.cancel();
        while provers.join_next().await.is_some() {}
        if let Some(handle) = driver {
            handle.abort();
        }
        running.shutdown().await;
        if let Some(e) = failed {
            return Err(e.context("settling on L1"));
        }
        anyhow::Ok((interrupted, report))
    });
    crate::service::leave(runtime);
    let (interrupted, l1_report) = ran?;

    let builder = builder.lock().unwrap_or_else(|p| p.into_inner());
    let rows = summary_rows(&builder, &Store::open(&db)?, args.backend)?;
    let proved = rows.iter().filter(|r| r.proved.is_some()).count();
    let mismatched = rows.iter().filter(|r| r.proved.as_ref().is_some_and(|(o, _)| *o != r.sealed.expected)).count();
    let seconds = started.elapsed().as_secs_f64();
    let settled = Store::open(&db)?.settlements()?;
    if args.json {
        print_json(&rows, args.backend, seconds, l1_report.as_ref(), &settled);
    } else {
        print_summary(&rows);
        if let Some(report) = &l1_report {
            print_l1(report, &settled);
        }
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
        let resume = match args.l1.l1.as_deref().map(L1Target::parse) {
            Some(L1Target::Anvil) => {
                "the embedded anvil stopped with the devnet and its L1 state is gone: this data dir cannot resume"
            }
            _ => "run the same command again to resume",
        };
        bail!("interrupted with {proved} of {target} batches proved; {resume}");
    }
    Ok(())
}

/// The summary as one JSON document: every batch with its counts and full outputs.
fn print_json(
    rows: &[Row<'_>],
    backend: ProofType,
    seconds: f64,
    l1: Option<&L1Report>,
    settled: &[bp_coordinator::Settlement],
) {
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
    let l1 = l1.map(|r| {
        serde_json::json!({
            "report": r,
            "verify_gas": settled.iter().map(|s| (s.batch + 1, s.gas_used)).collect::<Vec<_>>(),
        })
    });
    crate::output::json(
        &serde_json::json!({ "backend": backend.name(), "seconds": seconds, "batches": batches, "l1": l1 }),
    );
}

/// The L1 side in a few lines: what each kind of transaction cost, and what was paid out.
fn print_l1(report: &L1Report, settled: &[bp_coordinator::Settlement]) {
    let mean = |gas: &[u64]| if gas.is_empty() { 0 } else { gas.iter().sum::<u64>() / gas.len() as u64 };
    let commits: Vec<u64> = report.commit_gas.iter().map(|(_, g)| *g).collect();
    let verifies: Vec<u64> = settled.iter().map(|s| s.gas_used).collect();
    outln!("L1: bridge {} proposer {}, {}", report.bridge, report.proposer, report.mode);
    outln!(
        "L1: {} batches committed (mean {} gas), {} verified (mean {} gas), {} deposits (mean {} gas)",
        commits.len(),
        mean(&commits),
        report.verified,
        mean(&verifies),
        report.deposit_gas.len(),
        mean(&report.deposit_gas),
    );
    outln!(
        "L1: {} withdrawals claimed (mean {} gas), {} wei paid to their receivers",
        report.claimed,
        mean(&report.claim_gas),
        report.paid
    );
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
