//! `blockprover bench`: native throughput of the program, phase by phase.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context, Result};
use bp_conformance::{for_each_file, stateless_inputs};
use bp_input::ProgramInput;
use bp_program::{Phase, Probe};

/// Times the phases of one program run.
struct PhaseTimer {
    current: Option<(Phase, Instant)>,
    totals: [Duration; 4],
}

impl PhaseTimer {
    fn new() -> Self {
        Self { current: None, totals: [Duration::ZERO; 4] }
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

/// Blocks to measure: every program input given, plus the heaviest blocks of the test suites.
#[derive(Default)]
struct Selection {
    inputs: Vec<(String, ProgramInput)>,
    heaviest: Vec<(u64, String, ProgramInput)>,
}

impl Selection {
    fn add_suite_file(&mut self, name: &str, tests: &serde_json::Value, top: usize, max_gas: u64) {
        let Some(tests) = tests.as_object() else { return };
        for (id, fixture) in tests {
            let Ok(inputs) = stateless_inputs(fixture) else { continue };
            for input in inputs {
                let gas = input.blocks[0].header.gas_used;
                if gas > max_gas {
                    continue;
                }
                if self.heaviest.len() < top || gas > self.heaviest.last().map_or(0, |h| h.0) {
                    let short = id.rsplit("::").next().unwrap_or(id).to_owned();
                    self.heaviest.push((gas, format!("{name}::{short}"), input));
                    self.heaviest.sort_by_key(|h| std::cmp::Reverse(h.0));
                    self.heaviest.truncate(top);
                }
            }
        }
    }

    /// A parsed JSON file: a program input if it is one, else a test suite.
    fn add_json(&mut self, name: String, json: &serde_json::Value, top: usize, max_gas: u64) -> Result<()> {
        if bp_formats::detect(json).is_none() {
            self.add_suite_file(&name, json, top, max_gas);
            return Ok(());
        }
        let loaded = bp_formats::parse_json(json, None).with_context(|| format!("reading {name}"))?;
        self.inputs.push((name, loaded.input));
        Ok(())
    }

    fn add_file(&mut self, path: &Path, top: usize, max_gas: u64, max_bytes: u64) -> Result<()> {
        let is_archive = path.is_dir() || path.to_string_lossy().ends_with(".tar.zst");
        if is_archive {
            let mut failure = None;
            for_each_file(path, &mut |name, text| {
                let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else { return };
                if let Err(e) = self.add_json(name, &json, top, max_gas) {
                    failure.get_or_insert(e);
                }
            })?;
            return failure.map_or(Ok(()), Err);
        }
        let bytes = bp_formats::read_bytes(path, max_bytes).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display().to_string();
        if bytes.starts_with(bp_input::BINARY_MAGIC) {
            let loaded = bp_formats::parse(&bytes, None).with_context(|| format!("reading {name}"))?;
            self.inputs.push((name, loaded.input));
            return Ok(());
        }
        let json: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| format!("parsing {name}"))?;
        self.add_json(name, &json, top, max_gas)
    }
}

pub(crate) fn run(top: usize, max_gas: u64, runs: usize, paths: Vec<PathBuf>, max_bytes: u64) -> Result<()> {
    let mut selection = Selection::default();
    for path in &paths {
        selection.add_file(path, top, max_gas, max_bytes)?;
    }
    let blocks: Vec<(String, ProgramInput)> = selection
        .inputs
        .into_iter()
        .chain(selection.heaviest.into_iter().map(|(_, name, input)| (name, input)))
        .collect();
    println!(
        "{:>10} {:>4} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8}  block",
        "gas", "txs", "witness B", "input B", "decode ms", "verify ms", "exec ms", "root ms", "Mgas/s"
    );
    let (mut total_gas, mut total_time) = (0u64, Duration::ZERO);
    for (name, input) in &blocks {
        let gas: u64 = input.blocks.iter().map(|b| b.header.gas_used).sum();
        let txs: usize = input.blocks.iter().map(|b| b.body.transactions.len()).sum();
        let binary = input.to_binary();
        let mut best: Option<(Duration, [Duration; 4])> = None;
        for _ in 0..runs {
            let started = Instant::now();
            let decoded = ProgramInput::from_binary(&binary).context("binary round trip")?;
            let decode = started.elapsed();
            let mut timer = PhaseTimer::new();
            bp_program::execute_input_with_probe(&decoded, &mut timer).with_context(|| format!("{name} failed"))?;
            timer.stop();
            let total = |(d, t): &(Duration, [Duration; 4])| *d + t.iter().sum::<Duration>();
            let run = (decode, timer.totals);
            if best.as_ref().is_none_or(|b| total(&run) < total(b)) {
                best = Some(run);
            }
        }
        let (decode, t) = best.expect("runs >= 1");
        let elapsed = decode + t.iter().sum::<Duration>();
        total_gas += gas;
        total_time += elapsed;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mgas = gas as f64 / elapsed.as_secs_f64() / 1e6;
        let label: String = name.chars().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
        println!(
            "{gas:>10} {txs:>4} {:>10} {:>10} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {mgas:>8.1}  {label}",
            input.witness.byte_size(),
            binary.len(),
            ms(decode),
            ms(t[0]),
            ms(t[1]),
            ms(t[2])
        );
    }
    println!(
        "total: {} blocks, {total_gas} gas in {:.1} ms: {:.1} Mgas/s",
        blocks.len(),
        total_time.as_secs_f64() * 1e3,
        total_gas as f64 / total_time.as_secs_f64().max(1e-9) / 1e6
    );
    Ok(())
}
