//! The feature-flag engine.
//!
//! Each acceleration is a *feature* with a *state* (enabled, disabled, canary, gradual_rollout,
//! shadow) and a rollout percentage. Configuration comes from built-in defaults, a JSON file,
//! `LITELLM_RUST_*` environment variables and runtime calls, in rising precedence; it is
//! validated whole and swapped in as one immutable snapshot, so a reader never sees half a
//! configuration and a bad file never replaces a good one.

mod bucket;
mod config;
mod engine;
mod error;
mod json;
mod outcomes;
pub use outcomes::{panic_text, ShadowResult, Ticket};
mod runtime;
mod settings;

pub use bucket::{bucket, murmur3_32};
pub use config::{
    check_file, parse_env, parse_file, parse_json, resolve, EnvSettings, FeatureLayer,
    FieldSources, GlobalLayer, Layer, ResolvedConfig, ResolvedFeature, ENV_PREFIX,
};
pub use engine::{
    truncate, AuditEntry, Decision, Engine, Explanation, FileChoice, Reason, Snapshot,
};
pub use error::{FlagError, Problem};
pub use runtime::{DegradationReason, FeatureRuntime, LastError, MismatchSample, MISMATCH_SAMPLES};
pub use settings::{
    is_valid_feature_name, FeatureSettings, FeatureState, GlobalSettings, Source, MAX_NAME_LEN,
    MIN_SHADOW_RUNS, RESERVED_NAMES,
};
