"""Performance data of every feature: counts, and latency per path over the retention period.

Latency percentiles come from log-linear histograms (a reported percentile is within 6.25% of
the exact value); averages, maxima and counts are exact. Samples older than
`metrics_retention_hours` no longer count.
"""

from __future__ import annotations

import json
from typing import Any

from litellm_rust import _native

FORMATS = ("json", "prometheus")


def get_performance_stats() -> dict[str, dict[str, Any]]:
    """Per feature: `calls`, `accelerated_calls`, `fallback_calls`, `errors`, the accelerated
    path's `avg_duration_ms`, `p50_ms`, `p95_ms`, `p99_ms`, `max_ms`, the shadow counts, and
    under `paths` the same latency figures for the accelerated, fallback and shadow paths."""
    stats: dict[str, dict[str, Any]] = json.loads(_native.performance_stats_json())
    return stats


def export_performance_data(format: str = "json") -> str:
    """The performance data as a JSON document, or in the Prometheus text exposition format
    (`format="prometheus"`, every metric named `litellm_rust_*`)."""
    if format == "json":
        return _native.performance_stats_json()
    if format == "prometheus":
        return _native.prometheus_text()
    raise ValueError(f"format: unknown format {format!r}; accepted: {', '.join(FORMATS)}")
