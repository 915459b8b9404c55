//! `blockprover`: the command-line edge of the system.

use std::{
    path::PathBuf,
    sync::{mpsc, Mutex},
    time::Instant,
};

use anyhow::{bail, Context, Result};
use bp_conformance::{for_each_file, run_fixture, Outcome, Report, TestResult};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "blockprover", version, about = "Proves Ethereum block execution statelessly")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run blockchain tests (EEST or ethereum/tests) statelessly through the program.
    ///
    /// For every block the witness is recorded from the test's full pre-state, then the program
    /// runs on the block, its parent header and that witness alone, and must reproduce the
    /// block's state root and hash, or reject the block when the test expects an exception.
    /// Prints a per-fork table and a final `N passed, M failed, K skipped` line; exits non-zero
    /// if any test failed.
    Conformance {
        /// Only run fixtures whose `network` equals this (e.g. Prague, CancunToPragueAtTime15k).
        #[arg(long)]
        fork: Option<String>,
        /// Print every failing test id with its reason.
        #[arg(long)]
        list_failures: bool,
        /// Worker threads (default: available cores).
        #[arg(long, env = "BLOCKPROVER_JOBS")]
        jobs: Option<usize>,
        /// Run only every Nth test file (a deterministic sample); 1 runs everything.
        #[arg(long, default_value_t = 1)]
        sample: usize,
        /// JSON files, directories or .tar.zst archives of blockchain tests.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Execute a program input (JSON) natively and print its public outputs as JSON.
    Execute {
        /// A serialized program input.
        input: PathBuf,
    },
}

fn main() {
    if let Err(error) = run() {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Conformance { fork, list_failures, jobs, sample, paths } => {
            conformance(fork, list_failures, jobs, sample.max(1), paths)
        }
        Command::Execute { input } => {
            let text = std::fs::read_to_string(&input).with_context(|| format!("reading {}", input.display()))?;
            let input: bp_input::ProgramInput =
                serde_json::from_str(&text).with_context(|| format!("parsing {}", input.display()))?;
            let started = Instant::now();
            let output = bp_program::execute_input(&input).context("the program rejected the input")?;
            let mut json = serde_json::to_value(output)?;
            json["witness_bytes"] = input.witness.byte_size().into();
            json["elapsed_ms"] = (started.elapsed().as_secs_f64() * 1e3).into();
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(())
        }
    }
}

fn conformance(fork: Option<String>, list_failures: bool, jobs: Option<usize>, sample: usize, paths: Vec<PathBuf>) -> Result<()> {
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let (file_tx, file_rx) = mpsc::sync_channel::<(String, String)>(jobs * 4);
    let file_rx = Mutex::new(file_rx);
    let (result_tx, result_rx) = mpsc::channel::<TestResult>();
    let started = Instant::now();

    let report = std::thread::scope(|scope| -> Result<Report> {
        for _ in 0..jobs {
            let file_rx = &file_rx;
            let result_tx = result_tx.clone();
            let fork = fork.clone();
            scope.spawn(move || loop {
                let next = file_rx.lock().expect("no worker panics while holding the lock").recv();
                let Ok((name, text)) = next else { break };
                for result in run_file(&name, &text, fork.as_deref()) {
                    let _ = result_tx.send(result);
                }
            });
        }
        drop(result_tx);
        let collector = scope.spawn(move || {
            let mut report = Report::default();
            let mut seen = 0usize;
            for result in result_rx {
                report.add(result);
                seen += 1;
                if seen % 2000 == 0 {
                    let (p, f, s) = report.totals();
                    eprintln!("… {seen} tests ({p} passed, {f} failed, {s} skipped), {:.0?}", started.elapsed());
                }
            }
            report
        });
        let mut index = 0usize;
        for path in &paths {
            for_each_file(path, &mut |name, text| {
                if index % sample == 0 {
                    let _ = file_tx.send((name, text));
                }
                index += 1;
            })?;
        }
        drop(file_tx);
        Ok(collector.join().expect("collector does not panic"))
    })?;

    print!("{}", report.render());
    if list_failures {
        for (id, reason) in &report.failures {
            println!("FAIL {id}: {reason}");
        }
    }
    eprintln!("finished in {:.1?}", started.elapsed());
    let (_, failed, _) = report.totals();
    if failed > 0 {
        bail!("{failed} conformance tests failed");
    }
    Ok(())
}

fn run_file(name: &str, text: &str, fork: Option<&str>) -> Vec<TestResult> {
    let parsed: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![TestResult { id: name.into(), network: "?".into(), outcome: Outcome::Failed(format!("not JSON: {e}")) }]
        }
    };
    let Some(tests) = parsed.as_object() else {
        return vec![TestResult { id: name.into(), network: "?".into(), outcome: Outcome::Failed("not a JSON object".into()) }];
    };
    tests
        .iter()
        .filter_map(|(id, fixture)| {
            let network = fixture.get("network").and_then(|n| n.as_str()).unwrap_or("?").to_owned();
            if fork.is_some_and(|f| f != network) {
                return None;
            }
            let outcome = std::panic::catch_unwind(|| run_fixture(fixture))
                .unwrap_or_else(|_| Outcome::Failed("panicked".into()));
            Some(TestResult { id: format!("{name}::{id}"), network, outcome })
        })
        .collect()
}
