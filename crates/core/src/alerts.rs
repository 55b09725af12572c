//! Alerts: one JSON object per line, appended to the file named by `LITELLM_RUST_ALERT_FILE`,
//! and logged.
//!
//! Each alert is one `write` of one whole line to a file opened with `O_APPEND`, so lines from
//! threads and processes sharing the file never interleave. A file that cannot be written is
//! logged (once per path) and otherwise ignored: alerting must never take the host down.

use crate::clock::rfc3339_utc;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::io::Write;
use std::sync::Mutex;

const LOG_TARGET: &str = "litellm_rust::alerts";

/// How serious an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Performance degradation, shadow mismatches, state changes.
    Warning,
    /// Error threshold exceeded, configuration rejected.
    Critical,
}

impl Level {
    /// `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// One alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// When, in Unix milliseconds.
    pub unix_ms: u64,
    /// How serious.
    pub level: Level,
    /// The feature concerned; empty for configuration-wide alerts.
    pub feature: String,
    /// `error_threshold`, `performance_threshold`, `shadow_mismatch`, `config_error`,
    /// `state_change`, ...
    pub kind: &'static str,
    /// A sentence for people.
    pub message: String,
    /// Structured details.
    pub details: Value,
}

impl Alert {
    /// The JSON Lines record, without its newline.
    pub fn to_json_line(&self) -> String {
        json!({
            "timestamp": rfc3339_utc(self.unix_ms),
            "level": self.level.as_str(),
            "feature": self.feature,
            "kind": self.kind,
            "message": self.message,
            "details": self.details,
        })
        .to_string()
    }
}

/// Writes alerts to the log and, when a path is given, to the alert file.
#[derive(Debug, Default)]
pub struct AlertSink {
    failed_paths: Mutex<HashSet<String>>,
}

impl AlertSink {
    /// Emits `alert` to the log and appends it to `path` if one is given.
    pub fn emit(&self, alert: &Alert, path: Option<&str>) {
        match alert.level {
            Level::Critical => log::error!(target: LOG_TARGET, "{}: {}", alert.kind, alert.message),
            Level::Warning => log::warn!(target: LOG_TARGET, "{}: {}", alert.kind, alert.message),
        }
        let Some(path) = path else { return };
        let mut line = alert.to_json_line();
        line.push('\n');
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(error) = written {
            let mut failed = self.failed_paths.lock().unwrap_or_else(|e| e.into_inner());
            if failed.insert(path.to_owned()) {
                log::error!(
                    target: LOG_TARGET,
                    "cannot write the alert file {path}: {error}; alerts go to the log only"
                );
            }
        }
    }
}
