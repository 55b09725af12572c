"""Guarded calls: fallback, degradation, alerts, shadow comparison and exact counts."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import litellm_rust
from conftest import write_config
from litellm_rust.guard import shadow_runner


def python_sum(a: int, b: int) -> int:
    return a + b


def feature_status(name: str) -> dict:  # type: ignore[type-arg]
    return litellm_rust.get_feature_status()["features"][name]


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A feature name of this test's own: counters outlive configuration reloads."""
    return "adder_" + request.node.name.removeprefix("test_")[:50].replace("-", "_")


@pytest.fixture
def alert_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "alerts.log"
    monkeypatch.setenv("LITELLM_RUST_ALERT_FILE", str(path))
    litellm_rust.reload_config()
    return path


def configure(tmp_path: Path, features: dict, settings: dict | None = None) -> None:  # type: ignore[type-arg]
    document = {"features": features, "global_settings": settings or {}}
    litellm_rust.load_config(write_config(tmp_path, json.dumps(document), name="guard.json"))


def test_enabled_feature_serves_the_accelerated_answer(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "enabled"}})
    guarded = litellm_rust.guard(name, lambda a, b: a + b + 1000, python_sum)

    assert guarded(1, 2) == 1003
    status = feature_status(name)
    assert (status["calls"], status["accelerated_calls"], status["fallback_calls"]) == (1, 1, 0)


def test_disabled_feature_serves_the_fallback(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "disabled"}})
    guarded = litellm_rust.guard(name, lambda a, b: a + b + 1000, python_sum)

    assert guarded(1, b=2) == 3
    assert feature_status(name)["fallback_calls"] == 1


def test_errors_fall_back_then_degrade_with_one_critical_alert(
    name: str, tmp_path: Path, alert_file: Path
) -> None:
    configure(tmp_path, {name: {"state": "enabled", "error_threshold": 3}})
    calls = []

    def broken(a: int, b: int) -> int:
        calls.append((a, b))
        raise RuntimeError("accelerated path broke")

    guarded = litellm_rust.guard(name, broken, python_sum)

    answers = [guarded(i, 1) for i in range(6)]

    assert answers == [1, 2, 3, 4, 5, 6]
    assert len(calls) == 3
    status = feature_status(name)
    assert status["state"] == "disabled"
    assert status["degradation_reason"] == "error_threshold"
    assert (status["error_count"], status["total_errors"]) == (3, 3)
    lines = [json.loads(line) for line in alert_file.read_text().splitlines()]
    assert len(lines) == 1
    alert = lines[0]
    assert set(alert) == {"timestamp", "level", "feature", "kind", "message", "details"}
    assert (alert["level"], alert["feature"], alert["kind"]) == (
        "critical",
        name,
        "error_threshold",
    )
    assert alert["timestamp"].endswith("Z")
    assert alert["details"]["last_error"] == "RuntimeError: accelerated path broke"

    litellm_rust.reset_errors(name)

    assert feature_status(name)["state"] == "enabled"
    assert feature_status(name)["error_count"] == 0
    restored = json.loads(alert_file.read_text().splitlines()[-1])
    assert (restored["kind"], restored["level"]) == ("state_change", "warning")


def test_a_success_resets_the_consecutive_count(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "enabled", "error_threshold": 2}})

    def flaky(a: int, b: int) -> int:
        if a % 2:
            raise ValueError("odd")
        return a + b

    guarded = litellm_rust.guard(name, flaky, python_sum)
    for i in range(10):
        assert guarded(i, 1) == i + 1

    status = feature_status(name)
    assert status["state"] == "enabled"
    assert (status["error_count"], status["total_errors"]) == (1, 5)


def test_without_fallback_on_error_the_error_reaches_the_caller(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "enabled", "fallback_on_error": False}})

    def broken(a: int, b: int) -> int:
        raise KeyError("boom")

    guarded = litellm_rust.guard(name, broken, python_sum)

    with pytest.raises(KeyError, match="boom"):
        guarded(1, 2)
    assert feature_status(name)["total_errors"] == 1


def test_automatic_degradation_off_alerts_but_keeps_serving(
    name: str, tmp_path: Path, alert_file: Path
) -> None:
    configure(
        tmp_path,
        {name: {"state": "enabled", "error_threshold": 1}},
        {"enable_automatic_degradation": False},
    )

    def broken(a: int, b: int) -> int:
        raise RuntimeError("x")

    guarded = litellm_rust.guard(name, broken, python_sum)
    for _ in range(3):
        assert guarded(1, 1) == 2

    assert feature_status(name)["state"] == "enabled"
    lines = alert_file.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["details"]["degraded"] is False


def test_sustained_slowness_degrades_after_the_window(
    name: str, tmp_path: Path, alert_file: Path
) -> None:
    # A threshold of a millionth of a millisecond makes every call slow without sleeping.
    configure(
        tmp_path,
        {name: {"state": "enabled", "performance_threshold_ms": 0.000001}},
        {"performance_window": 3},
    )
    guarded = litellm_rust.guard(name, lambda a, b: a + b, python_sum)

    guarded(1, 1)
    guarded(1, 1)
    assert feature_status(name)["state"] == "enabled"
    guarded(1, 1)

    assert feature_status(name)["degradation_reason"] == "performance_threshold"
    alert = json.loads(alert_file.read_text().splitlines()[0])
    assert (alert["level"], alert["kind"]) == ("warning", "performance_threshold")


def test_shadow_serves_python_and_counts_mismatches(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "shadow", "rollout_percentage": 100}})

    def sometimes_wrong(a: int, b: int) -> int:
        if a == 7:
            raise ArithmeticError("seven")
        return a + b + (1 if a % 3 == 0 else 0)

    guarded = litellm_rust.guard(name, sometimes_wrong, python_sum)

    answers = [guarded(a, 10) for a in range(12)]
    shadow_runner.drain()

    assert answers == [a + 10 for a in range(12)]
    status = feature_status(name)
    assert status["shadow_runs"] == 11
    assert status["shadow_errors"] == 1
    assert status["shadow_mismatches"] == 4
    assert status["mismatch_samples"][0] == {
        "input": "((0, 10), {})",
        "expected": "10",
        "actual": "11",
    }
    assert status["state"] == "shadow"


def test_shadow_compare_function_decides_agreement(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "shadow", "rollout_percentage": 100}})
    guarded = litellm_rust.guard(
        name, lambda a, b: float(a + b) + 0.1, python_sum, compare=lambda x, y: abs(x - y) < 1
    )

    for a in range(5):
        guarded(a, 1)
    shadow_runner.drain()

    assert feature_status(name)["shadow_mismatches"] == 0
    assert feature_status(name)["shadow_runs"] == 5


def test_counts_are_exact_under_16_threads(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "gradual_rollout", "rollout_percentage": 50}})
    guarded = litellm_rust.guard(name, lambda a, b: a + b, python_sum, key=lambda a, b: str(a))
    per_thread = 2_000

    def hammer(offset: int) -> None:
        for i in range(per_thread):
            assert guarded(offset + i, 1) == offset + i + 1

    threads = [threading.Thread(target=hammer, args=(t * per_thread,)) for t in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    status = feature_status(name)
    expected_on = sum(litellm_rust.is_enabled(name, str(k)) for k in range(16 * per_thread))
    assert status["calls"] == 16 * per_thread
    assert status["accelerated_calls"] == expected_on
    assert status["fallback_calls"] == 16 * per_thread - expected_on


def test_a_rust_panic_is_answered_by_the_fallback(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "enabled"}})

    def panicking(a: int, b: int) -> int:
        raise litellm_rust._native.PanicException("index out of bounds")

    guarded = litellm_rust.guard(name, panicking, python_sum)

    assert guarded(2, 3) == 5
    status = feature_status(name)
    assert status["total_errors"] == 1
    assert status["last_error"]["message"] == "PanicException: index out of bounds"


def test_keyboard_interrupt_is_not_swallowed(name: str, tmp_path: Path) -> None:
    configure(tmp_path, {name: {"state": "enabled"}})

    def interrupted(a: int, b: int) -> int:
        raise KeyboardInterrupt

    guarded = litellm_rust.guard(name, interrupted, python_sum)

    with pytest.raises(KeyboardInterrupt):
        guarded(1, 1)


def test_recovery_probe_restores_a_degraded_feature(
    name: str, tmp_path: Path, alert_file: Path
) -> None:
    # A microsecond of recovery wait has always passed by the next call: no sleeping needed.
    configure(
        tmp_path,
        {name: {"state": "enabled", "error_threshold": 1}},
        {"recovery_after_s": 0.000001},
    )
    healthy = {"now": False}

    def accelerated(a: int, b: int) -> int:
        if not healthy["now"]:
            raise RuntimeError("down")
        return a + b

    guarded = litellm_rust.guard(name, accelerated, python_sum)
    assert guarded(1, 1) == 2
    assert feature_status(name)["degradation_reason"] == "error_threshold"

    assert guarded(1, 1) == 2  # the probe fails: still degraded, the wait restarts
    assert feature_status(name)["degraded"] is True
    healthy["now"] = True
    assert guarded(1, 1) == 2  # the probe succeeds

    status = feature_status(name)
    assert (status["state"], status["degraded"], status["error_count"]) == ("enabled", False, 0)
    kinds = [json.loads(line)["kind"] for line in alert_file.read_text().splitlines()]
    assert kinds == ["error_threshold", "state_change"]


def test_mismatch_rate_above_threshold_degrades_shadow(
    name: str, tmp_path: Path, alert_file: Path
) -> None:
    configure(
        tmp_path,
        {name: {"state": "shadow", "rollout_percentage": 100}},
        {"shadow_mismatch_threshold": 0.02},
    )
    guarded = litellm_rust.guard(name, lambda a, b: a + b + (a % 40 == 0), python_sum)

    for a in range(1, 100):
        guarded(a, 0)
    shadow_runner.drain()
    assert feature_status(name)["state"] == "shadow"  # 2 of 99 runs: not judged before 100
    guarded(120, 0)
    shadow_runner.drain()

    status = feature_status(name)
    assert (status["shadow_runs"], status["shadow_mismatches"]) == (100, 3)
    assert status["degradation_reason"] == "shadow_mismatch"
    alerts = [json.loads(line) for line in alert_file.read_text().splitlines()]
    assert [a["kind"] for a in alerts] == ["shadow_mismatch", "shadow_mismatch"]
    assert "3 of 100 shadow answers differ" in alerts[1]["message"]


def test_a_full_shadow_queue_drops_and_counts(name: str, tmp_path: Path) -> None:
    from litellm_rust.guard import _ShadowRunner

    configure(tmp_path, {name: {"state": "shadow", "rollout_percentage": 100}})
    runner = _ShadowRunner(capacity=2)
    release = threading.Event()

    def blocked(a: int, b: int) -> int:
        release.wait(timeout=30)
        return a + b

    for a in range(6):
        runner.submit(name, blocked, (a, 1), None, a + 1, None)
    release.set()
    runner.drain()

    status = feature_status(name)
    # One run is on the worker, two wait in the queue, and at least the other three drop.
    assert status["shadow_drops"] >= 3
    assert status["shadow_runs"] + status["shadow_drops"] == 6


def test_async_guard_serves_falls_back_and_shadows(name: str, tmp_path: Path) -> None:
    import asyncio

    from litellm_rust.guard import async_shadows

    async def python_path(a: int, b: int) -> int:
        return a + b

    async def fast_path(a: int, b: int) -> int:
        if a < 0:
            raise ValueError("negative")
        return a + b + (a == 3)

    async def scenario() -> list[int]:
        guarded = litellm_rust.guard(name, fast_path, python_path)
        answers = [await guarded(1, 1), await guarded(-1, 1)]
        errors.append(feature_status(name)["total_errors"])
        litellm_rust.set_feature_state(name, "shadow", 100)
        answers += [await guarded(a, 0) for a in range(5)]
        await async_shadows.drain()
        return answers

    configure(tmp_path, {name: {"state": "enabled"}})
    errors: list[int] = []

    assert asyncio.run(scenario()) == [2, 0, 0, 1, 2, 3, 4]
    assert errors == [1]
    status = feature_status(name)
    assert (status["shadow_runs"], status["shadow_mismatches"]) == (5, 1)
    assert status["mismatch_samples"][0]["actual"] == "4"


def test_mixing_sync_and_async_functions_is_refused(name: str) -> None:
    async def python_path(a: int) -> int:
        return a

    with pytest.raises(TypeError, match="must both be coroutine functions"):
        litellm_rust.guard(name, lambda a: a, python_path)
