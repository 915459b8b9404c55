//! `blockprover`: the command-line edge of the system.

use std::{
    path::PathBuf,
    sync::{mpsc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use bp_conformance::{for_each_file, run_fixture, stateless_inputs, Outcome, Report, TestResult};
use bp_input::ProgramInput;
use bp_program::{Phase, Probe};
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
    /// Measure stateless throughput on the heaviest blocks of blockchain-test suites.
    ///
    /// Records each valid block's witness as the conformance runner does, keeps the `--top`
    /// blocks by gas used, then runs the stateless program on each and reports Mgas/s split into
    /// witness verification, execution and state-root update. A measurement, not a test.
    Bench {
        /// How many of the heaviest blocks to measure.
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Ignore blocks using more gas than this: ported legacy tests set absurd gas limits
        /// (up to 2^44) that measure nothing about real blocks.
        #[arg(long, default_value_t = 60_000_000)]
        max_gas: u64,
        /// Runs per block; the fastest is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
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
        Command::Bench { top, max_gas, runs, paths } => bench(top.max(1), max_gas, runs.max(1), paths),
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

    eprintln!("finished in {:.1?}", started.elapsed());
    if list_failures {
        for (id, reason) in &report.failures {
            println!("FAIL {id}: {reason}");
        }
    }
    print!("{}", report.render());
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

/// Times the phases of one program run.
struct PhaseTimer {
    current: Option<(Phase, Instant)>,
    totals: [Duration; 3],
}

impl PhaseTimer {
    fn new() -> Self {
        Self { current: None, totals: [Duration::ZERO; 3] }
    }

    fn stop(&mut self) {
        if let Some((phase, since)) = self.current.take() {
            self.totals[phase as usize] += since.elapsed();
        }
    }
}

impl Probe for PhaseTimer {
    fn enter(&mut self, phase: Phase) {
        self.stop();
        self.current = Some((phase, Instant::now()));
    }
}

fn bench(top: usize, max_gas: u64, runs: usize, paths: Vec<PathBuf>) -> Result<()> {
    let mut heaviest: Vec<(u64, String, ProgramInput)> = Vec::new();
    for path in &paths {
        for_each_file(path, &mut |name, text| {
            let Ok(tests) = serde_json::from_str::<serde_json::Value>(&text) else { return };
            let Some(tests) = tests.as_object() else { return };
            for (id, fixture) in tests {
                let Ok(inputs) = stateless_inputs(fixture) else { continue };
                for input in inputs {
                    let gas = input.blocks[0].header.gas_used;
                    if gas > max_gas {
                        continue;
                    }
                    if heaviest.len() < top || gas > heaviest.last().map_or(0, |h| h.0) {
                        let short = id.rsplit("::").next().unwrap_or(id).to_owned();
                        heaviest.push((gas, format!("{name}::{short}"), input));
                        heaviest.sort_by(|a, b| b.0.cmp(&a.0));
                        heaviest.truncate(top);
                    }
                }
            }
        })?;
    }
    println!("{:>10} {:>10} {:>9} {:>9} {:>9} {:>8}  test", "gas", "witness B", "verify ms", "exec ms", "root ms", "Mgas/s");
    let (mut total_gas, mut total_time) = (0u64, Duration::ZERO);
    for (gas, id, input) in &heaviest {
        let mut best: Option<PhaseTimer> = None;
        for _ in 0..runs {
            let mut timer = PhaseTimer::new();
            bp_program::execute_input_with_probe(input, &mut timer).with_context(|| format!("{id} failed"))?;
            timer.stop();
            let sum = |t: &PhaseTimer| t.totals.iter().sum::<Duration>();
            if best.as_ref().is_none_or(|b| sum(&timer) < sum(b)) {
                best = Some(timer);
            }
        }
        let t = best.expect("runs >= 1").totals;
        let elapsed: Duration = t.iter().sum();
        total_gas += gas;
        total_time += elapsed;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mgas = *gas as f64 / elapsed.as_secs_f64() / 1e6;
        let label: String = id.chars().rev().take(90).collect::<Vec<_>>().into_iter().rev().collect();
        println!(
            "{gas:>10} {:>10} {:>9.2} {:>9.2} {:>9.2} {mgas:>8.1}  {label}",
            input.witness.byte_size(),
            ms(t[0]),
            ms(t[1]),
            ms(t[2])
        );
    }
    println!(
        "total: {} blocks, {total_gas} gas in {:.1} ms: {:.1} Mgas/s",
        heaviest.len(),
        total_time.as_secs_f64() * 1e3,
        total_gas as f64 / total_time.as_secs_f64() / 1e6
    );
    Ok(())
}
