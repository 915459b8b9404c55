//! Known failures: tests a suite is run with but not yet passed, each under its reason.
//!
//! A run given the list fails for a failure not on it, and for a test on it that passes (the
//! list must shrink as the program improves, so a fixed test is taken off it). The format is
//! plain text: `## reason` starts a section, every other non-empty line not starting with `#`
//! is a test id as the runner prints it, under the reason above it.

use std::collections::BTreeMap;

/// The known failures, each test id with its reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownFailures {
    reasons: BTreeMap<String, String>,
}

/// A known-failures list that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KnownFailuresError {
    /// A test id came before any `## reason` line: every known failure needs its reason.
    #[error("line {line}: test id before any `## reason` line")]
    NoReason {
        /// The line, from 1.
        line: usize,
    },
    /// A `## ` line with nothing after it.
    #[error("line {line}: empty reason")]
    EmptyReason {
        /// The line, from 1.
        line: usize,
    },
    /// A test listed twice.
    #[error("line {line}: {id} is listed twice")]
    Duplicate {
        /// The line of the second listing, from 1.
        line: usize,
        /// The test id.
        id: String,
    },
}

impl KnownFailures {
    /// Reads a list (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, KnownFailuresError> {
        let mut reasons = BTreeMap::new();
        let mut reason: Option<&str> = None;
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let line = line.trim();
            if let Some(header) = line.strip_prefix("##") {
                let header = header.trim();
                if header.is_empty() {
                    return Err(KnownFailuresError::EmptyReason { line: line_number });
                }
                reason = Some(header);
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(reason) = reason else {
                return Err(KnownFailuresError::NoReason { line: line_number });
            };
            if reasons.insert(line.to_owned(), reason.to_owned()).is_some() {
                return Err(KnownFailuresError::Duplicate { line: line_number, id: line.to_owned() });
            }
        }
        Ok(Self { reasons })
    }

    /// The reason `id` is known to fail, if it is.
    pub fn reason(&self, id: &str) -> Option<&str> {
        self.reasons.get(id).map(String::as_str)
    }

    /// How many tests are listed.
    pub fn len(&self) -> usize {
        self.reasons.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_test_has_the_reason_above_it() {
        let known =
            KnownFailures::parse("# a comment\n\n## state gas\na.json::t1\n a.json::t2 \n## burn logs\nb.json::t\n")
                .unwrap();
        assert_eq!(known.len(), 3);
        assert_eq!(known.reason("a.json::t2"), Some("state gas"));
        assert_eq!(known.reason("b.json::t"), Some("burn logs"));
        assert_eq!(known.reason("c.json::t"), None);
    }

    #[test]
    fn a_list_without_reasons_or_with_a_test_twice_is_refused() {
        assert_eq!(KnownFailures::parse("# x\na.json::t\n"), Err(KnownFailuresError::NoReason { line: 2 }));
        assert_eq!(KnownFailures::parse("##  \n"), Err(KnownFailuresError::EmptyReason { line: 1 }));
        assert_eq!(
            KnownFailures::parse("## r\na::t\n## s\na::t\n"),
            Err(KnownFailuresError::Duplicate { line: 4, id: "a::t".into() })
        );
    }
}
