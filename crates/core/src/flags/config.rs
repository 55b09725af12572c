//! Reading configuration from its sources and resolving it into one validated whole.
//!
//! Sources, lowest precedence first: built-in defaults, the JSON file, `LITELLM_RUST_<FEATURE>`
//! environment variables, runtime calls. Each source is parsed into a [`Layer`] that holds only
//! what that source sets; [`resolve`] lays them over the defaults and checks the result as a
//! whole (dependencies, cycles, required percentages). Every problem is collected, none stops
//! the check early, so a user fixes a file in one pass.

use super::error::Problem;
use super::json::{self, Json};
use super::settings::{
    is_valid_feature_name, FeatureSettings, FeatureState, GlobalSettings, Source, BUILTINS,
    CUSTOM_ERROR_THRESHOLD, CUSTOM_PERFORMANCE_THRESHOLD_MS, MAX_NAME_LEN, RESERVED_NAMES,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Prefix of every environment variable litellm-rust reads.
pub const ENV_PREFIX: &str = "LITELLM_RUST_";

const FEATURE_KEYS: [&str; 7] = [
    "state",
    "rollout_percentage",
    "error_threshold",
    "performance_threshold_ms",
    "fallback_on_error",
    "dependencies",
    "group_id",
];
const GLOBAL_KEYS: [&str; 6] = [
    "enable_automatic_degradation",
    "enable_performance_alerts",
    "metrics_retention_hours",
    "performance_window",
    "recovery_after_s",
    "shadow_mismatch_threshold",
];
const TOP_KEYS: [&str; 2] = ["features", "global_settings"];
const MAX_GROUP_ID_LEN: usize = 256;
const ENV_FORMS: &str = "true, false, enabled, disabled, shadow, canary:N or rollout:N \
                         (N a number from 0 to 100; case-insensitive)";

/// What one source sets for one feature; `None` leaves the lower source's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureLayer {
    /// `state`.
    pub state: Option<FeatureState>,
    /// `rollout_percentage`.
    pub rollout_percentage: Option<f64>,
    /// `error_threshold`.
    pub error_threshold: Option<u32>,
    /// `performance_threshold_ms`.
    pub performance_threshold_ms: Option<f64>,
    /// `fallback_on_error`.
    pub fallback_on_error: Option<bool>,
    /// `dependencies`.
    pub dependencies: Option<Vec<String>>,
    /// `group_id`.
    pub group_id: Option<String>,
}

/// What one source sets for the global settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalLayer {
    /// `enable_automatic_degradation`.
    pub enable_automatic_degradation: Option<bool>,
    /// `enable_performance_alerts`.
    pub enable_performance_alerts: Option<bool>,
    /// `metrics_retention_hours`.
    pub metrics_retention_hours: Option<f64>,
    /// `performance_window`.
    pub performance_window: Option<u32>,
    /// `recovery_after_s`.
    pub recovery_after_s: Option<f64>,
    /// `shadow_mismatch_threshold`.
    pub shadow_mismatch_threshold: Option<f64>,
}

/// Everything one source sets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layer {
    /// Per feature: the settings and the source that set them.
    pub features: BTreeMap<String, (Source, FeatureLayer)>,
    /// Global settings, with their source when any is set.
    pub global: Option<(Source, GlobalLayer)>,
}

/// The settings the environment gives that are not features.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvSettings {
    /// `LITELLM_RUST_DISABLE_ALL`: turn every feature off.
    pub disable_all: bool,
    /// `LITELLM_RUST_FEATURE_CONFIG`: the JSON file to read.
    pub feature_config: Option<String>,
    /// `LITELLM_RUST_ALERT_FILE`: where alerts are appended.
    pub alert_file: Option<String>,
    /// `LITELLM_RUST_DEBUG`: send debug records to Python logging.
    pub debug: bool,
}

/// Which source set each setting of a feature.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSources {
    /// Source of `state`.
    pub state: Source,
    /// Source of `rollout_percentage`.
    pub rollout_percentage: Source,
    /// Source of `error_threshold`.
    pub error_threshold: Source,
    /// Source of `performance_threshold_ms`.
    pub performance_threshold_ms: Source,
    /// Source of `fallback_on_error`.
    pub fallback_on_error: Source,
    /// Source of `dependencies`.
    pub dependencies: Source,
    /// Source of `group_id`.
    pub group_id: Source,
}

impl FieldSources {
    fn all_default() -> Self {
        Self {
            state: Source::Default,
            rollout_percentage: Source::Default,
            error_threshold: Source::Default,
            performance_threshold_ms: Source::Default,
            fallback_on_error: Source::Default,
            dependencies: Source::Default,
            group_id: Source::Default,
        }
    }

    /// `(setting name, source)` pairs, in the order of the JSON schema.
    pub fn pairs(&self) -> [(&'static str, &Source); 7] {
        [
            ("state", &self.state),
            ("rollout_percentage", &self.rollout_percentage),
            ("error_threshold", &self.error_threshold),
            ("performance_threshold_ms", &self.performance_threshold_ms),
            ("fallback_on_error", &self.fallback_on_error),
            ("dependencies", &self.dependencies),
            ("group_id", &self.group_id),
        ]
    }
}

/// One feature of a resolved configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedFeature {
    /// The feature name.
    pub name: String,
    /// Its settings after every source was applied.
    pub settings: FeatureSettings,
    /// Where each setting came from.
    pub sources: FieldSources,
    /// Whether litellm-rust defines it (otherwise a configuration source does).
    pub builtin: bool,
    /// What it accelerates; empty for custom features.
    pub description: &'static str,
}

/// A validated configuration: every feature, sorted by name, and the global settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedConfig {
    /// Every feature, sorted by name.
    pub features: Vec<ResolvedFeature>,
    /// The global settings.
    pub global: GlobalSettings,
}

/// Parses the environment: the non-feature settings and the layer of feature variables.
///
/// Variables with an empty value count as unset, as shells often export empty variables.
pub fn parse_env<I, K, V>(vars: I) -> (EnvSettings, Layer, Vec<Problem>)
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut settings = EnvSettings::default();
    let mut layer = Layer::default();
    let mut problems = Vec::new();
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, v)| k.as_ref().starts_with(ENV_PREFIX) && !v.as_ref().trim().is_empty())
        .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
        .collect();
    // Sorted so that problems are reported in a stable order.
    vars.sort();

    for (var, value) in vars {
        let source = Source::Env(var.clone());
        let name = var[ENV_PREFIX.len()..].to_ascii_lowercase();
        let mut problem = |message: String| {
            problems.push(Problem::new(source.to_string(), "", message));
        };
        match name.as_str() {
            "disable_all" => match parse_bool(&value) {
                Some(b) => settings.disable_all = b,
                None => problem(format!("'{value}' is not a boolean; use true or false")),
            },
            "debug" => match parse_bool(&value) {
                Some(b) => settings.debug = b,
                None => problem(format!("'{value}' is not a boolean; use true or false")),
            },
            "feature_config" => settings.feature_config = Some(value),
            "alert_file" => settings.alert_file = Some(value),
            _ if !is_valid_feature_name(&name) => problem(format!(
                "'{name}' is not a valid feature name; a name is 1 to {MAX_NAME_LEN} characters \
                 of a-z, 0-9 and _"
            )),
            _ => match parse_env_state(&value) {
                Some((state, rollout_percentage)) => {
                    let entry = FeatureLayer {
                        state: Some(state),
                        rollout_percentage,
                        ..Default::default()
                    };
                    layer.features.insert(name, (source, entry));
                }
                None => problem(format!(
                    "'{value}' is not a feature setting; use {ENV_FORMS}"
                )),
            },
        }
    }
    (settings, layer, problems)
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_env_state(value: &str) -> Option<(FeatureState, Option<f64>)> {
    let lower = value.to_ascii_lowercase();
    match lower.as_str() {
        "true" | "enabled" => return Some((FeatureState::Enabled, None)),
        "false" | "disabled" => return Some((FeatureState::Disabled, None)),
        "shadow" => return Some((FeatureState::Shadow, None)),
        _ => {}
    }
    let (kind, number) = lower.split_once(':')?;
    let state = match kind.trim() {
        "canary" => FeatureState::Canary,
        "rollout" => FeatureState::GradualRollout,
        _ => return None,
    };
    let percentage: f64 = number.trim().parse().ok()?;
    is_percentage(percentage).then_some((state, Some(percentage)))
}

fn is_percentage(value: f64) -> bool {
    value.is_finite() && (0.0..=100.0).contains(&value)
}

/// Reads and parses the JSON configuration file at `path`.
///
/// Returns what could be read (`None` when nothing could) and every problem found, so that
/// cross-feature checks can still run on the readable part and report their problems too.
///
/// Refuses a file that group or others may write: whoever can write it controls which code
/// paths serve production traffic.
pub fn parse_file(path: &Path) -> (Option<Layer>, Vec<Problem>) {
    let source = Source::File(path.display().to_string());
    let fail = |message: String| (None, vec![Problem::new(source.to_string(), "", message)]);

    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) => return fail(format!("cannot read the configuration file: {e}")),
    };
    if !metadata.is_file() {
        return fail("is not a regular file; give the path of a JSON file".to_owned());
    }
    if let Err(message) = check_permissions(&metadata) {
        return fail(message);
    }
    match std::fs::read_to_string(path) {
        Ok(text) => parse_json(&text, source),
        Err(e) => fail(format!("cannot read the configuration file: {e}")),
    }
}

#[cfg(unix)]
fn check_permissions(metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode();
    if mode & 0o022 != 0 {
        return Err(format!(
            "refused: the file is writable by group or others (mode {:o}); make it writable by \
             its owner only, e.g. chmod 644 or 600",
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_metadata: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Parses configuration JSON read from `source`: what could be read, and every problem.
pub fn parse_json(text: &str, source: Source) -> (Option<Layer>, Vec<Problem>) {
    let origin = source.to_string();
    let document = match json::parse(text) {
        Ok(document) => document,
        Err(e) => {
            let message = format!(
                "malformed JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            );
            return (None, vec![Problem::new(origin, "", message)]);
        }
    };
    let mut checker = Checker {
        origin,
        problems: Vec::new(),
    };
    let layer = checker.document(&document, &source);
    (Some(layer), checker.problems)
}

/// Every problem of the configuration file at `path`, read alone over the defaults.
pub fn check_file(path: &Path) -> Vec<Problem> {
    let (layer, mut problems) = parse_file(path);
    if let Some(layer) = layer {
        if let Err(found) = resolve(&[&layer]) {
            problems.extend(found);
        }
    }
    problems
}

// serde_json appends " at line L column C" to its messages; we give the position ourselves.
fn strip_position(message: &str) -> &str {
    message.find(" at line ").map_or(message, |i| &message[..i])
}

struct Checker {
    origin: String,
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, key: &str, message: String) {
        self.problems
            .push(Problem::new(self.origin.clone(), key, message));
    }

    /// The entries of an object, reporting duplicate and unknown keys.
    fn object<'a>(
        &mut self,
        value: &'a Json,
        path: &str,
        allowed: Option<&[&str]>,
    ) -> Vec<(&'a str, &'a Json)> {
        let Json::Object(entries) = value else {
            let what = if path.is_empty() {
                "the document"
            } else {
                path
            };
            self.problem(
                path,
                format!("{what} must be a JSON object, got {}", value.describe()),
            );
            return Vec::new();
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut kept = Vec::new();
        for (key, item) in entries {
            let full = join(path, key);
            if seen.contains(&key.as_str()) {
                self.problem(&full, "duplicate key; write each key once".to_owned());
                continue;
            }
            seen.push(key);
            if let Some(allowed) = allowed {
                if !allowed.contains(&key.as_str()) {
                    let hint = suggestion(key, allowed);
                    self.problem(
                        &full,
                        format!("unknown key{hint}; accepted keys: {}", allowed.join(", ")),
                    );
                    continue;
                }
            }
            kept.push((key.as_str(), item));
        }
        kept
    }

    fn document(&mut self, document: &Json, source: &Source) -> Layer {
        let mut layer = Layer::default();
        for (key, value) in self.object(document, "", Some(&TOP_KEYS)) {
            match key {
                "features" => {
                    for (name, entry) in self.object(value, "features", None) {
                        if let Some(feature) = self.feature(name, entry) {
                            layer
                                .features
                                .insert(name.to_owned(), (source.clone(), feature));
                        }
                    }
                }
                _ => layer.global = Some((source.clone(), self.global(value))),
            }
        }
        layer
    }

    fn feature(&mut self, name: &str, value: &Json) -> Option<FeatureLayer> {
        let path = join("features", name);
        if !is_valid_feature_name(name) {
            self.problem(
                &path,
                format!(
                    "'{name}' is not a valid feature name; a name is 1 to {MAX_NAME_LEN} \
                     characters of a-z, 0-9 and _"
                ),
            );
            return None;
        }
        if RESERVED_NAMES.contains(&name) {
            self.problem(
                &path,
                format!("'{name}' is a reserved setting name, not a feature; choose another name"),
            );
            return None;
        }
        let mut layer = FeatureLayer::default();
        for (key, item) in self.object(value, &path, Some(&FEATURE_KEYS)) {
            let at = join(&path, key);
            match key {
                "state" => layer.state = self.state(&at, item),
                "rollout_percentage" => layer.rollout_percentage = self.percentage(&at, item),
                "error_threshold" => layer.error_threshold = self.threshold_count(&at, item),
                "performance_threshold_ms" => {
                    layer.performance_threshold_ms = self.positive(&at, item)
                }
                "fallback_on_error" => layer.fallback_on_error = self.boolean(&at, item),
                "dependencies" => layer.dependencies = self.dependencies(&at, item),
                _ => layer.group_id = self.group_id(&at, item),
            }
        }
        Some(layer)
    }

    fn global(&mut self, value: &Json) -> GlobalLayer {
        let mut layer = GlobalLayer::default();
        for (key, item) in self.object(value, "global_settings", Some(&GLOBAL_KEYS)) {
            let at = join("global_settings", key);
            match key {
                "enable_automatic_degradation" => {
                    layer.enable_automatic_degradation = self.boolean(&at, item)
                }
                "enable_performance_alerts" => {
                    layer.enable_performance_alerts = self.boolean(&at, item)
                }
                "metrics_retention_hours" => {
                    layer.metrics_retention_hours = self.positive(&at, item)
                }
                "performance_window" => layer.performance_window = self.threshold_count(&at, item),
                "recovery_after_s" => layer.recovery_after_s = self.positive(&at, item),
                _ => layer.shadow_mismatch_threshold = self.fraction(&at, item),
            }
        }
        layer
    }

    fn state(&mut self, at: &str, value: &Json) -> Option<FeatureState> {
        let accepted = FeatureState::ALL.map(FeatureState::as_str).join(", ");
        match value {
            Json::String(text) => {
                let state = FeatureState::parse(text);
                if state.is_none() {
                    self.problem(at, format!("unknown state '{text}'; accepted: {accepted}"));
                }
                state
            }
            other => {
                let got = other.describe();
                self.problem(
                    at,
                    format!("expected a state string ({accepted}), got {got}"),
                );
                None
            }
        }
    }

    fn percentage(&mut self, at: &str, value: &Json) -> Option<f64> {
        match value {
            Json::Number(n) if is_percentage(*n) => Some(*n),
            other => {
                let got = other.describe();
                self.problem(at, format!("expected a number from 0 to 100, got {got}"));
                None
            }
        }
    }

    fn threshold_count(&mut self, at: &str, value: &Json) -> Option<u32> {
        match value {
            Json::Number(n) if n.fract() == 0.0 && *n >= 1.0 && *n <= f64::from(u32::MAX) => {
                Some(*n as u32)
            }
            other => {
                let got = other.describe();
                self.problem(
                    at,
                    format!("expected a whole number of at least 1, got {got}"),
                );
                None
            }
        }
    }

    fn positive(&mut self, at: &str, value: &Json) -> Option<f64> {
        match value {
            Json::Number(n) if n.is_finite() && *n > 0.0 => Some(*n),
            other => {
                let got = other.describe();
                self.problem(at, format!("expected a number greater than 0, got {got}"));
                None
            }
        }
    }

    fn fraction(&mut self, at: &str, value: &Json) -> Option<f64> {
        match value {
            Json::Number(n) if n.is_finite() && (0.0..=1.0).contains(n) => Some(*n),
            other => {
                let got = other.describe();
                self.problem(at, format!("expected a fraction from 0 to 1, got {got}"));
                None
            }
        }
    }

    fn boolean(&mut self, at: &str, value: &Json) -> Option<bool> {
        match value {
            Json::Bool(b) => Some(*b),
            other => {
                let got = other.describe();
                self.problem(at, format!("expected true or false, got {got}"));
                None
            }
        }
    }

    fn dependencies(&mut self, at: &str, value: &Json) -> Option<Vec<String>> {
        let Json::Array(items) = value else {
            let got = value.describe();
            self.problem(at, format!("expected an array of feature names, got {got}"));
            return None;
        };
        let mut names: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_at = format!("{at}[{i}]");
            match item {
                Json::String(name) if !is_valid_feature_name(name) => self.problem(
                    &item_at,
                    format!(
                        "'{name}' is not a valid feature name; a name is 1 to {MAX_NAME_LEN} \
                         characters of a-z, 0-9 and _"
                    ),
                ),
                Json::String(name) if names.contains(name) => {
                    self.problem(&item_at, format!("'{name}' is listed twice"))
                }
                Json::String(name) => names.push(name.clone()),
                other => {
                    let got = other.describe();
                    self.problem(
                        &item_at,
                        format!("expected a feature name string, got {got}"),
                    )
                }
            }
        }
        Some(names)
    }

    fn group_id(&mut self, at: &str, value: &Json) -> Option<String> {
        match value {
            Json::String(text) if !text.is_empty() && text.len() <= MAX_GROUP_ID_LEN => {
                Some(text.clone())
            }
            other => {
                let got = other.describe();
                self.problem(
                    at,
                    format!("expected a string of 1 to {MAX_GROUP_ID_LEN} bytes, got {got}"),
                );
                None
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// `" (did you mean 'x'?)"` when an accepted key is close to the unknown one.
fn suggestion(unknown: &str, accepted: &[&str]) -> String {
    accepted
        .iter()
        .map(|candidate| (edit_distance(unknown, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 3 || candidate.starts_with(unknown) || unknown.starts_with(*candidate)
        })
        .min_by_key(|(distance, _)| *distance)
        .map_or_else(String::new, |(_, candidate)| {
            format!(" (did you mean '{candidate}'?)")
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Lays `layers` (lowest precedence first) over the built-in defaults and checks the result.
pub fn resolve(layers: &[&Layer]) -> Result<ResolvedConfig, Vec<Problem>> {
    struct Draft {
        settings: FeatureSettings,
        rollout_set: bool,
        sources: FieldSources,
        builtin: bool,
        description: &'static str,
    }

    let mut drafts: BTreeMap<String, Draft> = BUILTINS
        .iter()
        .map(|b| {
            let settings = FeatureSettings {
                state: b.state,
                rollout_percentage: b.rollout_percentage,
                error_threshold: b.error_threshold,
                performance_threshold_ms: b.performance_threshold_ms,
                fallback_on_error: true,
                dependencies: b.dependencies.iter().map(|d| (*d).to_owned()).collect(),
                group_id: None,
            };
            let draft = Draft {
                settings,
                rollout_set: true,
                sources: FieldSources::all_default(),
                builtin: true,
                description: b.description,
            };
            (b.name.to_owned(), draft)
        })
        .collect();
    let mut global = GlobalSettings::default();

    for layer in layers {
        for (name, (source, entry)) in &layer.features {
            let draft = drafts.entry(name.clone()).or_insert_with(|| Draft {
                // A custom feature is off until a source turns it on.
                settings: FeatureSettings {
                    state: FeatureState::Disabled,
                    rollout_percentage: 100.0,
                    error_threshold: CUSTOM_ERROR_THRESHOLD,
                    performance_threshold_ms: CUSTOM_PERFORMANCE_THRESHOLD_MS,
                    fallback_on_error: true,
                    dependencies: Vec::new(),
                    group_id: None,
                },
                rollout_set: false,
                sources: FieldSources::all_default(),
                builtin: false,
                description: "",
            });
            let (s, src) = (&mut draft.settings, &mut draft.sources);
            if let Some(v) = entry.state {
                (s.state, src.state) = (v, source.clone());
            }
            if let Some(v) = entry.rollout_percentage {
                (s.rollout_percentage, src.rollout_percentage) = (v, source.clone());
                draft.rollout_set = true;
            }
            if let Some(v) = entry.error_threshold {
                (s.error_threshold, src.error_threshold) = (v, source.clone());
            }
            if let Some(v) = entry.performance_threshold_ms {
                (s.performance_threshold_ms, src.performance_threshold_ms) = (v, source.clone());
            }
            if let Some(v) = entry.fallback_on_error {
                (s.fallback_on_error, src.fallback_on_error) = (v, source.clone());
            }
            if let Some(v) = &entry.dependencies {
                (s.dependencies, src.dependencies) = (v.clone(), source.clone());
            }
            if let Some(v) = &entry.group_id {
                (s.group_id, src.group_id) = (Some(v.clone()), source.clone());
            }
        }
        if let Some((_, g)) = &layer.global {
            if let Some(v) = g.enable_automatic_degradation {
                global.enable_automatic_degradation = v;
            }
            if let Some(v) = g.enable_performance_alerts {
                global.enable_performance_alerts = v;
            }
            if let Some(v) = g.metrics_retention_hours {
                global.metrics_retention_hours = v;
            }
            if let Some(v) = g.performance_window {
                global.performance_window = v;
            }
            if let Some(v) = g.recovery_after_s {
                global.recovery_after_s = Some(v);
            }
            if let Some(v) = g.shadow_mismatch_threshold {
                global.shadow_mismatch_threshold = v;
            }
        }
    }

    let mut problems = Vec::new();
    for (name, draft) in &drafts {
        let state = draft.settings.state;
        // A canary or rollout with no percentage from any source would silently mean 100%.
        if matches!(state, FeatureState::Canary | FeatureState::GradualRollout)
            && !draft.rollout_set
        {
            problems.push(Problem::new(
                draft.sources.state.to_string(),
                join("features", name),
                format!(
                    "state '{state}' needs a rollout_percentage (a number from 0 to 100), and no \
                     source sets one for this custom feature"
                ),
            ));
        }
        for dependency in &draft.settings.dependencies {
            if !drafts.contains_key(dependency) {
                problems.push(Problem::new(
                    draft.sources.dependencies.to_string(),
                    format!("features.{name}.dependencies"),
                    format!(
                        "depends on unknown feature '{dependency}'; known features: {}",
                        drafts.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    let graph: BTreeMap<&str, Vec<&str>> = drafts
        .iter()
        .map(|(name, d)| {
            let deps = d.settings.dependencies.iter().map(String::as_str);
            (
                name.as_str(),
                deps.filter(|dep| drafts.contains_key(*dep)).collect(),
            )
        })
        .collect();
    for mut cycle in find_cycles(&graph) {
        // Blame the first link that a configuration source wrote: built-in links alone never
        // form a cycle, and the user must edit the link they wrote.
        cycle.pop();
        let written = |name: &&str| {
            drafts
                .get(*name)
                .is_some_and(|d| d.sources.dependencies != Source::Default)
        };
        let culprit = cycle.iter().position(written).unwrap_or(0);
        cycle.rotate_left(culprit);
        let Some(&first) = cycle.first() else {
            continue;
        };
        cycle.push(first);
        let source = drafts
            .get(first)
            .map(|d| d.sources.dependencies.to_string());
        problems.push(Problem::new(
            source.unwrap_or_default(),
            format!("features.{first}.dependencies"),
            format!(
                "dependency cycle: {}; remove one of these dependencies",
                cycle.join(" -> ")
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let features = drafts
        .into_iter()
        .map(|(name, d)| ResolvedFeature {
            name,
            settings: d.settings,
            sources: d.sources,
            builtin: d.builtin,
            description: d.description,
        })
        .collect();
    Ok(ResolvedConfig { features, global })
}

/// Each dependency cycle once, written from its alphabetically first feature back to itself.
fn find_cycles<'a>(graph: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, Vec<&'a str>>,
        marks: &mut BTreeMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
        cycles: &mut Vec<Vec<&'a str>>,
    ) {
        marks.insert(node, Mark::OnPath);
        path.push(node);
        for &next in graph.get(node).map(Vec::as_slice).unwrap_or_default() {
            match marks.get(next).copied().unwrap_or(Mark::New) {
                Mark::New => visit(next, graph, marks, path, cycles),
                Mark::OnPath => {
                    let start = path.iter().position(|n| *n == next).unwrap_or(0);
                    let mut cycle: Vec<&str> = path[start..].to_vec();
                    let lowest = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap_or(0);
                    cycle.rotate_left(lowest);
                    cycle.push(cycle[0]);
                    if !cycles.contains(&cycle) {
                        cycles.push(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node, Mark::Done);
    }

    let mut marks = BTreeMap::new();
    let mut cycles = Vec::new();
    for &node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            visit(node, graph, &mut marks, &mut Vec::new(), &mut cycles);
        }
    }
    cycles
}
