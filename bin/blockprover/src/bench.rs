//! `blockprover bench`: native throughput of the program, phase by phase.

use crate::output::outln;
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

/// The last component of a path (or archive entry name): what tells blocks apart in the table.
fn file_name(name: &str) -> String {
    Path::new(name).file_name().map_or_else(|| name.to_owned(), |f| f.to_string_lossy().into_owned())
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
                    let short = id.rsplit("::").next().unwrap_or(id);
                    self.heaviest.push((gas, format!("{}::{short}", file_name(name)), input));
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
        self.inputs.push((file_name(&name), loaded.input));
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
            self.inputs.push((file_name(&name), loaded.input));
            return Ok(());
        }
        let json: serde_json::Value = serde_json::from_slice(&bytes).with_context(|| format!("parsing {name}"))?;
        self.add_json(name, &json, top, max_gas)
    }
}

/// One measured block (or batch).
struct Measured {
    label: String,
    gas: u64,
    txs: usize,
    witness_bytes: usize,
    input_bytes: usize,
    /// Decode, witness verification, execution, state root.
    phases: [Duration; 4],
}

impl Measured {
    fn elapsed(&self) -> Duration {
        self.phases.iter().sum()
    }

    fn mgas_per_s(&self) -> f64 {
        self.gas as f64 / self.elapsed().as_secs_f64().max(1e-9) / 1e6
    }
}

/// A block whose gas went more than this many times faster than the median burnt gas without
/// work (a transaction that runs out of gas at once); it is marked and left out of the total.
const OUTLIER_FACTOR: f64 = 10.0;

pub(crate) fn run(
    top: usize,
    max_gas: u64,
    runs: usize,
    paths: Vec<PathBuf>,
    max_bytes: u64,
    json: bool,
) -> Result<()> {
    let mut selection = Selection::default();
    for path in &paths {
        selection.add_file(path, top, max_gas, max_bytes)?;
    }
    let blocks: Vec<(String, ProgramInput)> = selection
        .inputs
        .into_iter()
        .chain(selection.heaviest.into_iter().map(|(_, name, input)| (name, input)))
        .collect();
    let mut measured = Vec::new();
    for (label, input) in &blocks {
        measured.push(measure(label, input, runs)?);
    }
    let mut speeds: Vec<f64> = measured.iter().map(Measured::mgas_per_s).collect();
    speeds.sort_by(f64::total_cmp);
    let median = speeds.get(speeds.len() / 2).copied().unwrap_or(0.0);
    let outlier = |m: &Measured| median > 0.0 && m.mgas_per_s() > median * OUTLIER_FACTOR;
    let counted: Vec<&Measured> = measured.iter().filter(|m| !outlier(m)).collect();
    let total_gas: u64 = counted.iter().map(|m| m.gas).sum();
    let total_time: Duration = counted.iter().map(|m| m.elapsed()).sum();
    let total_mgas = total_gas as f64 / total_time.as_secs_f64().max(1e-9) / 1e6;
    let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
    if json {
        let rows: Vec<_> = measured
            .iter()
            .map(|m| {
                serde_json::json!({
                    "block": m.label,
                    "gas": m.gas,
                    "transactions": m.txs,
                    "witness_bytes": m.witness_bytes,
                    "input_bytes": m.input_bytes,
                    "decode_ms": ms(m.phases[0]),
                    "verify_ms": ms(m.phases[1]),
                    "execute_ms": ms(m.phases[2]),
                    "state_root_ms": ms(m.phases[3]),
                    "mgas_per_s": m.mgas_per_s(),
                    "outlier": outlier(m),
                })
            })
            .collect();
        crate::output::json(&serde_json::json!({
            "runs": runs,
            "blocks": rows,
            "total": {"blocks": counted.len(), "gas": total_gas, "ms": ms(total_time), "mgas_per_s": total_mgas},
        }));
        return Ok(());
    }
    outln!(
        "{:>10} {:>4} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}  block",
        "gas",
        "txs",
        "witness B",
        "input B",
        "decode ms",
        "verify ms",
        "exec ms",
        "root ms",
        "Mgas/s"
    );
    for m in &measured {
        let mark = if outlier(m) { "*" } else { " " };
        outln!(
            "{:>10} {:>4} {:>10} {:>10} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8.1}{mark}  {}",
            m.gas,
            m.txs,
            m.witness_bytes,
            m.input_bytes,
            ms(m.phases[0]),
            ms(m.phases[1]),
            ms(m.phases[2]),
            ms(m.phases[3]),
            m.mgas_per_s(),
            m.label
        );
    }
    if counted.len() < measured.len() {
        outln!(
            "* more than {OUTLIER_FACTOR}x the median {median:.1} Mgas/s: gas burnt without work (an early out-of-gas); \
             not in the total"
        );
    }
    outln!("total: {} blocks, {total_gas} gas in {:.1} ms: {total_mgas:.1} Mgas/s", counted.len(), ms(total_time));
    Ok(())
}

/// The fastest of `runs` timed runs of `input`, after one untimed run that warms caches (the
/// first run of a precompile block took ten times the others).
fn measure(label: &str, input: &ProgramInput, runs: usize) -> Result<Measured> {
    let binary = input.to_binary();
    bp_program::execute_input(input).with_context(|| format!("{label} failed"))?;
    let mut best: Option<[Duration; 4]> = None;
    for _ in 0..runs {
        let started = Instant::now();
        let decoded = ProgramInput::from_binary(&binary).context("binary round trip")?;
        let decode = started.elapsed();
        let mut timer = PhaseTimer::new();
        bp_program::execute_input_with_probe(&decoded, &mut timer).with_context(|| format!("{label} failed"))?;
        timer.stop();
        let run = [decode, timer.totals[0], timer.totals[1], timer.totals[2]];
        if best.is_none_or(|b| run.iter().sum::<Duration>() < b.iter().sum::<Duration>()) {
            best = Some(run);
        }
    }
    Ok(Measured {
        label: label.to_owned(),
        gas: input.blocks.iter().map(|b| b.header.gas_used).sum(),
        txs: input.blocks.iter().map(|b| b.body.transactions.len()).sum(),
        witness_bytes: input.witness.byte_size(),
        input_bytes: binary.len(),
        phases: best.unwrap_or_default(),
    })
}
