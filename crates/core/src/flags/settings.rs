//! What a feature is configured to do, and where each setting came from.

use std::fmt;

/// The rollout state of a feature, as written in configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeatureState {
    /// Serves every call.
    Enabled,
    /// Serves no call: LiteLLM's Python path answers.
    Disabled,
    /// Serves `rollout_percentage`% of calls; by convention a small first step.
    Canary,
    /// Serves `rollout_percentage`% of calls; the steps after a canary.
    GradualRollout,
    /// Serves no call, but runs beside the Python path for `rollout_percentage`% of calls.
    Shadow,
}

impl FeatureState {
    /// Every state, in the order of a rollout.
    pub const ALL: [FeatureState; 5] = [
        FeatureState::Disabled,
        FeatureState::Shadow,
        FeatureState::Canary,
        FeatureState::GradualRollout,
        FeatureState::Enabled,
    ];

    /// The configuration spelling: `enabled`, `disabled`, `canary`, `gradual_rollout`, `shadow`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureState::Enabled => "enabled",
            FeatureState::Disabled => "disabled",
            FeatureState::Canary => "canary",
            FeatureState::GradualRollout => "gradual_rollout",
            FeatureState::Shadow => "shadow",
        }
    }

    /// Parses the configuration spelling, ignoring ASCII case.
    pub fn parse(text: &str) -> Option<FeatureState> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether the state's traffic share comes from `rollout_percentage`.
    pub fn uses_percentage(self) -> bool {
        matches!(
            self,
            FeatureState::Canary | FeatureState::GradualRollout | FeatureState::Shadow
        )
    }
}

impl fmt::Display for FeatureState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a setting's value came from, lowest precedence first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Built into litellm-rust.
    Default,
    /// The JSON configuration file at this path.
    File(String),
    /// This environment variable.
    Env(String),
    /// A call to the runtime API (`set_feature_state`).
    Runtime,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file:{path}"),
            Source::Env(var) => write!(f, "env:{var}"),
            Source::Runtime => f.write_str("runtime"),
        }
    }
}

/// The resolved settings of one feature.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureSettings {
    /// The configured state.
    pub state: FeatureState,
    /// Share of traffic, 0 to 100, for canary, gradual_rollout and shadow.
    pub rollout_percentage: f64,
    /// Consecutive errors after which the feature degrades to disabled.
    pub error_threshold: u32,
    /// Latency above which the feature counts as slow, in milliseconds.
    pub performance_threshold_ms: f64,
    /// Whether an error of the accelerated path is answered by the Python path.
    pub fallback_on_error: bool,
    /// Features that must be on, for the same key, for this one to be on.
    pub dependencies: Vec<String>,
    /// The stickiness group; keys hash as `"<group_id>:<key>"`. Defaults to the feature name.
    pub group_id: Option<String>,
}

impl FeatureSettings {
    /// The share of traffic the state serves (or shadows): 100 for enabled, 0 for disabled.
    pub fn effective_percentage(&self) -> f64 {
        match self.state {
            FeatureState::Enabled => 100.0,
            FeatureState::Disabled => 0.0,
            _ => self.rollout_percentage,
        }
    }
}

/// Settings that apply to every feature.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalSettings {
    /// Whether crossing a threshold disables a feature (otherwise it only alerts).
    pub enable_automatic_degradation: bool,
    /// Whether latency thresholds raise alerts at all.
    pub enable_performance_alerts: bool,
    /// How long latency samples are kept, in hours.
    pub metrics_retention_hours: f64,
    /// How many consecutive accelerated calls above `performance_threshold_ms` make latency
    /// "sustained": one slow call in a run of fast ones never degrades a feature. 1 is the
    /// strictest reading, where any slow call does.
    pub performance_window: u32,
    /// Seconds after which a degraded feature lets one call through as a probe, as a circuit
    /// breaker's half-open state does: success restores the feature, failure waits again.
    /// `None`: a degraded feature stays off until `reset_errors`.
    pub recovery_after_s: Option<f64>,
    /// Share of shadow runs, from 0 to 1, whose answer may differ before the feature degrades;
    /// judged once [`MIN_SHADOW_RUNS`] runs have been compared.
    pub shadow_mismatch_threshold: f64,
}

impl GlobalSettings {
    /// The width of one latency-histogram time slot: the retention period split in
    /// [`crate::metrics::SLOTS`].
    pub fn slot_ns(&self) -> u64 {
        let retention_ns = self.metrics_retention_hours * 3_600.0 * 1e9;
        (retention_ns / crate::metrics::SLOTS as f64).max(1.0) as u64
    }
}

/// Shadow runs compared before the mismatch rate is judged.
pub const MIN_SHADOW_RUNS: u64 = 100;

impl Default for GlobalSettings {
    fn default() -> Self {
        Self {
            enable_automatic_degradation: true,
            enable_performance_alerts: true,
            metrics_retention_hours: 24.0,
            performance_window: 5,
            recovery_after_s: None,
            shadow_mismatch_threshold: 0.01,
        }
    }
}

/// Settings of a feature that is not built in, for every key its definition leaves out.
pub(crate) const CUSTOM_ERROR_THRESHOLD: u32 = 5;
pub(crate) const CUSTOM_PERFORMANCE_THRESHOLD_MS: f64 = 100.0;

/// A built-in feature and its defaults.
pub(crate) struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub state: FeatureState,
    pub rollout_percentage: f64,
    pub error_threshold: u32,
    pub performance_threshold_ms: f64,
    pub dependencies: &'static [&'static str],
}

// States and rollouts are the user guide's tables. Thresholds for the four features the guide's
// JSON example configures are that example's; the others are ours, sized to what each guards
// (a pooled provider call includes the provider's own latency).
pub(crate) const BUILTINS: [Builtin; 7] = [
    Builtin {
        name: "rust_routing",
        description: "Router deployment selection",
        state: FeatureState::Enabled,
        rollout_percentage: 100.0,
        error_threshold: 10,
        performance_threshold_ms: 500.0,
        dependencies: &[],
    },
    Builtin {
        name: "rust_token_counting",
        description: "Token counting",
        state: FeatureState::Enabled,
        rollout_percentage: 100.0,
        error_threshold: 5,
        performance_threshold_ms: 100.0,
        dependencies: &[],
    },
    Builtin {
        name: "rust_rate_limiting",
        description: "Proxy rate limiting",
        state: FeatureState::GradualRollout,
        rollout_percentage: 75.0,
        error_threshold: 5,
        performance_threshold_ms: 50.0,
        dependencies: &[],
    },
    Builtin {
        name: "rust_connection_pooling",
        description: "Connection handling for provider calls",
        state: FeatureState::GradualRollout,
        rollout_percentage: 50.0,
        error_threshold: 5,
        performance_threshold_ms: 30_000.0,
        dependencies: &[],
    },
    Builtin {
        name: "batch_token_counting",
        description: "Batch token counting across cores",
        state: FeatureState::Canary,
        rollout_percentage: 10.0,
        error_threshold: 2,
        performance_threshold_ms: 80.0,
        dependencies: &["rust_token_counting"],
    },
    Builtin {
        name: "async_routing",
        description: "Async Router deployment selection",
        state: FeatureState::Shadow,
        rollout_percentage: 5.0,
        error_threshold: 1,
        performance_threshold_ms: 300.0,
        dependencies: &["rust_routing"],
    },
    Builtin {
        name: "performance_monitoring",
        description: "Metrics collection",
        state: FeatureState::Enabled,
        rollout_percentage: 100.0,
        error_threshold: 10,
        performance_threshold_ms: 100.0,
        dependencies: &[],
    },
];

/// Names of `LITELLM_RUST_*` variables that are settings, not features.
pub const RESERVED_NAMES: [&str; 4] = ["disable_all", "feature_config", "alert_file", "debug"];

/// Longest feature name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` is a valid feature name: 1 to 64 of `a-z`, `0-9` and `_`.
pub fn is_valid_feature_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}
