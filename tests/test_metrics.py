"""Performance statistics and their exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import litellm_rust
from conftest import write_config

METERED = UNMETERED = ""
COUNTER = iter(range(1_000_000))


def traffic(tmp_path: Path) -> None:
    # Counters outlive reloads, so each test meters features of its own.
    global METERED, UNMETERED
    n = next(COUNTER)
    METERED, UNMETERED = f"metered_{n}", f"unmetered_{n}"
    document = {
        "features": {
            METERED: {"state": "enabled", "error_threshold": 100},
            UNMETERED: {"state": "disabled"},
        }
    }
    litellm_rust.load_config(write_config(tmp_path, json.dumps(document), name="metrics.json"))

    def accelerated(n: int) -> int:
        if n % 10 == 0:
            raise RuntimeError("every tenth call fails")
        return n

    metered = litellm_rust.guard(METERED, accelerated, lambda n: n)
    unmetered = litellm_rust.guard(UNMETERED, accelerated, lambda n: n)
    for n in range(1, 101):
        assert metered(n) == n
        assert unmetered(n) == n


@pytest.fixture
def stats(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    traffic(tmp_path)
    return litellm_rust.get_performance_stats()


def test_stats_count_every_path(stats: dict) -> None:  # type: ignore[type-arg]
    metered = stats[METERED]
    assert (metered["calls"], metered["accelerated_calls"], metered["errors"]) == (100, 90, 10)
    assert metered["fallback_calls"] == 10
    assert metered["paths"]["accelerated"]["count"] == 100
    assert 0 < metered["p50_ms"] <= metered["p95_ms"] <= metered["p99_ms"] <= metered["max_ms"]
    assert metered["avg_duration_ms"] > 0
    unmetered = stats[UNMETERED]
    assert (unmetered["calls"], unmetered["fallback_calls"]) == (100, 100)
    assert unmetered["paths"]["fallback"]["count"] == 100
    assert unmetered["paths"]["accelerated"]["count"] == 0
    assert unmetered["avg_duration_ms"] == 0


def test_guide_troubleshooting_snippet_runs(stats: dict) -> None:  # type: ignore[type-arg]
    lines = [f"{c}: {d['avg_duration_ms']}ms avg" for c, d in stats.items()]

    assert len(lines) == len(litellm_rust.get_feature_status()["features"])


def test_json_export_is_the_stats(stats: dict) -> None:  # type: ignore[type-arg]
    exported = json.loads(litellm_rust.export_performance_data(format="json"))

    assert exported[METERED]["calls"] == stats[METERED]["calls"]
    assert exported[METERED]["errors"] == stats[METERED]["errors"]


def test_prometheus_export_parses_with_prometheus_client(stats: dict) -> None:  # type: ignore[type-arg]
    text = litellm_rust.export_performance_data(format="prometheus")

    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert all(name.startswith("litellm_rust_") for name in families)
    samples = {
        (s.name, s.labels.get("feature"), s.labels.get("path"), s.labels.get("quantile")): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("litellm_rust_calls_total", METERED, None, None)] == 100
    assert samples[("litellm_rust_errors_total", METERED, None, None)] == 10
    assert samples[("litellm_rust_fallback_calls_total", UNMETERED, None, None)] == 100
    assert samples[("litellm_rust_feature_enabled", METERED, None, None)] == 1
    assert samples[("litellm_rust_feature_enabled", UNMETERED, None, None)] == 0
    assert samples[("litellm_rust_latency_seconds_count", METERED, "accelerated", None)] == 100
    p99 = samples[("litellm_rust_latency_seconds", METERED, "accelerated", "0.99")]
    assert p99 == pytest.approx(stats[METERED]["p99_ms"] / 1000)
    assert families["litellm_rust_latency_seconds"].type == "summary"


def test_unknown_export_format_is_named() -> None:
    with pytest.raises(ValueError, match="unknown format 'xml'; accepted: json, prometheus"):
        litellm_rust.export_performance_data(format="xml")


def test_reset_errors_never_moves_a_counter_backwards(stats: dict) -> None:  # type: ignore[type-arg]
    def errors_total() -> float:
        text = litellm_rust.export_performance_data(format="prometheus")
        return next(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "litellm_rust_errors_total" and s.labels["feature"] == METERED
        )

    before = errors_total()
    litellm_rust.reset_errors(METERED)

    assert before == 10
    assert errors_total() == 10
    assert litellm_rust.get_performance_stats()[METERED]["errors"] == 10
    assert litellm_rust.get_feature_status()["features"][METERED]["total_errors"] == 0
