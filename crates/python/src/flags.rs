//! The process-wide flag engine and the functions that expose it.
//!
//! Decisions do not release the GIL: they take about 20 ns, less than releasing and taking it
//! back would cost. Loads do not release it either, because the engine logs while holding its
//! own lock and the log bridge needs the GIL; holding it throughout rules out a lock-order
//! inversion between the two.

use crate::errors::{config_error, flag_error};
use litellm_rust_core::clock::SystemClock;
use litellm_rust_core::flags::{
    truncate, Decision, Engine, Explanation, FeatureState, FileChoice, MismatchSample, ShadowResult,
};
use pyo3::prelude::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// The `LITELLM_RUST_*` variables of the process environment, read afresh.
///
/// Reads through `vars_os`, since `vars` panics on a variable that is not UTF-8; such a value
/// is passed on lossily and then rejected by validation with its name.
pub(crate) fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .filter(|(k, _)| k.starts_with(litellm_rust_core::flags::ENV_PREFIX))
        .collect()
}

/// The engine, configured from the environment on first use.
pub(crate) fn engine() -> &'static Engine {
    ENGINE.get_or_init(|| {
        let (engine, outcome) = Engine::from_env(Arc::new(SystemClock::new()), process_env());
        if let Err(error) = outcome {
            log::error!(
                target: "litellm_rust::flags",
                "every feature stays on LiteLLM's Python path: {error}"
            );
        }
        engine
    })
}

fn parse_state(py: Python<'_>, state: &str) -> PyResult<FeatureState> {
    FeatureState::parse(state.trim()).ok_or_else(|| {
        let accepted = FeatureState::ALL.map(FeatureState::as_str).join(", ");
        config_error(
            py,
            format!("state: unknown state '{state}'; accepted: {accepted}"),
        )
    })
}

/// Configures the engine from the environment if not done yet; returns the problems that hold
/// every feature off, empty when the configuration is valid.
#[pyfunction]
pub(crate) fn initialize() -> Vec<String> {
    let status = engine().status();
    let problems = &status["global_status"]["configuration"]["problems"];
    problems
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// True when `feature` is on (the accelerated path serves) for this call.
#[pyfunction]
#[pyo3(signature = (feature, key=None))]
pub(crate) fn is_enabled(feature: &str, key: Option<&str>) -> bool {
    engine().is_enabled(feature, key)
}

/// `"on"`, `"off"` or `"shadow"` for this call.
#[pyfunction]
#[pyo3(signature = (feature, key=None))]
pub(crate) fn decide(feature: &str, key: Option<&str>) -> &'static str {
    engine().decide(feature, key).as_str()
}

fn explanation_json(e: &Explanation) -> Value {
    let sources = e.sources.as_ref().map(|s| {
        s.pairs()
            .into_iter()
            .map(|(field, source)| (field.to_owned(), Value::String(source.to_string())))
            .collect::<serde_json::Map<_, _>>()
    });
    let settings = e.settings.as_ref().map(|s| {
        json!({
            "state": s.state.as_str(),
            "rollout_percentage": s.rollout_percentage,
            "dependencies": s.dependencies,
            "group_id": s.group_id,
        })
    });
    json!({
        "feature": e.feature,
        "decision": e.decision.as_str(),
        "is_enabled": e.decision == Decision::On,
        "reason": e.reason.describe(),
        "effective_state": e.effective_state.as_str(),
        "configured": settings,
        "key": e.key,
        "bucket": e.bucket,
        "draw": e.draw,
        "sources": sources,
        "dependencies": e.dependencies.iter().map(explanation_json).collect::<Vec<_>>(),
    })
}

/// The decision for this call and everything that went into it, as JSON.
#[pyfunction]
#[pyo3(signature = (feature, key=None))]
pub(crate) fn explain_json(feature: &str, key: Option<&str>) -> String {
    explanation_json(&engine().explain(feature, key)).to_string()
}

/// The full status, as JSON.
#[pyfunction]
pub(crate) fn status_json() -> String {
    engine().status().to_string()
}

/// Sets a feature's state at runtime, above the file and environment.
#[pyfunction]
#[pyo3(signature = (feature, state, rollout_percentage=None))]
pub(crate) fn set_feature_state(
    py: Python<'_>,
    feature: &str,
    state: &str,
    rollout_percentage: Option<f64>,
) -> PyResult<()> {
    let state = parse_state(py, state)?;
    engine()
        .set_feature_state(feature, state, rollout_percentage)
        .map_err(|e| flag_error(py, e))
}

/// Drops every runtime change made with `set_feature_state`.
#[pyfunction]
pub(crate) fn clear_runtime_overrides(py: Python<'_>) -> PyResult<()> {
    engine()
        .clear_runtime_overrides()
        .map_err(|e| flag_error(py, e))
}

/// Clears error counts and degradation of one feature, or of all.
#[pyfunction]
#[pyo3(signature = (feature=None))]
pub(crate) fn reset_errors(py: Python<'_>, feature: Option<&str>) -> PyResult<()> {
    engine()
        .reset_errors(feature)
        .map_err(|e| flag_error(py, e))
}

/// Loads the JSON file at `path` (the file named by `LITELLM_RUST_FEATURE_CONFIG` when
/// `None`) and the environment, keeping the old configuration on any problem.
#[pyfunction]
#[pyo3(signature = (path=None))]
pub(crate) fn load_config(py: Python<'_>, path: Option<PathBuf>) -> PyResult<()> {
    let choice = path.map_or(FileChoice::FromEnv, FileChoice::Path);
    engine()
        .load(process_env(), choice)
        .map_err(|e| flag_error(py, e))
}

/// Loads the environment and the current file again, keeping the old one on any problem.
#[pyfunction]
pub(crate) fn reload_config(py: Python<'_>) -> PyResult<()> {
    engine()
        .reload(process_env())
        .map_err(|e| flag_error(py, e))
}

/// Checks a configuration file without loading it; returns every problem found.
#[pyfunction]
pub(crate) fn validate_file(path: PathBuf) -> Vec<String> {
    let problems = litellm_rust_core::flags::check_file(&path);
    problems.iter().map(ToString::to_string).collect()
}

/// The alert file path in force, if any.
#[pyfunction]
pub(crate) fn alert_file() -> Option<String> {
    engine().env_settings().alert_file
}

/// Records an accelerated call of `feature` that succeeded in `ns` nanoseconds.
#[pyfunction]
pub(crate) fn record_success(feature: &str, ns: u64) {
    engine().record_success(feature, ns);
}

/// Records an accelerated call of `feature` that failed; true when the fallback should answer.
#[pyfunction]
pub(crate) fn record_error(feature: &str, ns: u64, error: &str) -> bool {
    engine().record_error(feature, ns, error)
}

/// Records a call of `feature` that the accelerated path declined (UnsupportedInput).
#[pyfunction]
pub(crate) fn record_decline(feature: &str) {
    engine().record_decline(feature);
}

/// Records a call of `feature` that the Python path answered in `ns` nanoseconds.
#[pyfunction]
pub(crate) fn record_fallback(feature: &str, ns: u64) {
    engine().record_fallback(feature, ns);
}

/// Records one shadow run of `feature` that took `ns` nanoseconds. Values are truncated to
/// 200 characters.
#[pyfunction]
#[pyo3(signature = (feature, ns, matched, error=None, input="", expected="", actual=""))]
pub(crate) fn record_shadow(
    feature: &str,
    ns: u64,
    matched: bool,
    error: Option<&str>,
    input: &str,
    expected: &str,
    actual: &str,
) {
    let cut = |text: &str| truncate(text, 200);
    let result = match (error, matched) {
        (Some(error), _) => ShadowResult::Failed(truncate(error, 500)),
        (None, true) => ShadowResult::Matched,
        (None, false) => ShadowResult::Mismatched(MismatchSample {
            input: cut(input),
            expected: cut(expected),
            actual: cut(actual),
        }),
    };
    engine().record_shadow(feature, ns, result);
}

/// Counts a shadow run of `feature` dropped because the shadow queue was full.
#[pyfunction]
pub(crate) fn record_shadow_drop(feature: &str) {
    engine().record_shadow_drop(feature);
}

/// Per-feature counts and latency, as JSON.
#[pyfunction]
pub(crate) fn performance_stats_json() -> String {
    engine().performance_stats().to_string()
}

/// The metrics in the Prometheus text exposition format.
#[pyfunction]
pub(crate) fn prometheus_text() -> String {
    engine().prometheus()
}

/// Registers this module's functions.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(initialize, module)?)?;
    module.add_function(wrap_pyfunction!(is_enabled, module)?)?;
    module.add_function(wrap_pyfunction!(decide, module)?)?;
    module.add_function(wrap_pyfunction!(explain_json, module)?)?;
    module.add_function(wrap_pyfunction!(status_json, module)?)?;
    module.add_function(wrap_pyfunction!(set_feature_state, module)?)?;
    module.add_function(wrap_pyfunction!(clear_runtime_overrides, module)?)?;
    module.add_function(wrap_pyfunction!(reset_errors, module)?)?;
    module.add_function(wrap_pyfunction!(load_config, module)?)?;
    module.add_function(wrap_pyfunction!(reload_config, module)?)?;
    module.add_function(wrap_pyfunction!(validate_file, module)?)?;
    module.add_function(wrap_pyfunction!(alert_file, module)?)?;
    module.add_function(wrap_pyfunction!(record_success, module)?)?;
    module.add_function(wrap_pyfunction!(record_error, module)?)?;
    module.add_function(wrap_pyfunction!(record_fallback, module)?)?;
    module.add_function(wrap_pyfunction!(record_decline, module)?)?;
    module.add_function(wrap_pyfunction!(record_shadow, module)?)?;
    module.add_function(wrap_pyfunction!(record_shadow_drop, module)?)?;
    module.add_function(wrap_pyfunction!(performance_stats_json, module)?)?;
    module.add_function(wrap_pyfunction!(prometheus_text, module)?)?;
    Ok(())
}
