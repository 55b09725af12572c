//! What happens after a decision: outcomes recorded, thresholds judged, alerts raised,
//! metrics read out; and [`Engine::guard`], the whole sequence for Rust callers.
//!
//! Every transition (degraded, recovered, first shadow mismatch) raises exactly one alert: the
//! runtime's compare-and-swap decides which caller makes the transition, and only that caller
//! alerts.

use super::engine::{truncate, Decision, Engine, Entry, Snapshot};
use super::runtime::{DegradationReason, LastError, MismatchSample, MISMATCH_SAMPLES};
use super::settings::{FeatureState, MIN_SHADOW_RUNS};
use super::AuditEntry;
use crate::alerts::{Alert, Level};
use crate::metrics::LatencySummary;
use serde_json::{json, Value};
use std::fmt::{Display, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const LOG_TARGET: &str = "litellm_rust::guard";

/// One decided call: the decision and the configuration it was made under, for recording
/// the outcome without a second lookup. Recording goes to the feature's runtime state, which
/// outlives configuration reloads, so a ticket stays valid across one.
pub struct Ticket {
    snapshot: Arc<Snapshot>,
    index: Option<usize>,
    /// The decision for this call.
    pub decision: Decision,
}

impl Ticket {
    fn entry(&self) -> Option<&Entry> {
        self.index.map(|i| &self.snapshot.entries[i])
    }
}

/// How a shadow run of the accelerated path compared with the served Python answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShadowResult {
    /// The answers agreed.
    Matched,
    /// The answers differed.
    Mismatched(MismatchSample),
    /// The accelerated path failed; the error, truncated.
    Failed(String),
}

fn summary_json(s: &LatencySummary) -> Value {
    json!({
        "count": s.count,
        "avg_ms": s.avg_ms,
        "p50_ms": s.p50_ms,
        "p95_ms": s.p95_ms,
        "p99_ms": s.p99_ms,
        "max_ms": s.max_ms,
    })
}

impl Engine {
    fn entry_of<'a>(snapshot: &'a Snapshot, feature: &str) -> Option<&'a Entry> {
        snapshot.index.get(feature).map(|&i| &snapshot.entries[i])
    }

    /// Writes an alert to the log and to the alert file in force.
    pub fn alert(&self, alert: Alert) {
        let path = self.snapshot.load().env.alert_file.clone();
        self.alerts.emit(&alert, path.as_deref());
    }

    fn transition(&self, alert: Alert, audit: bool, to_file: bool) {
        if audit {
            self.record(AuditEntry {
                unix_ms: alert.unix_ms,
                source: "degradation".into(),
                action: alert.kind.into(),
                feature: Some(alert.feature.clone()),
                detail: alert.message.clone(),
            });
        }
        if to_file {
            self.alert(alert);
        } else {
            log::warn!(target: LOG_TARGET, "{}", alert.message);
        }
    }

    fn recovered(&self, entry: &Entry) {
        let alert = Alert {
            unix_ms: self.clock.unix_ms(),
            level: Level::Warning,
            feature: entry.name.clone(),
            kind: "state_change",
            message: format!(
                "{}: recovery probe succeeded; restored to {}",
                entry.name, entry.settings.state
            ),
            details: json!({ "state": entry.settings.state.as_str(), "cause": "recovery_probe" }),
        };
        self.transition(alert, true, true);
    }

    /// Records a call the Python path answered in `ns` nanoseconds because the decision was
    /// off (or shadow: the Python answer is served there too).
    pub fn record_fallback(&self, feature: &str, ns: u64) {
        let snapshot = self.snapshot.load();
        let Some(entry) = Self::entry_of(&snapshot, feature) else {
            return;
        };
        let now = self.clock.monotonic_ns();
        self.fallback_in(&snapshot, entry, ns, now)
    }

    fn fallback_in(&self, snapshot: &Snapshot, entry: &Entry, ns: u64, now: u64) {
        let runtime = &entry.runtime;
        runtime.calls.fetch_add(1, Ordering::Relaxed);
        runtime.fallback_calls.fetch_add(1, Ordering::Relaxed);
        runtime
            .fallback_latency
            .record(ns, now, snapshot.global.slot_ns());
    }

    /// Records an accelerated call that returned in `ns` nanoseconds, and degrades the feature
    /// when its latency has stayed above the threshold for a whole `performance_window`.
    pub fn record_success(&self, feature: &str, ns: u64) {
        let snapshot = self.snapshot.load();
        let Some(entry) = Self::entry_of(&snapshot, feature) else {
            return;
        };
        let now = self.clock.monotonic_ns();
        self.success_in(&snapshot, entry, ns, now)
    }

    fn success_in(&self, snapshot: &Snapshot, entry: &Entry, ns: u64, now: u64) {
        let feature = entry.name.as_str();
        let runtime = &entry.runtime;
        let global = &snapshot.global;
        runtime.calls.fetch_add(1, Ordering::Relaxed);
        runtime.accelerated_calls.fetch_add(1, Ordering::Relaxed);
        runtime
            .accelerated_latency
            .record(ns, now, global.slot_ns());
        runtime.record_success();
        if runtime.finish_probe(true, now) {
            self.recovered(entry);
            return;
        }

        let threshold_ms = entry.settings.performance_threshold_ms;
        let slow_run = runtime.record_latency(ns as f64 / 1e6 > threshold_ms);
        let window = u64::from(global.performance_window);
        if slow_run < window {
            return;
        }
        let degrade = global.enable_automatic_degradation;
        let transition = if degrade {
            runtime.degrade(DegradationReason::PerformanceThreshold, now)
        } else {
            runtime.claim_slow_alert()
        };
        if !transition {
            return;
        }
        let action = if degrade {
            "degraded to disabled"
        } else {
            "kept (automatic degradation is off)"
        };
        let last_ms = ns as f64 / 1e6;
        let alert = Alert {
            unix_ms: self.clock.unix_ms(),
            level: Level::Warning,
            feature: feature.to_owned(),
            kind: "performance_threshold",
            message: format!(
                "{feature}: {slow_run} consecutive accelerated calls above {threshold_ms} ms, the \
                 last {last_ms:.3} ms; {action}"
            ),
            details: json!({
                "performance_threshold_ms": threshold_ms,
                "performance_window": window,
                "last_ms": last_ms,
                "degraded": degrade,
            }),
        };
        self.transition(alert, degrade, global.enable_performance_alerts);
    }

    /// Records an accelerated call that failed after `ns` nanoseconds, and degrades the
    /// feature when the run of consecutive errors reaches its `error_threshold`.
    ///
    /// Returns whether the Python path should answer the call (`fallback_on_error`).
    pub fn record_error(&self, feature: &str, ns: u64, error: &str) -> bool {
        let snapshot = self.snapshot.load();
        let Some(entry) = Self::entry_of(&snapshot, feature) else {
            return true;
        };
        let now = self.clock.monotonic_ns();
        self.error_in(&snapshot, entry, ns, error, now)
    }

    fn error_in(&self, snapshot: &Snapshot, entry: &Entry, ns: u64, error: &str, now: u64) -> bool {
        let feature = entry.name.as_str();
        let runtime = &entry.runtime;
        runtime.calls.fetch_add(1, Ordering::Relaxed);
        runtime
            .accelerated_latency
            .record(ns, now, snapshot.global.slot_ns());
        let run = runtime.record_error();
        let message = truncate(error, 500);
        *runtime.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(LastError {
            unix_ms: self.clock.unix_ms(),
            message: message.clone(),
        });
        let fallback = entry.settings.fallback_on_error;
        if fallback {
            runtime.fallback_calls.fetch_add(1, Ordering::Relaxed);
        }
        log::debug!(target: LOG_TARGET, "{feature}: accelerated path failed: {message}");
        if runtime.finish_probe(false, now) {
            return fallback;
        }

        let threshold = entry.settings.error_threshold;
        if run < u64::from(threshold) {
            return fallback;
        }
        let degrade = snapshot.global.enable_automatic_degradation;
        let transition = if degrade {
            runtime.degrade(DegradationReason::ErrorThreshold, now)
        } else {
            runtime.claim_error_alert()
        };
        if transition {
            let action = if degrade {
                "degraded to disabled"
            } else {
                "kept (automatic degradation is off)"
            };
            let alert = Alert {
                unix_ms: self.clock.unix_ms(),
                level: Level::Critical,
                feature: feature.to_owned(),
                kind: "error_threshold",
                message: format!(
                    "{feature}: {run} consecutive errors (threshold {threshold}); {action}"
                ),
                details: json!({
                    "error_threshold": threshold,
                    "consecutive_errors": run,
                    "total_errors": runtime.total_errors(),
                    "last_error": message,
                    "degraded": degrade,
                }),
            };
            self.transition(alert, degrade, true);
        }
        fallback
    }

    /// Records one shadow run of the accelerated path, which took `ns` nanoseconds. Shadow
    /// outcomes never reach the caller, whose Python answer was already served; a mismatch
    /// rate above `shadow_mismatch_threshold` (after [`MIN_SHADOW_RUNS`] runs) degrades the
    /// feature.
    pub fn record_shadow(&self, feature: &str, ns: u64, result: ShadowResult) {
        let snapshot = self.snapshot.load();
        let Some(entry) = Self::entry_of(&snapshot, feature) else {
            return;
        };
        let now = self.clock.monotonic_ns();
        self.shadow_in(&snapshot, entry, ns, result, now)
    }

    fn shadow_in(
        &self,
        snapshot: &Snapshot,
        entry: &Entry,
        ns: u64,
        result: ShadowResult,
        now: u64,
    ) {
        let feature = entry.name.as_str();
        let runtime = &entry.runtime;
        runtime
            .shadow_latency
            .record(ns, now, snapshot.global.slot_ns());
        let sample = match result {
            ShadowResult::Failed(error) => {
                runtime.shadow_errors.fetch_add(1, Ordering::Relaxed);
                *runtime.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(LastError {
                    unix_ms: self.clock.unix_ms(),
                    message: error,
                });
                runtime.finish_probe(false, now);
                return;
            }
            ShadowResult::Matched => {
                runtime.record_shadow_run(false);
                if runtime.finish_probe(true, now) {
                    self.recovered(entry);
                }
                return;
            }
            ShadowResult::Mismatched(sample) => sample,
        };
        let (runs, mismatches) = runtime.record_shadow_run(true);
        runtime.finish_probe(false, now);
        {
            let mut samples = runtime
                .mismatch_samples
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if samples.len() == MISMATCH_SAMPLES {
                samples.pop_front();
            }
            samples.push_back(sample.clone());
        }
        let details = json!({
            "input": sample.input,
            "expected": sample.expected,
            "actual": sample.actual,
            "shadow_runs": runs,
            "shadow_mismatches": mismatches,
        });
        if mismatches == 1 {
            self.alert(Alert {
                unix_ms: self.clock.unix_ms(),
                level: Level::Warning,
                feature: feature.to_owned(),
                kind: "shadow_mismatch",
                message: format!("{feature}: a shadow answer differs from the Python answer"),
                details: details.clone(),
            });
        }
        let threshold = snapshot.global.shadow_mismatch_threshold;
        let rate = mismatches as f64 / runs as f64;
        if runs < MIN_SHADOW_RUNS
            || rate <= threshold
            || !snapshot.global.enable_automatic_degradation
        {
            return;
        }
        if runtime.degrade(DegradationReason::ShadowMismatch, now) {
            let alert = Alert {
                unix_ms: self.clock.unix_ms(),
                level: Level::Warning,
                feature: feature.to_owned(),
                kind: "shadow_mismatch",
                message: format!(
                    "{feature}: {mismatches} of {runs} shadow answers differ ({:.1}%, threshold \
                     {:.1}%); degraded to disabled",
                    rate * 100.0,
                    threshold * 100.0
                ),
                details,
            };
            self.transition(alert, true, true);
        }
    }

    /// Decides one call and keeps what recording its outcome needs, so that a guarded call
    /// looks its feature up once.
    pub fn ticket(&self, feature: &str, key: Option<&str>) -> Ticket {
        let snapshot = self.snapshot.load_full();
        let index = snapshot.index.get(feature).copied();
        let decision = match index {
            Some(i) if snapshot.held_off().is_none() => {
                snapshot.decide_index(i, key, self.clock.as_ref())
            }
            _ => Decision::Off,
        };
        Ticket {
            snapshot,
            index,
            decision,
        }
    }

    /// Records that the Python path answered a ticket's call in `ns` nanoseconds, ending at
    /// monotonic time `now`.
    pub fn ticket_fallback(&self, ticket: &Ticket, ns: u64, now: u64) {
        if let Some(entry) = ticket.entry() {
            self.fallback_in(&ticket.snapshot, entry, ns, now);
        }
    }

    /// Records that the accelerated path answered a ticket's call.
    pub fn ticket_success(&self, ticket: &Ticket, ns: u64, now: u64) {
        if let Some(entry) = ticket.entry() {
            self.success_in(&ticket.snapshot, entry, ns, now);
        }
    }

    /// Records that the accelerated path failed a ticket's call; true when the Python path
    /// should answer it.
    pub fn ticket_error(&self, ticket: &Ticket, ns: u64, now: u64, error: &str) -> bool {
        match ticket.entry() {
            Some(entry) => self.error_in(&ticket.snapshot, entry, ns, error, now),
            None => true,
        }
    }

    /// Records that the accelerated path declined a ticket's call (an input it cannot answer
    /// exactly), which the Python path then answers; a decline is not an error.
    pub fn ticket_decline(&self, ticket: &Ticket) {
        if let Some(entry) = ticket.entry() {
            entry.runtime.declined_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a declined call of `feature` (for callers without a ticket).
    pub fn record_decline(&self, feature: &str) {
        if let Some(runtime) = self.runtime(feature) {
            runtime.declined_calls.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a shadow run dropped because the shadow queue was full.
    pub fn record_shadow_drop(&self, feature: &str) {
        if let Some(runtime) = self.runtime(feature) {
            runtime.shadow_drops.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Per feature: counts and the latency of each path over the retention period.
    ///
    /// The top-level latency figures are the accelerated path's; `paths` has each path's.
    pub fn performance_stats(&self) -> Value {
        let snapshot = self.snapshot.load();
        let now = self.clock.monotonic_ns();
        let slot = snapshot.global.slot_ns();
        let mut stats = serde_json::Map::new();
        for entry in &snapshot.entries {
            let r = &entry.runtime;
            let accelerated = r.accelerated_latency.summary(now, slot);
            let fallback = r.fallback_latency.summary(now, slot);
            let shadow = r.shadow_latency.summary(now, slot);
            stats.insert(
                entry.name.clone(),
                json!({
                    "calls": r.calls.load(Ordering::Relaxed),
                    "accelerated_calls": r.accelerated_calls.load(Ordering::Relaxed),
                    "fallback_calls": r.fallback_calls.load(Ordering::Relaxed),
                    "declined_calls": r.declined_calls.load(Ordering::Relaxed),
                    "errors": r.errors(),
                    "avg_duration_ms": accelerated.avg_ms,
                    "p50_ms": accelerated.p50_ms,
                    "p95_ms": accelerated.p95_ms,
                    "p99_ms": accelerated.p99_ms,
                    "max_ms": accelerated.max_ms,
                    "shadow_runs": r.shadow_runs.load(Ordering::Relaxed),
                    "shadow_mismatches": r.shadow_mismatches.load(Ordering::Relaxed),
                    "shadow_errors": r.shadow_errors.load(Ordering::Relaxed),
                    "shadow_drops": r.shadow_drops.load(Ordering::Relaxed),
                    "paths": {
                        "accelerated": summary_json(&accelerated),
                        "fallback": summary_json(&fallback),
                        "shadow": summary_json(&shadow),
                    },
                }),
            );
        }
        Value::Object(stats)
    }

    /// The metrics in the Prometheus text exposition format, every name `litellm_rust_*`.
    pub fn prometheus(&self) -> String {
        let snapshot = self.snapshot.load();
        let now = self.clock.monotonic_ns();
        let slot = snapshot.global.slot_ns();
        let mut out = String::new();
        type Read = fn(&Entry) -> u64;
        let counters: [(&str, &str, Read); 9] = [
            ("calls", "Calls decided through a guard.", |e| {
                e.runtime.calls.load(Ordering::Relaxed)
            }),
            (
                "accelerated_calls",
                "Calls the accelerated path answered.",
                |e| e.runtime.accelerated_calls.load(Ordering::Relaxed),
            ),
            (
                "fallback_calls",
                "Calls LiteLLM's Python path answered.",
                |e| e.runtime.fallback_calls.load(Ordering::Relaxed),
            ),
            (
                "declined_calls",
                "Calls the accelerated path declined as inputs it cannot answer exactly.",
                |e| e.runtime.declined_calls.load(Ordering::Relaxed),
            ),
            ("errors", "Errors of the accelerated path.", |e| {
                e.runtime.errors()
            }),
            (
                "shadow_runs",
                "Shadow runs compared with the Python answer.",
                |e| e.runtime.shadow_runs.load(Ordering::Relaxed),
            ),
            (
                "shadow_mismatches",
                "Shadow runs whose answer differed.",
                |e| e.runtime.shadow_mismatches.load(Ordering::Relaxed),
            ),
            (
                "shadow_errors",
                "Shadow runs whose accelerated path failed.",
                |e| e.runtime.shadow_errors.load(Ordering::Relaxed),
            ),
            (
                "shadow_drops",
                "Shadow runs dropped because the queue was full.",
                |e| e.runtime.shadow_drops.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, read) in counters {
            let _ = writeln!(out, "# HELP litellm_rust_{name}_total {help}");
            let _ = writeln!(out, "# TYPE litellm_rust_{name}_total counter");
            for entry in &snapshot.entries {
                let _ = writeln!(
                    out,
                    "litellm_rust_{name}_total{{feature=\"{}\"}} {}",
                    entry.name,
                    read(entry)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP litellm_rust_feature_enabled 1 when the feature serves traffic (enabled, \
             canary or gradual_rollout, and neither degraded nor switched off)."
        );
        let _ = writeln!(out, "# TYPE litellm_rust_feature_enabled gauge");
        for entry in &snapshot.entries {
            let serving = !matches!(
                snapshot.effective_state(entry),
                FeatureState::Disabled | FeatureState::Shadow
            );
            let on = u8::from(serving);
            let _ = writeln!(
                out,
                "litellm_rust_feature_enabled{{feature=\"{}\"}} {on}",
                entry.name
            );
        }
        let _ = writeln!(out, "# HELP litellm_rust_feature_degraded 1 when degraded.");
        let _ = writeln!(out, "# TYPE litellm_rust_feature_degraded gauge");
        for entry in &snapshot.entries {
            let degraded = u8::from(entry.runtime.degradation().is_some());
            let _ = writeln!(
                out,
                "litellm_rust_feature_degraded{{feature=\"{}\"}} {degraded}",
                entry.name
            );
        }
        let _ = writeln!(
            out,
            "# HELP litellm_rust_rollout_percentage Configured traffic share."
        );
        let _ = writeln!(out, "# TYPE litellm_rust_rollout_percentage gauge");
        for entry in &snapshot.entries {
            let _ = writeln!(
                out,
                "litellm_rust_rollout_percentage{{feature=\"{}\"}} {}",
                entry.name,
                entry.settings.effective_percentage()
            );
        }
        let _ = writeln!(
            out,
            "# HELP litellm_rust_latency_seconds Call latency per path over the retention period."
        );
        let _ = writeln!(out, "# TYPE litellm_rust_latency_seconds summary");
        for entry in &snapshot.entries {
            let r = &entry.runtime;
            for (path, histogram) in [
                ("accelerated", &r.accelerated_latency),
                ("fallback", &r.fallback_latency),
                ("shadow", &r.shadow_latency),
            ] {
                let s = histogram.summary(now, slot);
                let labels = format!("feature=\"{}\",path=\"{path}\"", entry.name);
                for (quantile, ms) in [("0.5", s.p50_ms), ("0.95", s.p95_ms), ("0.99", s.p99_ms)] {
                    let _ = writeln!(
                        out,
                        "litellm_rust_latency_seconds{{{labels},quantile=\"{quantile}\"}} {}",
                        ms / 1e3
                    );
                }
                let sum = s.avg_ms * s.count as f64 / 1e3;
                let _ = writeln!(out, "litellm_rust_latency_seconds_sum{{{labels}}} {sum}");
                let _ = writeln!(
                    out,
                    "litellm_rust_latency_seconds_count{{{labels}}} {}",
                    s.count
                );
            }
        }
        out
    }

    /// Runs one call under `feature`: `accelerated` when the decision is on, `fallback` when
    /// off, and in shadow `fallback` served with `accelerated` compared beside it (inline:
    /// Rust callers have no queue). An error or panic of `accelerated` is recorded and, with
    /// `fallback_on_error`, answered by `fallback`; without it, the error is returned.
    ///
    /// ```
    /// use litellm_rust_core::clock::SystemClock;
    /// use litellm_rust_core::flags::Engine;
    /// use std::sync::Arc;
    ///
    /// let env = [("LITELLM_RUST_DOUBLING", "enabled")];
    /// let (engine, _) = Engine::from_env(Arc::new(SystemClock::new()), env);
    /// let answer = engine.guard("doubling", None, || Ok::<_, String>(2 * 21), || 21 + 21);
    /// assert_eq!(answer, Ok(42));
    /// ```
    pub fn guard<T, E, A, F>(
        &self,
        feature: &str,
        key: Option<&str>,
        accelerated: A,
        fallback: F,
    ) -> Result<T, String>
    where
        T: PartialEq + std::fmt::Debug,
        E: Display,
        A: FnOnce() -> Result<T, E>,
        F: FnOnce() -> T,
    {
        let clock = self.clock.as_ref();
        let ticket = self.ticket(feature, key);
        let run = |accelerated: A| -> (Result<T, String>, u64, u64) {
            let started = clock.monotonic_ns();
            let outcome = match catch_unwind(AssertUnwindSafe(accelerated)) {
                Ok(Ok(answer)) => Ok(answer),
                Ok(Err(error)) => Err(error.to_string()),
                Err(panic) => Err(format!("panic: {}", panic_text(panic.as_ref()))),
            };
            let ended = clock.monotonic_ns();
            (outcome, ended.saturating_sub(started), ended)
        };
        let serve_fallback = |fallback: F| -> T {
            let started = clock.monotonic_ns();
            let answer = fallback();
            let ended = clock.monotonic_ns();
            self.ticket_fallback(&ticket, ended.saturating_sub(started), ended);
            answer
        };
        match ticket.decision {
            Decision::Off => Ok(serve_fallback(fallback)),
            Decision::On => match run(accelerated) {
                (Ok(answer), ns, ended) => {
                    self.ticket_success(&ticket, ns, ended);
                    Ok(answer)
                }
                (Err(error), ns, ended) => {
                    if self.ticket_error(&ticket, ns, ended, &error) {
                        Ok(fallback())
                    } else {
                        Err(error)
                    }
                }
            },
            Decision::Shadow => {
                let answer = serve_fallback(fallback);
                let (shadow, ns, ended) = run(accelerated);
                let result = match shadow {
                    Ok(actual) if actual == answer => ShadowResult::Matched,
                    Ok(actual) => ShadowResult::Mismatched(MismatchSample {
                        input: String::new(),
                        expected: truncate(&format!("{answer:?}"), 200),
                        actual: truncate(&format!("{actual:?}"), 200),
                    }),
                    Err(error) => ShadowResult::Failed(error),
                };
                if let Some(entry) = ticket.entry() {
                    self.shadow_in(&ticket.snapshot, entry, ns, result, ended);
                }
                Ok(answer)
            }
        }
    }
}

/// The message a panic was raised with.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown payload".to_owned())
}
