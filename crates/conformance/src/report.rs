use std::collections::BTreeMap;

use crate::Outcome;

/// One test's result.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// File and test id.
    pub id: String,
    /// The fixture's `network`.
    pub network: String,
    /// What became of it.
    pub outcome: Outcome,
}

/// Counts per fork, and the failures and skips by name.
#[derive(Debug, Default)]
pub struct Report {
    by_fork: BTreeMap<String, [usize; 3]>,
    /// Failed tests: id and reason.
    pub failures: Vec<(String, String)>,
    /// Skip reasons and how many tests each skipped.
    pub skips: BTreeMap<String, usize>,
}

impl Report {
    /// Counts one test.
    pub fn add(&mut self, result: TestResult) {
        let counts = self.by_fork.entry(result.network).or_default();
        match result.outcome {
            Outcome::Passed => counts[0] += 1,
            Outcome::Failed(reason) => {
                counts[1] += 1;
                self.failures.push((result.id, reason));
            }
            Outcome::Skipped(reason) => {
                counts[2] += 1;
                *self.skips.entry(reason).or_default() += 1;
            }
        }
    }

    /// Totals: (passed, failed, skipped).
    pub fn totals(&self) -> (usize, usize, usize) {
        self.by_fork.values().fold((0, 0, 0), |(p, f, s), c| (p + c[0], f + c[1], s + c[2]))
    }

    /// The per-fork table and the closing `N passed, M failed, K skipped` line.
    pub fn render(&self) -> String {
        let mut out = format!("{:<32} {:>8} {:>8} {:>8}\n", "fork", "passed", "failed", "skipped");
        for (fork, [p, f, s]) in &self.by_fork {
            out += &format!("{fork:<32} {p:>8} {f:>8} {s:>8}\n");
        }
        for (reason, n) in &self.skips {
            out += &format!("skipped {n}: {reason}\n");
        }
        let (p, f, s) = self.totals();
        out += &format!("{p} passed, {f} failed, {s} skipped\n");
        out
    }

    /// The same as JSON: per fork, the skips by reason, the failures, the totals.
    pub fn to_json(&self) -> serde_json::Value {
        let forks: serde_json::Map<String, serde_json::Value> = self
            .by_fork
            .iter()
            .map(|(fork, [p, f, s])| (fork.clone(), serde_json::json!({"passed": p, "failed": f, "skipped": s})))
            .collect();
        let failures: Vec<_> =
            self.failures.iter().map(|(id, reason)| serde_json::json!({"test": id, "reason": reason})).collect();
        let (p, f, s) = self.totals();
        serde_json::json!({
            "forks": forks,
            "skips": self.skips,
            "failures": failures,
            "passed": p,
            "failed": f,
            "skipped": s,
        })
    }
}
