//! Behaviour of the flag engine: sources and precedence, validation, decisions.
// Tests unwrap freely: a panic here is a failing test, not a user-facing crash.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use litellm_rust_core::clock::ManualClock;
use litellm_rust_core::flags::{
    bucket, parse_env, parse_json, resolve, Decision, DegradationReason, Engine, FeatureState,
    FileChoice, FlagError, Problem, Reason, Source,
};
use proptest::prelude::*;
use std::sync::Arc;

fn engine(env: &[(&str, &str)]) -> (Engine, Result<(), FlagError>) {
    Engine::from_env(
        Arc::new(ManualClock::new(1_796_312_682_000)),
        env.iter().copied(),
    )
}

fn problems_of(text: &str) -> Vec<String> {
    let (layer, mut problems) = parse_json(text, Source::File("cfg.json".into()));
    if let Some(layer) = layer {
        if let Err(found) = resolve(&[&layer]) {
            problems.extend(found);
        }
    }
    problems
        .iter()
        .map(|p| format!("{}: {}", p.key, p.message))
        .collect()
}

fn config_file(text: &str, mode: u32) -> tempfile_path::TempPath {
    tempfile_path::TempPath::new(text, mode)
}

mod tempfile_path {
    use std::os::unix::fs::PermissionsExt;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};

    static COUNTER: AtomicU32 = AtomicU32::new(0);

    /// A file in the temporary directory, removed on drop.
    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn new(text: &str, mode: u32) -> Self {
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let path = std::env::temp_dir().join(format!(
                "litellm-rust-flags-{}-{n}.json",
                std::process::id()
            ));
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

const GUIDE_EXAMPLE: &str = r#"{
  "features": {
    "rust_routing": {"state": "enabled", "rollout_percentage": 100.0, "error_threshold": 10,
                     "performance_threshold_ms": 500.0, "fallback_on_error": true},
    "rust_token_counting": {"state": "enabled", "rollout_percentage": 100.0,
                            "error_threshold": 5, "performance_threshold_ms": 100.0,
                            "fallback_on_error": true},
    "batch_token_counting": {"state": "canary", "rollout_percentage": 15.0, "error_threshold": 2,
                             "performance_threshold_ms": 80.0,
                             "dependencies": ["rust_token_counting"]},
    "async_routing": {"state": "shadow", "rollout_percentage": 5.0, "error_threshold": 1,
                      "performance_threshold_ms": 300.0, "dependencies": ["rust_routing"]}
  },
  "global_settings": {"enable_automatic_degradation": true, "enable_performance_alerts": true,
                      "metrics_retention_hours": 24}
}"#;

#[test]
fn defaults_are_the_guides_tables() {
    let (engine, outcome) = engine(&[]);
    assert!(outcome.is_ok());
    let status = engine.status();
    let expect = [
        ("rust_routing", "enabled", 100.0),
        ("rust_token_counting", "enabled", 100.0),
        ("rust_rate_limiting", "gradual_rollout", 75.0),
        ("rust_connection_pooling", "gradual_rollout", 50.0),
        ("batch_token_counting", "canary", 10.0),
        ("async_routing", "shadow", 5.0),
        ("performance_monitoring", "enabled", 100.0),
    ];
    for (name, state, percentage) in expect {
        let feature = &status["features"][name];
        assert_eq!(feature["state"], state, "{name}");
        assert_eq!(feature["rollout_percentage"], percentage, "{name}");
    }
    assert_eq!(
        status["features"]["batch_token_counting"]["dependencies"][0],
        "rust_token_counting"
    );
    assert_eq!(
        status["features"]["async_routing"]["dependencies"][0],
        "rust_routing"
    );
    assert_eq!(status["global_status"]["total_features"], 7);
}

#[test]
fn guide_example_file_loads() {
    let file = config_file(GUIDE_EXAMPLE, 0o644);
    let path = file.path().display().to_string();
    let (engine, outcome) = engine(&[("LITELLM_RUST_FEATURE_CONFIG", &path)]);

    assert!(outcome.is_ok(), "{outcome:?}");
    let status = engine.status();
    let batch = &status["features"]["batch_token_counting"];
    assert_eq!(batch["rollout_percentage"], 15.0);
    assert_eq!(batch["error_threshold"], 2);
    assert_eq!(
        batch["sources"]["rollout_percentage"],
        format!("file:{path}")
    );
    assert_eq!(batch["sources"]["fallback_on_error"], "default");
    assert_eq!(status["global_status"]["configuration"]["file"], path);
}

#[test]
fn precedence_is_default_file_env_runtime_then_kill_switch() {
    let file = config_file(
        r#"{"features": {"rust_routing": {"state": "canary", "rollout_percentage": 20}}}"#,
        0o600,
    );
    let path = file.path().display().to_string();
    let env = [("LITELLM_RUST_FEATURE_CONFIG", path.as_str())];
    let (engine_file, _) = engine(&env);
    let routing = &engine_file.status()["features"]["rust_routing"];
    assert_eq!(routing["state"], "canary");
    assert_eq!(routing["sources"]["state"], format!("file:{path}"));

    let env = [
        ("LITELLM_RUST_FEATURE_CONFIG", path.as_str()),
        ("LITELLM_RUST_RUST_ROUTING", "rollout:40"),
    ];
    let (engine_env, _) = engine(&env);
    let routing = &engine_env.status()["features"]["rust_routing"];
    assert_eq!(routing["state"], "gradual_rollout");
    assert_eq!(routing["rollout_percentage"], 40.0);
    assert_eq!(routing["sources"]["state"], "env:LITELLM_RUST_RUST_ROUTING");

    engine_env
        .set_feature_state("rust_routing", FeatureState::Disabled, None)
        .unwrap();
    let status = engine_env.status();
    assert_eq!(status["features"]["rust_routing"]["state"], "disabled");
    assert_eq!(
        status["features"]["rust_routing"]["sources"]["state"],
        "runtime"
    );
    let audit = status["global_status"]["audit_trail"].as_array().unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last["action"], "set_feature_state");
    assert_eq!(last["feature"], "rust_routing");
    assert_eq!(last["timestamp"], "2026-12-03T15:44:42.000Z");

    // Runtime changes survive a reload, since they rank above the file and env.
    engine_env.reload(env.iter().copied()).unwrap();
    assert!(!engine_env.is_enabled("rust_routing", Some("k")));
    engine_env.clear_runtime_overrides().unwrap();
    assert_eq!(
        engine_env.status()["features"]["rust_routing"]["state"],
        "gradual_rollout"
    );

    let mut env = env.to_vec();
    env.push(("LITELLM_RUST_DISABLE_ALL", "TRUE"));
    engine_env.reload(env.iter().copied()).unwrap();
    engine_env
        .set_feature_state("rust_routing", FeatureState::Enabled, None)
        .unwrap();
    let explanation = engine_env.explain("rust_routing", None);
    assert_eq!(explanation.decision, Decision::Off);
    assert_eq!(explanation.reason, Reason::KillSwitch);
    assert!(engine_env.status()["global_status"]["enabled_features"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn every_env_form_is_understood() {
    let cases: [(&str, FeatureState, Option<f64>); 10] = [
        ("true", FeatureState::Enabled, None),
        ("TRUE", FeatureState::Enabled, None),
        ("false", FeatureState::Disabled, None),
        ("enabled", FeatureState::Enabled, None),
        ("Disabled", FeatureState::Disabled, None),
        ("shadow", FeatureState::Shadow, None),
        ("canary:10", FeatureState::Canary, Some(10.0)),
        ("CANARY:2.5", FeatureState::Canary, Some(2.5)),
        ("rollout:25", FeatureState::GradualRollout, Some(25.0)),
        (" rollout: 100 ", FeatureState::GradualRollout, Some(100.0)),
    ];
    for (value, state, percentage) in cases {
        let (_, layer, problems) = parse_env([("LITELLM_RUST_ASYNC_ROUTING", value)]);
        assert!(problems.is_empty(), "{value}: {problems:?}");
        let (source, entry) = &layer.features["async_routing"];
        assert_eq!(*source, Source::Env("LITELLM_RUST_ASYNC_ROUTING".into()));
        assert_eq!(entry.state, Some(state), "{value}");
        assert_eq!(entry.rollout_percentage, percentage, "{value}");
    }
}

#[test]
fn bad_env_values_are_rejected_with_the_accepted_forms() {
    for value in [
        "yes",
        "canary",
        "canary:",
        "canary:abc",
        "rollout:101",
        "rollout:-1",
        "on:5",
    ] {
        let (_, _, problems) = parse_env([("LITELLM_RUST_RUST_ROUTING", value)]);
        assert_eq!(problems.len(), 1, "{value}");
        let text = problems[0].to_string();
        assert!(
            text.starts_with("env:LITELLM_RUST_RUST_ROUTING: "),
            "{text}"
        );
        assert!(text.contains("canary:N or rollout:N"), "{text}");
    }
    let (_, _, problems) = parse_env([("LITELLM_RUST_DISABLE_ALL", "maybe")]);
    assert!(problems[0].to_string().contains("use true or false"));
    let (_, _, problems) = parse_env([("LITELLM_RUST_BAD-NAME", "true")]);
    assert!(problems[0].to_string().contains("not a valid feature name"));
}

#[test]
fn env_defines_custom_features_and_reserves_settings() {
    let (settings, layer, problems) = parse_env([
        ("LITELLM_RUST_NEW_FEATURE", "canary:5"),
        ("LITELLM_RUST_DISABLE_ALL", "false"),
        ("LITELLM_RUST_ALERT_FILE", "/tmp/alerts.log"),
        ("LITELLM_RUST_DEBUG", "1"),
        ("LITELLM_RUST_EMPTY", ""),
        ("OTHER_VAR", "true"),
    ]);
    assert!(problems.is_empty());
    assert_eq!(layer.features.keys().collect::<Vec<_>>(), ["new_feature"]);
    assert_eq!(settings.alert_file.as_deref(), Some("/tmp/alerts.log"));
    assert!(settings.debug);
    assert!(!settings.disable_all);

    let (engine, outcome) = engine(&[("LITELLM_RUST_NEW_FEATURE", "canary:5")]);
    assert!(outcome.is_ok());
    let feature = &engine.status()["features"]["new_feature"];
    assert_eq!(feature["state"], "canary");
    assert_eq!(feature["rollout_percentage"], 5.0);
    assert_eq!(feature["builtin"], false);
}

#[test]
fn every_file_problem_is_reported_at_once() {
    let problems = problems_of(
        r#"{
        "features": {
            "rust_routing": {"state": "fast", "rollout_percent": 10},
            "rust_token_counting": {"rollout_percentage": 150, "error_threshold": -1,
                                    "performance_threshold_ms": "100"},
            "Bad-Name": {"state": "enabled"},
            "debug": {"state": "enabled"},
            "mine": {"state": "enabled", "dependencies": ["nowhere"], "fallback_on_error": 1},
            "mine2": {"state": "gradual_rollout"}
        },
        "global_settings": {"metrics_retention_hours": 0, "enable_alerts": true},
        "extra": 1
    }"#,
    );
    let expected = [
        "features.rust_routing.state: unknown state 'fast'; accepted: disabled, shadow, canary, gradual_rollout, enabled",
        "features.rust_routing.rollout_percent: unknown key (did you mean 'rollout_percentage'?)",
        "features.rust_token_counting.rollout_percentage: expected a number from 0 to 100, got number 150",
        "features.rust_token_counting.error_threshold: expected a whole number of at least 1, got number -1",
        "features.rust_token_counting.performance_threshold_ms: expected a number greater than 0, got string \"100\"",
        "features.Bad-Name: 'Bad-Name' is not a valid feature name",
        "features.debug: 'debug' is a reserved setting name",
        "features.mine.fallback_on_error: expected true or false, got number 1",
        "global_settings.metrics_retention_hours: expected a number greater than 0, got number 0",
        "global_settings.enable_alerts: unknown key",
        "extra: unknown key",
        "features.mine.dependencies: depends on unknown feature 'nowhere'",
        "features.mine2: state 'gradual_rollout' needs a rollout_percentage",
    ];
    for fragment in expected {
        assert!(
            problems.iter().any(|p| p.starts_with(fragment)),
            "missing {fragment}\n{problems:#?}"
        );
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
}

#[test]
fn cross_feature_problems_are_reported() {
    let problems = problems_of(
        r#"{"features": {
            "a": {"state": "enabled", "dependencies": ["b"]},
            "b": {"state": "enabled", "dependencies": ["c"]},
            "c": {"state": "enabled", "dependencies": ["a"]},
            "d": {"state": "enabled", "dependencies": ["nowhere"]},
            "e": {"state": "canary"}
        }}"#,
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("dependency cycle: a -> b -> c -> a")),
        "{problems:#?}"
    );
    assert!(problems
        .iter()
        .any(|p| p.starts_with("features.d.dependencies: depends on unknown feature 'nowhere'")));
    assert!(problems
        .iter()
        .any(|p| p.starts_with("features.e: state 'canary' needs a rollout_percentage")));
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn self_dependency_is_a_cycle() {
    let problems =
        problems_of(r#"{"features": {"x": {"state": "enabled", "dependencies": ["x"]}}}"#);
    assert_eq!(
        problems,
        ["features.x.dependencies: dependency cycle: x -> x; remove one of these dependencies"]
    );
}

#[test]
fn duplicate_keys_are_reported() {
    let problems =
        problems_of(r#"{"features": {"rust_routing": {"state": "enabled", "state": "disabled"}}}"#);
    assert_eq!(
        problems,
        ["features.rust_routing.state: duplicate key; write each key once"]
    );
}

#[test]
fn malformed_json_names_line_and_column() {
    let problems = problems_of("{\n  \"features\": {\n    \"rust_routing\": {\"state\": }\n  }\n}");
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with(": malformed JSON at line 3, column 31"),
        "{problems:?}"
    );
}

#[test]
fn unsafe_or_missing_files_are_refused_and_the_good_config_stays() {
    let good = config_file(
        r#"{"features": {"rust_routing": {"state": "disabled"}}}"#,
        0o600,
    );
    let writable = config_file(r#"{"features": {}}"#, 0o666);
    let group_writable = config_file(r#"{"features": {}}"#, 0o620);
    let (engine, outcome) = engine(&[]);
    assert!(outcome.is_ok());
    engine
        .load(
            Vec::<(String, String)>::new(),
            FileChoice::Path(good.path().into()),
        )
        .unwrap();

    for (file, fragment) in [
        (
            &writable,
            "refused: the file is writable by group or others (mode 666)",
        ),
        (
            &group_writable,
            "refused: the file is writable by group or others (mode 620)",
        ),
    ] {
        let err = engine
            .load(
                Vec::<(String, String)>::new(),
                FileChoice::Path(file.path().into()),
            )
            .unwrap_err();
        assert!(err.to_string().contains(fragment), "{err}");
    }
    let missing = std::path::PathBuf::from("/nonexistent/litellm-rust.json");
    let err = engine
        .load(Vec::<(String, String)>::new(), FileChoice::Path(missing))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("file:/nonexistent/litellm-rust.json: cannot read"),
        "{err}"
    );

    let status = engine.status();
    assert_eq!(status["features"]["rust_routing"]["state"], "disabled");
    assert_eq!(status["global_status"]["configuration"]["valid"], true);
    let rejected = &status["global_status"]["configuration"]["last_rejected"]["problems"][0];
    assert!(rejected
        .as_str()
        .unwrap()
        .contains("/nonexistent/litellm-rust.json"));
}

#[test]
fn bad_config_at_startup_holds_every_feature_off() {
    let (engine, outcome) = engine(&[
        ("LITELLM_RUST_RUST_ROUTING", "sometimes"),
        ("LITELLM_RUST_FEATURE_CONFIG", "/nonexistent.json"),
    ]);
    let Err(FlagError::InvalidConfig { problems }) = outcome else {
        panic!("expected problems")
    };
    assert_eq!(problems.len(), 2);

    for feature in [
        "rust_routing",
        "rust_token_counting",
        "performance_monitoring",
    ] {
        let explanation = engine.explain(feature, Some("user-1"));
        assert_eq!(explanation.decision, Decision::Off);
        assert_eq!(explanation.reason, Reason::InvalidConfig);
    }
    let status = engine.status();
    assert_eq!(status["global_status"]["configuration"]["valid"], false);
    assert_eq!(
        status["global_status"]["configuration"]["problems"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(status["features"]["rust_routing"]["state"], "disabled");
    assert!(engine
        .set_feature_state("rust_routing", FeatureState::Enabled, None)
        .is_err());

    engine
        .load(Vec::<(String, String)>::new(), FileChoice::FromEnv)
        .unwrap();
    assert!(engine.is_enabled("rust_routing", None));
}

#[test]
fn decisions_follow_state_and_dependencies() {
    let (engine, _) = engine(&[
        ("LITELLM_RUST_RUST_TOKEN_COUNTING", "disabled"),
        ("LITELLM_RUST_BATCH_TOKEN_COUNTING", "enabled"),
    ]);
    assert!(engine.is_enabled("rust_routing", Some("any")));
    assert!(!engine.is_enabled("rust_token_counting", Some("any")));
    let explanation = engine.explain("batch_token_counting", Some("any"));
    assert_eq!(explanation.decision, Decision::Off);
    assert_eq!(
        explanation.reason,
        Reason::Dependency("rust_token_counting".into())
    );
    assert!(!engine.is_enabled("no_such_feature", None));
    assert_eq!(
        engine.explain("no_such_feature", None).reason,
        Reason::UnknownFeature
    );
}

#[test]
fn shadow_decides_shadow_never_on() {
    let (engine, _) = engine(&[("LITELLM_RUST_ASYNC_ROUTING", "shadow")]);
    // async_routing's default rollout is 5%; pick keys inside and outside it.
    let inside = (0..1000)
        .map(|i| i.to_string())
        .find(|k| bucket("async_routing", k) <= 5)
        .unwrap();
    let outside = (0..1000)
        .map(|i| i.to_string())
        .find(|k| bucket("async_routing", k) > 5)
        .unwrap();
    assert_eq!(
        engine.decide("async_routing", Some(&inside)),
        Decision::Shadow
    );
    assert!(!engine.is_enabled("async_routing", Some(&inside)));
    assert_eq!(
        engine.decide("async_routing", Some(&outside)),
        Decision::Off
    );
}

#[test]
fn keyed_rollout_uses_the_unleash_bucket_and_group_id() {
    let file = config_file(
        r#"{"features": {"grouped": {"state": "gradual_rollout", "rollout_percentage": 50,
            "group_id": "shared"}}}"#,
        0o644,
    );
    let path = file.path().display().to_string();
    let (engine, outcome) = engine(&[("LITELLM_RUST_FEATURE_CONFIG", path.as_str())]);
    assert!(outcome.is_ok());
    for key in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        let explanation = engine.explain("grouped", Some(key));
        let expected = bucket("shared", key);
        assert_eq!(explanation.bucket, Some(expected));
        assert_eq!(
            explanation.decision == Decision::On,
            expected <= 50,
            "{key}"
        );
    }
}

#[test]
fn unkeyed_draws_track_the_percentage() {
    let (engine, _) = engine(&[("LITELLM_RUST_RUST_ROUTING", "rollout:30")]);
    let on = (0..20_000)
        .filter(|_| engine.is_enabled("rust_routing", None))
        .count();
    // 30% of 20,000 is 6,000 with a standard deviation of about 65.
    assert!((5_600..=6_400).contains(&on), "{on}");
}

#[test]
fn degradation_turns_a_feature_off_until_reset() {
    let (engine, _) = engine(&[]);
    let runtime = engine.runtime("rust_routing").unwrap();
    assert!(runtime.degrade(DegradationReason::ErrorThreshold, 0));
    assert!(!runtime.degrade(DegradationReason::PerformanceThreshold, 0));
    assert_eq!(
        engine.explain("rust_routing", None).reason,
        Reason::Degraded(DegradationReason::ErrorThreshold)
    );
    assert_eq!(
        engine.status()["features"]["rust_routing"]["degradation_reason"],
        "error_threshold"
    );
    // A dependent feature goes off with it.
    engine
        .set_feature_state("async_routing", FeatureState::Enabled, None)
        .unwrap();
    assert!(!engine.is_enabled("async_routing", Some("k")));

    engine.reset_errors(Some("rust_routing")).unwrap();
    assert!(engine.is_enabled("rust_routing", None));
    assert!(engine.is_enabled("async_routing", Some("k")));
    let unknown = engine.reset_errors(Some("nope")).unwrap_err();
    assert!(unknown
        .to_string()
        .starts_with("unknown feature 'nope'; known features: async_routing"));
}

#[test]
fn set_feature_state_validates_its_arguments() {
    let (engine, _) = engine(&[("LITELLM_RUST_MINE", "enabled")]);
    assert!(matches!(
        engine.set_feature_state("rust_routng", FeatureState::Disabled, None),
        Err(FlagError::UnknownFeature { .. })
    ));
    let err = engine
        .set_feature_state("rust_routing", FeatureState::Canary, Some(101.0))
        .unwrap_err();
    assert!(err
        .to_string()
        .contains("rollout_percentage 101 is not a number from 0 to 100"));
    // A custom feature has no percentage to inherit, so a canary must name one.
    let err = engine
        .set_feature_state("mine", FeatureState::Canary, None)
        .unwrap_err();
    assert!(
        err.to_string().contains("needs a rollout_percentage"),
        "{err}"
    );
    engine
        .set_feature_state("mine", FeatureState::Canary, Some(12.0))
        .unwrap();
    assert_eq!(
        engine.status()["features"]["mine"]["rollout_percentage"],
        12.0
    );
}

#[test]
fn problems_render_with_source_and_key() {
    let problem = Problem {
        source: "env:LITELLM_RUST_X".into(),
        key: String::new(),
        message: "bad".into(),
    };
    assert_eq!(problem.to_string(), "env:LITELLM_RUST_X: bad");
}

proptest! {
    #[test]
    fn raising_a_rollout_keeps_every_key_that_was_in(
        key in "[a-zA-Z0-9_-]{1,24}",
        low in 0u32..=100,
        high in 0u32..=100,
    ) {
        let (low, high) = (low.min(high), low.max(high));
        let (engine_low, _) = engine(&[("LITELLM_RUST_FEATURE_X", &format!("rollout:{low}"))]);
        let (engine_high, _) = engine(&[("LITELLM_RUST_FEATURE_X", &format!("rollout:{high}"))]);
        if engine_low.is_enabled("feature_x", Some(&key)) {
            prop_assert!(engine_high.is_enabled("feature_x", Some(&key)));
        }
    }

    #[test]
    fn keyed_decisions_are_stable(key in ".{0,32}", percentage in 0u32..=100) {
        let (engine, _) = engine(&[("LITELLM_RUST_FEATURE_X", &format!("canary:{percentage}"))]);
        let first = engine.is_enabled("feature_x", Some(&key));
        for _ in 0..5 {
            prop_assert_eq!(engine.is_enabled("feature_x", Some(&key)), first);
        }
        prop_assert_eq!(first, bucket("feature_x", &key) <= percentage);
    }
}

#[test]
fn a_thread_sees_every_change_and_keeps_engines_apart() {
    let (first, _) = engine(&[("LITELLM_RUST_RUST_ROUTING", "enabled")]);
    let (second, _) = engine(&[("LITELLM_RUST_RUST_ROUTING", "disabled")]);

    for _ in 0..3 {
        assert_eq!(first.decide("rust_routing", None), Decision::On);
        assert_eq!(second.decide("rust_routing", None), Decision::Off);
    }
    first
        .set_feature_state("rust_routing", FeatureState::Disabled, None)
        .unwrap();
    assert_eq!(first.decide("rust_routing", None), Decision::Off);
    second
        .set_feature_state("rust_routing", FeatureState::Enabled, None)
        .unwrap();
    assert_eq!(second.decide("rust_routing", None), Decision::On);

    let reader = std::thread::spawn(move || first.decide("rust_routing", None));
    assert_eq!(reader.join().unwrap(), Decision::Off);
}
