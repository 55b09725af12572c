"""The `litellm-rust` command: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import clean_env, write_config


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "litellm_rust", *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_status_prints_a_table_of_every_feature() -> None:
    result = cli("status")

    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "feature", "state", "rollout", "errors", "avg", "ms", "degraded", "state", "source"
    ]  # fmt: skip
    routing = next(line for line in lines if line.startswith("rust_routing "))
    assert routing.split()[:3] == ["rust_routing", "enabled", "100%"]
    assert "configuration valid: yes" in result.stdout


def test_status_json_is_the_feature_status() -> None:
    result = cli("status", "--json", LITELLM_RUST_RUST_ROUTING="canary:3")

    status = json.loads(result.stdout)
    assert status["features"]["rust_routing"]["state"] == "canary"
    assert status["features"]["rust_routing"]["rollout_percentage"] == 3.0


def test_status_exits_1_when_the_configuration_is_invalid() -> None:
    result = cli("status", LITELLM_RUST_DISABLE_ALL="perhaps")

    assert result.returncode == 1
    assert "configuration valid: NO" in result.stdout
    assert "env:LITELLM_RUST_DISABLE_ALL: 'perhaps' is not a boolean" in result.stdout


def test_validate_accepts_a_good_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, '{"features": {"rust_routing": {"state": "enabled"}}}')

    result = cli("validate", str(path))

    assert result.returncode == 0
    assert result.stdout.strip() == f"{path}: valid"


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '{"features": {"rust_routing": {"state": "on", "rollout_percentage": "50"},'
        ' "x": {"dependencies": ["ghost"]}}, "global": {}}',
    )

    result = cli("validate", str(path))

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"file:{path}: global: unknown key (did you mean 'global_settings'?); accepted keys: "
        "features, global_settings",
        f"file:{path}: features.rust_routing.state: unknown state 'on'; accepted: disabled, "
        "shadow, canary, gradual_rollout, enabled",
        f"file:{path}: features.rust_routing.rollout_percentage: expected a number from 0 to "
        '100, got string "50"',
        f"file:{path}: features.x.dependencies: depends on unknown feature 'ghost'; known "
        "features: async_routing, batch_token_counting, performance_monitoring, "
        "rust_connection_pooling, rust_rate_limiting, rust_routing, rust_token_counting, x",
    ]


def test_explain_shows_bucket_and_dependency() -> None:
    result = cli(
        "explain",
        "batch_token_counting",
        "--key",
        "user-7",
        "--json",
        LITELLM_RUST_BATCH_TOKEN_COUNTING="canary:100",
        LITELLM_RUST_RUST_TOKEN_COUNTING="disabled",
    )

    explanation = json.loads(result.stdout)
    assert result.returncode == 0
    assert explanation["decision"] == "off"
    assert explanation["reason"] == "dependency 'rust_token_counting' is not on for this key"
    assert 1 <= explanation["bucket"] <= 100
    assert explanation["dependencies"][0]["feature"] == "rust_token_counting"
    assert explanation["sources"]["state"] == "env:LITELLM_RUST_BATCH_TOKEN_COUNTING"


def test_explain_text_names_the_rule() -> None:
    result = cli("explain", "rust_routing", LITELLM_RUST_DISABLE_ALL="true")

    assert result.stdout.splitlines()[0] == (
        "rust_routing: off (LITELLM_RUST_DISABLE_ALL=true turns every feature off)"
    )


def test_bad_usage_exits_2() -> None:
    assert cli("frobnicate").returncode == 2
    assert cli("validate").returncode == 2
