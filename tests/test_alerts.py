"""The alert file: one JSON object per line, whole lines across processes, never fatal."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import litellm_rust
from conftest import clean_env, write_config

FIELDS = {"timestamp", "level", "feature", "kind", "message", "details"}

FLAPPING = """
import litellm_rust

def broken(n):
    raise RuntimeError("x" * 300)

guarded = litellm_rust.guard("flaky", broken, lambda n: n)
for n in range(50):
    assert guarded(n) == n          # degrades: one critical alert
    litellm_rust.reset_errors("flaky")  # restores: one warning alert
"""


def test_alert_lines_from_four_processes_stay_whole(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, '{"features": {"flaky": {"state": "enabled", "error_threshold": 1}}}'
    )
    alerts = tmp_path / "alerts.log"
    env = clean_env(LITELLM_RUST_FEATURE_CONFIG=str(config), LITELLM_RUST_ALERT_FILE=str(alerts))

    processes = [
        subprocess.Popen([sys.executable, "-c", FLAPPING], env=env, stderr=subprocess.DEVNULL)
        for _ in range(4)
    ]
    codes = [p.wait(timeout=120) for p in processes]

    assert codes == [0, 0, 0, 0]
    lines = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert len(lines) == 4 * 50 * 2
    assert all(set(line) == FIELDS for line in lines)
    kinds = sorted(line["kind"] for line in lines)
    assert kinds == ["error_threshold"] * 200 + ["state_change"] * 200
    assert {line["level"] for line in lines if line["kind"] == "error_threshold"} == {"critical"}


def test_an_unwritable_alert_file_is_logged_and_calls_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LITELLM_RUST_ALERT_FILE", str(tmp_path / "no" / "such" / "dir.log"))
    litellm_rust.load_config(
        write_config(
            tmp_path, '{"features": {"fragile": {"state": "enabled", "error_threshold": 1}}}'
        )
    )

    def broken(n: int) -> int:
        raise RuntimeError("down")

    guarded = litellm_rust.guard("fragile", broken, lambda n: n + 1)
    with caplog.at_level(logging.WARNING, logger="litellm_rust"):
        assert guarded(1) == 2
        assert guarded(2) == 3

    messages = [r.getMessage() for r in caplog.records if r.name == "litellm_rust.alerts"]
    assert any(m.startswith("error_threshold: fragile: 1 consecutive errors") for m in messages)
    assert any("cannot write the alert file" in m for m in messages)
    litellm_rust.reset_errors("fragile")


def test_a_rejected_configuration_is_alerted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = tmp_path / "alerts.log"
    monkeypatch.setenv("LITELLM_RUST_ALERT_FILE", str(alerts))
    litellm_rust.reload_config()

    with pytest.raises(litellm_rust.ConfigError):
        litellm_rust.load_config(write_config(tmp_path, '{"features": {"x": {"state": 1}}}'))

    (alert,) = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert (alert["level"], alert["kind"], alert["feature"]) == ("critical", "config_error", "")
    assert alert["details"]["problems"][0].endswith(
        "features.x.state: expected a state string "
        "(disabled, shadow, canary, gradual_rollout, "
        "enabled), got number 1"
    )
