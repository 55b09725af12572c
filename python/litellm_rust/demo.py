"""`make demo`: the flag engine and guarded calls on an embedded configuration.

1. Loads the user guide's example JSON shipped with the package, prints the status table,
   measures over 10,000 keys the share of calls each feature serves (or shadows) against its
   configured percentage, and explains one decision.
2. Sends traffic through guarded functions with injected faults and slowness: the canary's
   share, shadow mismatches, automatic degradation with its alert lines, `reset_errors`
   restoring a feature, and the Prometheus export.
3. Applies the token-counting acceleration to the real litellm and compares its counts and
   timings with litellm's own, in enabled, shadow and batch form (`demo_tokens`).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from litellm_rust.cli import render_explanation, render_status
from litellm_rust.flags import decide, explain, get_feature_status, load_config, reset_errors
from litellm_rust.guard import guard, shadow_runner
from litellm_rust.metrics import export_performance_data, get_performance_stats

KEYS = 10_000


def _heading(text: str, out: TextIO) -> None:
    print(f"\n== {text} ==", file=out)


def _write_private(path: Path, text: str) -> None:
    # The engine refuses configuration files that group or others may write.
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        file.write(text)


def run(out: TextIO) -> int:
    example = resources.files("litellm_rust").joinpath("examples/guide_config.json").read_text()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feature_config.json"
        _write_private(path, example)
        load_config(path)
        _flags(out)
        _guarded_traffic(Path(folder), json.loads(example), out)
    from litellm_rust.demo_tokens import run as run_tokens

    run_tokens(out)
    return 0


def _flags(out: TextIO) -> None:

    _heading("Status after loading the user guide's example", out)
    status = get_feature_status()
    print(render_status(status), file=out)

    _heading(f"Observed share over {KEYS:,} keys (sticky: murmur3 buckets, as Unleash)", out)
    print(f"{'feature':<26}{'state':<18}{'configured':>11}{'observed':>10}  decision", file=out)
    for name, feature in sorted(status["features"].items()):
        counts = {"on": 0, "off": 0, "shadow": 0}
        for i in range(KEYS):
            counts[decide(name, f"user-{i}")] += 1
        served = "shadow" if feature["state"] == "shadow" else "on"
        share = 100.0 * counts[served] / KEYS
        print(
            f"{name:<26}{feature['state']:<18}{feature['rollout_percentage']:>10g}%"
            f"{share:>9.2f}%  {served}",
            file=out,
        )
    print(
        "batch_token_counting and async_routing also need their dependency on for the key.",
        file=out,
    )

    _heading("Why is batch_token_counting on or off for user-42?", out)
    print(render_explanation(explain("batch_token_counting", "user-42")), file=out)


DEMO_FEATURES = {
    "demo_canary": {"state": "canary", "rollout_percentage": 10},
    "demo_shadow": {"state": "shadow", "rollout_percentage": 100},
    "demo_flaky": {"state": "enabled", "error_threshold": 3},
    "demo_slow": {"state": "enabled", "performance_threshold_ms": 0.5},
}


def python_tokens(text: str) -> int:
    """The reference answer: words in the text."""
    return len(text.split())


def _guarded_traffic(folder: Path, example: dict[str, Any], out: TextIO) -> None:
    alerts = folder / "alerts.jsonl"
    os.environ["LITELLM_RUST_ALERT_FILE"] = str(alerts)
    config = dict(example)
    config["features"] = {**example["features"], **DEMO_FEATURES}
    config["global_settings"] = {**example["global_settings"], "performance_window": 3}
    path = folder / "demo_config.json"
    _write_private(path, json.dumps(config))
    load_config(path)
    texts = [f"request {i} " + "word " * (i % 7) for i in range(10_000)]

    _heading("Canary: demo_canary at 10%, keyed by request", out)
    canary = guard("demo_canary", python_tokens, python_tokens, key=lambda text: text)
    for text in texts:
        canary(text)
    stats = get_performance_stats()["demo_canary"]
    share = 100 * stats["accelerated_calls"] / stats["calls"]
    print(f"{stats['calls']:,} calls, {stats['accelerated_calls']:,} accelerated: {share:.2f}%",
          file=out)  # fmt: skip

    _heading("Shadow: demo_shadow compares a subtly wrong implementation", out)

    def off_by_one_on_long_texts(text: str) -> int:
        words = len(text.split())
        return words + 1 if words > 7 else words

    shadow = guard("demo_shadow", off_by_one_on_long_texts, python_tokens)
    served = [shadow(text) for text in texts[:1_000]]
    shadow_runner.drain()
    feature = get_feature_status()["features"]["demo_shadow"]
    python_answers = [python_tokens(t) for t in texts[:1_000]]
    print(f"callers got the Python answer every time: {served == python_answers}", file=out)
    print(f"shadow runs {feature['shadow_runs']}, mismatches {feature['shadow_mismatches']}, "
          f"state now {feature['state']} ({feature['degradation_reason'] or 'not degraded'})",
          file=out)  # fmt: skip
    print(f"a sampled mismatch: {feature['mismatch_samples'][0]}", file=out)

    _heading("Faults: demo_flaky raises on every call, error_threshold 3", out)

    def faulty(text: str) -> int:
        raise ConnectionError("injected fault")

    flaky = guard("demo_flaky", faulty, python_tokens)
    answers = [flaky(text) for text in texts[:5]]
    feature = get_feature_status()["features"]["demo_flaky"]
    print(f"answers (from the Python fallback): {answers}", file=out)
    print(f"state {feature['state']}, reason {feature['degradation_reason']}, "
          f"errors {feature['error_count']}, last error {feature['last_error']['message']!r}",
          file=out)  # fmt: skip

    _heading("Slowness: demo_slow takes 1 ms against a 0.5 ms threshold, window of 3", out)

    def slow(text: str) -> int:
        time.sleep(0.001)
        return python_tokens(text)

    slowed = guard("demo_slow", slow, python_tokens)
    for i, text in enumerate(texts[:5]):
        slowed(text)
        state = get_feature_status()["features"]["demo_slow"]["state"]
        print(f"call {i + 1}: demo_slow is {state}", file=out)

    _heading(f"Alert lines written to {alerts.name}", out)
    for line in alerts.read_text().splitlines():
        print(line, file=out)

    _heading("reset_errors() restores degraded features", out)
    reset_errors()
    for name in ("demo_shadow", "demo_flaky", "demo_slow"):
        print(f"{name}: {get_feature_status()['features'][name]['state']}", file=out)

    _heading("Prometheus export (demo features)", out)
    for line in export_performance_data(format="prometheus").splitlines():
        if 'feature="demo_' in line and "quantile" not in line:
            print(line, file=out)
