//! `blockprover conformance`: blockchain-test suites through the stateless program.

use crate::output::{errln, outln};
use std::{
    path::PathBuf,
    sync::{mpsc, Mutex},
    time::Instant,
};

use anyhow::{bail, Context, Result};
use bp_conformance::{for_each_file, run_fixture, KnownFailures, Outcome, Report, TestResult};

pub(crate) fn run(
    forks: Vec<String>,
    list_failures: bool,
    jobs: Option<usize>,
    sample: usize,
    json: bool,
    known_failures: Option<PathBuf>,
    paths: Vec<PathBuf>,
) -> Result<()> {
    let known = match &known_failures {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            KnownFailures::parse(&text).with_context(|| format!("known failures {}", path.display()))?
        }
        None => KnownFailures::default(),
    };
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let (file_tx, file_rx) = mpsc::sync_channel::<(String, String)>(jobs * 4);
    let file_rx = Mutex::new(file_rx);
    let (result_tx, result_rx) = mpsc::channel::<TestResult>();
    let started = Instant::now();

    let report = std::thread::scope(|scope| -> Result<Report> {
        for _ in 0..jobs {
            let file_rx = &file_rx;
            let result_tx = result_tx.clone();
            let forks = &forks;
            scope.spawn(move || loop {
                let next = file_rx.lock().expect("no worker panics while holding the lock").recv();
                let Ok((name, text)) = next else { break };
                for result in run_file(&name, &text, forks) {
                    let _ = result_tx.send(result);
                }
            });
        }
        drop(result_tx);
        let collector = scope.spawn(move || {
            let mut report = Report::with_known_failures(known);
            let mut seen = 0usize;
            for result in result_rx {
                report.add(result);
                seen += 1;
                if seen.is_multiple_of(2000) {
                    let (p, f, s) = report.totals();
                    errln!("… {seen} tests ({p} passed, {f} failed, {s} skipped), {:.0?}", started.elapsed());
                }
            }
            report
        });
        let mut index = 0usize;
        for path in &paths {
            for_each_file(path, &mut |name, text| {
                if index.is_multiple_of(sample) {
                    let _ = file_tx.send((name, text));
                }
                index += 1;
            })?;
        }
        drop(file_tx);
        Ok(collector.join().expect("collector does not panic"))
    })?;

    errln!("finished in {:.1?}", started.elapsed());
    if json {
        crate::output::json(&report.to_json());
    } else {
        if list_failures {
            for (id, reason) in &report.failures {
                outln!("FAIL {id}: {reason}");
            }
            for (id, reason) in &report.known_failures {
                outln!("KNOWN {id}: {reason}");
            }
            for id in &report.fixed {
                outln!("FIXED {id}: passes, and is on the known-failures list");
            }
        }
        crate::output::write(report.render());
    }
    let (passed, failed, skipped) = report.totals();
    if !report.fixed.is_empty() {
        bail!("{} tests on the known-failures list passed: take them off it", report.fixed.len());
    }
    if !report.failures.is_empty() {
        bail!("{} conformance tests failed ({} more known to)", report.failures.len(), report.known_failures.len());
    }
    if failed > 0 {
        errln!("{failed} tests failed, all of them known to (the list's reasons say why)");
    }
    if passed == 0 {
        let filter = if forks.is_empty() { String::new() } else { format!(" for forks {}", forks.join(", ")) };
        bail!("no test was run{filter} ({skipped} skipped): nothing run is not a pass");
    }
    Ok(())
}

/// The results of one file's tests, of the networks in `forks` (all if empty).
fn run_file(name: &str, text: &str, forks: &[String]) -> Vec<TestResult> {
    let parsed: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return vec![TestResult {
                id: name.into(),
                network: "?".into(),
                outcome: Outcome::Failed(format!("not JSON: {e}")),
            }]
        }
    };
    let Some(tests) = parsed.as_object() else {
        return vec![TestResult {
            id: name.into(),
            network: "?".into(),
            outcome: Outcome::Failed("not a JSON object".into()),
        }];
    };
    tests
        .iter()
        .filter_map(|(id, fixture)| {
            let network = fixture.get("network").and_then(|n| n.as_str()).unwrap_or("?").to_owned();
            if !forks.is_empty() && !forks.contains(&network) {
                return None;
            }
            let outcome = std::panic::catch_unwind(|| run_fixture(fixture))
                .unwrap_or_else(|_| Outcome::Failed("panicked".into()));
            Some(TestResult { id: format!("{name}::{id}"), network, outcome })
        })
        .collect()
}
