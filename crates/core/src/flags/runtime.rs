//! Per-feature runtime state that lives beside the configuration snapshot.
//!
//! Counters are atomics so that recording an outcome takes no lock; a feature's runtime state
//! survives configuration reloads, which only swap the snapshot that points at it.

use crate::metrics::LatencyHistogram;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

/// Why a feature was switched off automatically.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DegradationReason {
    /// `error_threshold` consecutive errors.
    ErrorThreshold,
    /// Sustained latency above `performance_threshold_ms`.
    PerformanceThreshold,
    /// Too many shadow answers differed from the Python answer.
    ShadowMismatch,
}

impl DegradationReason {
    /// The spelling used in status and alerts.
    pub fn as_str(self) -> &'static str {
        match self {
            DegradationReason::ErrorThreshold => "error_threshold",
            DegradationReason::PerformanceThreshold => "performance_threshold",
            DegradationReason::ShadowMismatch => "shadow_mismatch",
        }
    }

    fn code(self) -> u8 {
        match self {
            DegradationReason::ErrorThreshold => 1,
            DegradationReason::PerformanceThreshold => 2,
            DegradationReason::ShadowMismatch => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(DegradationReason::ErrorThreshold),
            2 => Some(DegradationReason::PerformanceThreshold),
            3 => Some(DegradationReason::ShadowMismatch),
            _ => None,
        }
    }
}

/// How many mismatches a feature keeps as examples.
pub const MISMATCH_SAMPLES: usize = 10;

/// One shadow answer that differed, with values already truncated for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MismatchSample {
    /// The call's arguments.
    pub input: String,
    /// The Python path's answer.
    pub expected: String,
    /// The accelerated path's answer.
    pub actual: String,
}

/// The latest error of the accelerated path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastError {
    /// When, in Unix milliseconds.
    pub unix_ms: u64,
    /// The error, truncated.
    pub message: String,
}

/// Counters, latency histograms and degradation of one feature.
#[derive(Debug, Default)]
pub struct FeatureRuntime {
    degraded: AtomicU8,
    degraded_at_ns: AtomicU64,
    probing: AtomicBool,
    consecutive_errors: AtomicU64,
    // Metric counters only ever grow, as Prometheus counters must; a reset records baselines
    // so that the figures "since the last reset" (status, mismatch-rate judgement) restart.
    errors: AtomicU64,
    errors_at_reset: AtomicU64,
    shadow_runs_at_reset: AtomicU64,
    shadow_mismatches_at_reset: AtomicU64,
    consecutive_slow: AtomicU64,
    error_alerted: AtomicBool,
    slow_alerted: AtomicBool,
    /// Calls decided through a guard.
    pub calls: AtomicU64,
    /// Calls the accelerated path answered.
    pub accelerated_calls: AtomicU64,
    /// Calls the Python path answered (decided off, in shadow, or after an accelerated error).
    pub fallback_calls: AtomicU64,
    /// Calls the accelerated path declined (it cannot answer that input exactly) and the
    /// Python path answered; not errors.
    pub declined_calls: AtomicU64,
    /// Shadow runs whose answer was compared, since start.
    pub shadow_runs: AtomicU64,
    /// Shadow runs whose answer differed from the Python answer, since start.
    pub shadow_mismatches: AtomicU64,
    /// Shadow runs whose accelerated path raised.
    pub shadow_errors: AtomicU64,
    /// Shadow runs dropped because the shadow queue was full.
    pub shadow_drops: AtomicU64,
    /// Latency of the accelerated path when it served.
    pub accelerated_latency: LatencyHistogram,
    /// Latency of the Python path when it served.
    pub fallback_latency: LatencyHistogram,
    /// Latency of the accelerated path run in shadow.
    pub shadow_latency: LatencyHistogram,
    /// The latest mismatches, newest last, at most [`MISMATCH_SAMPLES`].
    pub mismatch_samples: Mutex<VecDeque<MismatchSample>>,
    /// The latest error of the accelerated path.
    pub last_error: Mutex<Option<LastError>>,
}

impl FeatureRuntime {
    /// Why the feature is degraded, if it is.
    pub fn degradation(&self) -> Option<DegradationReason> {
        DegradationReason::from_code(self.degraded.load(Ordering::Acquire))
    }

    /// Marks the feature degraded at monotonic time `now_ns`; returns true when this call made
    /// the transition.
    pub fn degrade(&self, reason: DegradationReason, now_ns: u64) -> bool {
        let done = self
            .degraded
            .compare_exchange(0, reason.code(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if done {
            self.degraded_at_ns.store(now_ns, Ordering::Release);
        }
        done
    }

    /// Monotonic time of the degradation (or of the last failed recovery probe).
    pub fn degraded_at_ns(&self) -> u64 {
        self.degraded_at_ns.load(Ordering::Acquire)
    }

    /// Claims the single recovery probe of a degraded feature; true for one caller at a time.
    pub fn start_probe(&self) -> bool {
        !self.probing.swap(true, Ordering::AcqRel)
    }

    /// Ends a recovery probe: restores the feature when it succeeded, otherwise restarts the
    /// wait from `now_ns`. Returns true when the feature was restored by this call.
    pub fn finish_probe(&self, succeeded: bool, now_ns: u64) -> bool {
        if !self.probing.load(Ordering::Acquire) {
            return false;
        }
        let restored = succeeded && self.reset();
        if !succeeded {
            self.degraded_at_ns.store(now_ns, Ordering::Release);
        }
        self.probing.store(false, Ordering::Release);
        restored
    }

    /// Releases a claimed probe that did not run (the call was decided off).
    pub fn release_probe(&self) {
        self.probing.store(false, Ordering::Release);
    }

    /// Clears degradation and the counts since the last reset (the metric counters keep
    /// growing); returns true when the feature was degraded.
    pub fn reset(&self) -> bool {
        self.consecutive_errors.store(0, Ordering::Release);
        self.errors_at_reset
            .store(self.errors.load(Ordering::Acquire), Ordering::Release);
        let runs = self.shadow_runs.load(Ordering::Acquire);
        self.shadow_runs_at_reset.store(runs, Ordering::Release);
        let mismatches = self.shadow_mismatches.load(Ordering::Acquire);
        self.shadow_mismatches_at_reset
            .store(mismatches, Ordering::Release);
        self.consecutive_slow.store(0, Ordering::Release);
        self.error_alerted.store(false, Ordering::Release);
        self.slow_alerted.store(false, Ordering::Release);
        self.degraded.swap(0, Ordering::AcqRel) != 0
    }

    /// Records an error; returns the number of consecutive errors including this one.
    pub fn record_error(&self) -> u64 {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.consecutive_errors.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Records a compared shadow run; returns the runs and mismatches since the last reset,
    /// this one included.
    pub fn record_shadow_run(&self, mismatched: bool) -> (u64, u64) {
        let runs = self.shadow_runs.fetch_add(1, Ordering::AcqRel) + 1;
        let mismatches = if mismatched {
            self.shadow_mismatches.fetch_add(1, Ordering::AcqRel) + 1
        } else {
            self.shadow_mismatches.load(Ordering::Acquire)
        };
        (
            runs.saturating_sub(self.shadow_runs_at_reset.load(Ordering::Acquire)),
            mismatches.saturating_sub(self.shadow_mismatches_at_reset.load(Ordering::Acquire)),
        )
    }

    /// Shadow runs and mismatches since the last reset.
    pub fn shadow_since_reset(&self) -> (u64, u64) {
        let runs = self.shadow_runs.load(Ordering::Acquire);
        let mismatches = self.shadow_mismatches.load(Ordering::Acquire);
        (
            runs.saturating_sub(self.shadow_runs_at_reset.load(Ordering::Acquire)),
            mismatches.saturating_sub(self.shadow_mismatches_at_reset.load(Ordering::Acquire)),
        )
    }

    /// Errors since start: the metric counter.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Acquire)
    }

    /// Records a success, which ends a run of consecutive errors.
    pub fn record_success(&self) {
        // A plain load first: on the common path nothing is stored, so the cache line stays
        // shared between threads.
        if self.consecutive_errors.load(Ordering::Relaxed) != 0 {
            self.consecutive_errors.store(0, Ordering::Release);
            self.error_alerted.store(false, Ordering::Release);
        }
    }

    /// Records whether a call was slower than the threshold; returns the run of consecutive
    /// slow calls including this one (0 for a fast call).
    pub fn record_latency(&self, slow: bool) -> u64 {
        if slow {
            self.consecutive_slow.fetch_add(1, Ordering::AcqRel) + 1
        } else {
            if self.consecutive_slow.load(Ordering::Relaxed) != 0 {
                self.consecutive_slow.store(0, Ordering::Release);
                self.slow_alerted.store(false, Ordering::Release);
            }
            0
        }
    }

    /// Claims the one alert of the current run of errors; true for the first caller only.
    pub fn claim_error_alert(&self) -> bool {
        !self.error_alerted.swap(true, Ordering::AcqRel)
    }

    /// Claims the one alert of the current run of slow calls; true for the first caller only.
    pub fn claim_slow_alert(&self) -> bool {
        !self.slow_alerted.swap(true, Ordering::AcqRel)
    }

    /// Errors since the last success.
    pub fn consecutive_errors(&self) -> u64 {
        self.consecutive_errors.load(Ordering::Acquire)
    }

    /// Errors since start or the last reset.
    pub fn total_errors(&self) -> u64 {
        self.errors()
            .saturating_sub(self.errors_at_reset.load(Ordering::Acquire))
    }
}
