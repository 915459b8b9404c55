use std::collections::BTreeMap;

use crate::{KnownFailures, Outcome};

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
    /// Failed tests not on the known-failures list: id and reason.
    pub failures: Vec<(String, String)>,
    /// Failed tests on the known-failures list: id and reason.
    pub known_failures: Vec<(String, String)>,
    /// Tests on the known-failures list that passed.
    pub fixed: Vec<String>,
    /// Skip reasons and how many tests each skipped.
    pub skips: BTreeMap<String, usize>,
    known: KnownFailures,
}

impl Report {
    /// A report in which the failures of `known` do not count against the run.
    pub fn with_known_failures(known: KnownFailures) -> Self {
        Self { known, ..Self::default() }
    }

    /// Whether the run is a pass as far as failures go: no failure that is not known, and no
    /// known failure that passed (it belongs off the list).
    pub fn failures_as_known(&self) -> bool {
        self.failures.is_empty() && self.fixed.is_empty()
    }

    /// Counts one test.
    pub fn add(&mut self, result: TestResult) {
        let counts = self.by_fork.entry(result.network).or_default();
        let known = self.known.reason(&result.id).is_some();
        match result.outcome {
            Outcome::Passed => {
                counts[0] += 1;
                if known {
                    self.fixed.push(result.id);
                }
            }
            Outcome::Failed(reason) => {
                counts[1] += 1;
                if known {
                    self.known_failures.push((result.id, reason));
                } else {
                    self.failures.push((result.id, reason));
                }
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
        if !self.known.is_empty() {
            out += &format!(
                "known failures: {} of the {} listed failed, {} listed passed (take them off the list)\n",
                self.known_failures.len(),
                self.known.len(),
                self.fixed.len()
            );
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
        let listed = |list: &[(String, String)]| -> Vec<serde_json::Value> {
            list.iter().map(|(id, reason)| serde_json::json!({"test": id, "reason": reason})).collect()
        };
        let (failures, known_failures) = (listed(&self.failures), listed(&self.known_failures));
        let (p, f, s) = self.totals();
        serde_json::json!({
            "forks": forks,
            "skips": self.skips,
            "failures": failures,
            "known_failures": known_failures,
            "fixed": self.fixed,
            "passed": p,
            "failed": f,
            "skipped": s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, outcome: Outcome) -> TestResult {
        TestResult { id: id.into(), network: "Amsterdam".into(), outcome }
    }

    #[test]
    fn only_an_unlisted_failure_or_a_listed_pass_fails_the_run() {
        let known = KnownFailures::parse("## reason\nknown_fail\nknown_pass\n").unwrap();
        let mut report = Report::with_known_failures(known);
        report.add(result("known_fail", Outcome::Failed("gas".into())));
        report.add(result("other", Outcome::Passed));
        assert!(report.failures_as_known());
        assert_eq!(report.totals(), (1, 1, 0), "a known failure still counts as failed");
        report.add(result("known_pass", Outcome::Passed));
        assert!(!report.failures_as_known(), "a fixed test must be taken off the list");
        assert_eq!(report.fixed, ["known_pass"]);
        let mut report = Report::with_known_failures(KnownFailures::default());
        report.add(result("new", Outcome::Failed("gas".into())));
        assert!(!report.failures_as_known());
    }
}
