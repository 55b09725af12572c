"""The flag engine through the public Python API, against the user guide."""

from __future__ import annotations

import json
from pathlib import Path

import mmh3
import pytest

import litellm_rust
from conftest import run_python, write_config

GUIDE_JSON = (
    Path(litellm_rust.__file__).parent.joinpath("examples", "guide_config.json").read_text()
)

DEFAULTS = {
    "rust_routing": ("enabled", 100.0, []),
    "rust_token_counting": ("enabled", 100.0, []),
    "rust_rate_limiting": ("gradual_rollout", 75.0, []),
    "rust_connection_pooling": ("gradual_rollout", 50.0, []),
    "batch_token_counting": ("canary", 10.0, ["rust_token_counting"]),
    "async_routing": ("shadow", 5.0, ["rust_routing"]),
    "performance_monitoring": ("enabled", 100.0, []),
}


def test_defaults_match_the_guides_tables() -> None:
    features = litellm_rust.get_feature_status()["features"]

    assert set(features) == set(DEFAULTS)
    for name, (state, percentage, dependencies) in DEFAULTS.items():
        assert features[name]["state"] == state
        assert features[name]["rollout_percentage"] == percentage
        assert features[name]["dependencies"] == dependencies
        assert features[name]["error_count"] == 0
        assert features[name]["avg_performance_ms"] == 0.0


def test_guide_monitoring_snippet_runs() -> None:
    status = litellm_rust.get_feature_status()

    lines = [f"Features enabled: {status['global_status']['enabled_features']}"]
    for feature, data in status["features"].items():
        lines.append(f"{feature}: {data['state']} ({data['rollout_percentage']}%)")
        lines.append(f"  Errors: {data['error_count']}")
        lines.append(f"  Avg latency: {data['avg_performance_ms']:.2f}ms")

    assert "rust_routing: enabled (100.0%)" in lines
    assert status["global_status"]["enabled_features"] == [
        "batch_token_counting",
        "performance_monitoring",
        "rust_connection_pooling",
        "rust_rate_limiting",
        "rust_routing",
        "rust_token_counting",
    ]
    assert status["global_status"]["shadow_features"] == ["async_routing"]


def test_guide_json_example_loads(tmp_path: Path) -> None:
    path = write_config(tmp_path, GUIDE_JSON)

    litellm_rust.load_config(path)

    features = litellm_rust.get_feature_status()["features"]
    assert features["batch_token_counting"]["state"] == "canary"
    assert features["batch_token_counting"]["rollout_percentage"] == 15.0
    assert features["batch_token_counting"]["error_threshold"] == 2
    assert features["async_routing"]["error_threshold"] == 1
    assert features["rust_routing"]["performance_threshold_ms"] == 500.0
    assert features["rust_routing"]["sources"]["state"] == f"file:{path}"


def test_guide_shadow_example_defines_a_custom_feature(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '{"features": {"experimental_feature": {"state": "shadow", "rollout_percentage": 100.0,'
        ' "fallback_on_error": false}}}',
    )

    litellm_rust.load_config(path)

    assert litellm_rust.decide("experimental_feature", "k") == "shadow"
    assert litellm_rust.is_enabled("experimental_feature", "k") is False
    feature = litellm_rust.get_feature_status()["features"]["experimental_feature"]
    assert feature["fallback_on_error"] is False
    assert feature["builtin"] is False


ENV_FORMS = {
    "LITELLM_RUST_F_TRUE": ("true", "enabled", 100.0),
    "LITELLM_RUST_F_FALSE": ("FALSE", "disabled", 0.0),
    "LITELLM_RUST_F_ENABLED": ("Enabled", "enabled", 100.0),
    "LITELLM_RUST_F_DISABLED": ("disabled", "disabled", 0.0),
    "LITELLM_RUST_F_SHADOW": ("shadow", "shadow", 100.0),
    "LITELLM_RUST_F_CANARY": ("canary:10", "canary", 10.0),
    "LITELLM_RUST_F_ROLLOUT": ("ROLLOUT:25", "gradual_rollout", 25.0),
    "LITELLM_RUST_RUST_ROUTING": ("false", "disabled", 0.0),
    "LITELLM_RUST_BATCH_TOKEN_COUNTING": ("canary:10", "canary", 10.0),
    "LITELLM_RUST_ASYNC_ROUTING": ("rollout:25", "gradual_rollout", 25.0),
    "LITELLM_RUST_NEW_FEATURE": ("canary:5", "canary", 5.0),
}


def test_every_env_form_of_the_guide() -> None:
    env = {name: value for name, (value, _, _) in ENV_FORMS.items()}

    result = run_python(
        "import json, litellm_rust; print(json.dumps(litellm_rust.get_feature_status()))", **env
    )

    assert result.returncode == 0, result.stderr
    features = json.loads(result.stdout)["features"]
    for name, (_, state, percentage) in ENV_FORMS.items():
        feature = features[name.removeprefix("LITELLM_RUST_").lower()]
        assert (feature["state"], feature["rollout_percentage"]) == (state, percentage), name
        assert feature["sources"]["state"] == f"env:{name}"


def test_env_overrides_the_file_and_disable_all_overrides_everything(tmp_path: Path) -> None:
    path = write_config(tmp_path, GUIDE_JSON)
    code = (
        "import json, litellm_rust as l; "
        "l.set_feature_state('rust_token_counting', 'enabled'); "
        "print(json.dumps([l.get_feature_status(), "
        "[l.is_enabled(f, 'k') for f in l.get_feature_status()['features']]]))"
    )

    overridden = run_python(
        code,
        LITELLM_RUST_FEATURE_CONFIG=str(path),
        LITELLM_RUST_RUST_ROUTING="rollout:30",
    )
    killed = run_python(
        code, LITELLM_RUST_FEATURE_CONFIG=str(path), LITELLM_RUST_DISABLE_ALL="true"
    )

    status, _ = json.loads(overridden.stdout)
    assert status["features"]["rust_routing"]["state"] == "gradual_rollout"
    assert status["features"]["rust_routing"]["rollout_percentage"] == 30.0
    assert status["features"]["batch_token_counting"]["rollout_percentage"] == 15.0
    status, decisions = json.loads(killed.stdout)
    assert status["global_status"]["disable_all"] is True
    assert status["global_status"]["enabled_features"] == []
    assert decisions == [False] * 7


def test_bad_configuration_at_import_keeps_every_feature_on_python() -> None:
    result = run_python(
        "import json, litellm_rust as l; "
        "print(json.dumps([l.get_feature_status(), "
        "[l.is_enabled(f) for f in l.get_feature_status()['features']]]))",
        LITELLM_RUST_RUST_ROUTING="sometimes",
        LITELLM_RUST_FEATURE_CONFIG="/nonexistent/flags.json",
    )

    assert result.returncode == 0
    status, decisions = json.loads(result.stdout)
    assert decisions == [False] * 7
    configuration = status["global_status"]["configuration"]
    assert configuration["valid"] is False
    assert len(configuration["problems"]) == 2
    assert "env:LITELLM_RUST_RUST_ROUTING: 'sometimes' is not a feature setting" in (
        configuration["problems"][0] + configuration["problems"][1]
    )
    assert "every feature stays on LiteLLM's Python path" in result.stderr


def test_load_config_lists_every_problem_and_keeps_the_last_good(tmp_path: Path) -> None:
    good = write_config(tmp_path, '{"features": {"rust_routing": {"state": "disabled"}}}')
    bad = write_config(
        tmp_path,
        '{"features": {"rust_routing": {"state": "fast", "rollout_percent": 5},'
        ' "mine": {"state": "enabled", "dependencies": ["mine"]}}}',
        name="bad.json",
    )
    litellm_rust.load_config(good)

    with pytest.raises(litellm_rust.ConfigError) as caught:
        litellm_rust.load_config(bad)

    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, litellm_rust.LitellmRustError)
    assert len(caught.value.problems) == 3
    assert caught.value.problems[2].endswith(
        "dependency cycle: mine -> mine; remove one of these dependencies"
    )
    assert f"file:{bad}: features.rust_routing.state: unknown state 'fast'" in str(caught.value)
    assert "did you mean 'rollout_percentage'?" in str(caught.value)
    status = litellm_rust.get_feature_status()
    assert status["features"]["rust_routing"]["state"] == "disabled"
    assert status["global_status"]["configuration"]["file"] == str(good)
    assert status["global_status"]["configuration"]["last_rejected"]["problems"]


def test_cycle_across_the_file_is_named(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '{"features": {"rust_routing": {"dependencies": ["async_routing"]}}}',
    )

    with pytest.raises(litellm_rust.ConfigError) as caught:
        litellm_rust.load_config(path)

    assert caught.value.problems == [
        f"file:{path}: features.rust_routing.dependencies: dependency cycle: "
        "rust_routing -> async_routing -> rust_routing; remove one of these dependencies"
    ]


def test_malformed_json_is_located(tmp_path: Path) -> None:
    path = write_config(tmp_path, '{\n  "features": {\n    "x": {"state": "enabled",}\n  }\n}')

    with pytest.raises(litellm_rust.ConfigError, match="malformed JSON at line 3, column 30"):
        litellm_rust.load_config(path)


@pytest.mark.parametrize("mode", [0o666, 0o664, 0o646, 0o620])
def test_config_writable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_config(tmp_path, '{"features": {}}', mode=mode)

    with pytest.raises(litellm_rust.ConfigError, match="writable by group or others"):
        litellm_rust.load_config(path)


def test_reload_config_reads_env_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_RUST_RUST_ROUTING", "disabled")
    litellm_rust.reload_config()
    assert litellm_rust.is_enabled("rust_routing") is False

    monkeypatch.setenv("LITELLM_RUST_RUST_ROUTING", "nonsense")
    with pytest.raises(litellm_rust.ConfigError, match="LITELLM_RUST_RUST_ROUTING"):
        litellm_rust.reload_config()

    assert litellm_rust.is_enabled("rust_routing") is False


def test_unknown_features_are_off_never_an_error() -> None:
    assert litellm_rust.is_enabled("no_such_feature") is False
    assert litellm_rust.is_enabled("no_such_feature", "key") is False
    assert litellm_rust.decide("no_such_feature") == "off"
    assert litellm_rust.explain("no_such_feature")["reason"] == (
        "no feature of this name is built in or configured"
    )


def test_keyed_rollout_matches_unleash_bucketing() -> None:
    litellm_rust.set_feature_state("rust_rate_limiting", "gradual_rollout", 37)

    for i in range(2_000):
        key = f"team-{i}"
        bucket = mmh3.hash(f"rust_rate_limiting:{key}", 0, signed=False) % 100 + 1
        assert litellm_rust.is_enabled("rust_rate_limiting", key) is (bucket <= 37), key
        assert litellm_rust.explain("rust_rate_limiting", key)["bucket"] == bucket


def test_raising_a_rollout_keeps_every_key_that_was_in() -> None:
    keys = [f"user-{i}" for i in range(3_000)]
    previous: set[str] = set()
    for percentage in (0, 5, 10, 25, 50, 75, 100):
        litellm_rust.set_feature_state("rust_rate_limiting", "gradual_rollout", percentage)
        on = {k for k in keys if litellm_rust.is_enabled("rust_rate_limiting", k)}
        assert previous <= on
        assert abs(len(on) / len(keys) * 100 - percentage) < 3
        previous = on


def test_dependencies_must_be_on_for_the_same_key() -> None:
    litellm_rust.set_feature_state("rust_token_counting", "gradual_rollout", 50)
    litellm_rust.set_feature_state("batch_token_counting", "enabled")

    for i in range(500):
        key = f"k{i}"
        assert litellm_rust.is_enabled("batch_token_counting", key) is litellm_rust.is_enabled(
            "rust_token_counting", key
        )
    explanation = next(
        litellm_rust.explain("batch_token_counting", f"k{i}")
        for i in range(500)
        if not litellm_rust.is_enabled("rust_token_counting", f"k{i}")
    )
    assert explanation["reason"] == "dependency 'rust_token_counting' is not on for this key"


def test_set_feature_state_is_audited_and_validated() -> None:
    litellm_rust.set_feature_state("rust_routing", "canary", 12.5)

    status = litellm_rust.get_feature_status()
    assert status["features"]["rust_routing"]["state"] == "canary"
    assert status["features"]["rust_routing"]["sources"]["state"] == "runtime"
    last = status["global_status"]["audit_trail"][-1]
    assert (last["source"], last["action"], last["feature"]) == (
        "api",
        "set_feature_state",
        "rust_routing",
    )
    assert last["detail"] == "state set to canary at 12.5%"
    assert last["timestamp"].endswith("Z")
    with pytest.raises(litellm_rust.UnknownFeatureError) as unknown:
        litellm_rust.set_feature_state("rust_routng", "enabled")
    assert isinstance(unknown.value, LookupError)
    assert unknown.value.feature == "rust_routng"
    with pytest.raises(litellm_rust.ConfigError, match="unknown state 'on'; accepted: disabled"):
        litellm_rust.set_feature_state("rust_routing", "on")
    with pytest.raises(litellm_rust.ConfigError, match="not a number from 0 to 100"):
        litellm_rust.set_feature_state("rust_routing", "canary", 250)


def test_reset_errors_names_unknown_features() -> None:
    litellm_rust.reset_errors()
    litellm_rust.reset_errors("rust_routing")

    with pytest.raises(litellm_rust.UnknownFeatureError, match="unknown feature 'nope'"):
        litellm_rust.reset_errors("nope")


def test_import_is_cheap_and_leaves_litellm_alone() -> None:
    result = run_python("import sys, litellm_rust; print('litellm' in sys.modules)")

    assert result.stdout.strip() == "False"


def test_debug_env_sends_core_records_to_python_logging() -> None:
    quiet = run_python("import litellm_rust")
    debug = run_python("import litellm_rust", LITELLM_RUST_DEBUG="true")
    rust_log = run_python("import litellm_rust", RUST_LOG="debug")

    assert "configuration loaded" not in quiet.stderr
    assert "INFO litellm_rust.flags: configuration loaded" in debug.stderr
    assert "INFO litellm_rust.flags: configuration loaded" in rust_log.stderr


def test_health_check_reports_each_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    healthy = litellm_rust.health_check()
    monkeypatch.setenv("LITELLM_RUST_ALERT_FILE", str(tmp_path / "missing" / "alerts.log"))
    litellm_rust.reload_config()
    broken = litellm_rust.health_check()

    assert healthy["healthy"] is True
    assert set(healthy["checks"]) == {"native_module", "configuration", "alert_file"}
    assert broken["healthy"] is False
    assert broken["checks"]["alert_file"]["ok"] is False
    assert "does not exist" in broken["checks"]["alert_file"]["detail"]
    assert broken["checks"]["configuration"]["ok"] is True
