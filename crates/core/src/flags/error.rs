//! Errors of the flag engine.

use std::fmt;

/// One thing wrong with the configuration: where it is, and what is accepted instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The input at fault: `file:<path>`, `env:<VARIABLE>` or `runtime`.
    pub source: String,
    /// The key within that input, e.g. `features.rust_routing.rollout_percentage`; empty when
    /// the problem concerns the input as a whole.
    pub key: String,
    /// What is wrong and what form is accepted.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(source: impl Into<String>, key: impl Into<String>, message: String) -> Self {
        Self {
            source: source.into(),
            key: key.into(),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}: {}: {}", self.source, self.key, self.message)
        }
    }
}

/// Why a flag operation was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FlagError {
    /// The configuration has problems; every one found is listed. The configuration in force
    /// before the attempt stays in force.
    #[error("invalid litellm-rust feature configuration ({} problem{}):\n{}",
        .problems.len(), if .problems.len() == 1 { "" } else { "s" }, list(.problems))]
    InvalidConfig {
        /// Every problem found, in the order of the inputs.
        problems: Vec<Problem>,
    },
    /// The named feature is neither built in nor defined by configuration.
    #[error("unknown feature '{name}'; known features: {known}")]
    UnknownFeature {
        /// The name asked for.
        name: String,
        /// The known feature names, comma-separated.
        known: String,
    },
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}
