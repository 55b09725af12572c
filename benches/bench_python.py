"""Flag decisions from Python and in Rust, per state, written to BENCHMARKS.md.

Run by `make bench` after `cargo bench`, whose criterion estimates it reads for the Rust side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit
from pathlib import Path

from report import machine, table, write_section

ROOT = Path(__file__).resolve().parent.parent
STATES = {
    "LITELLM_RUST_BENCH_ENABLED": "enabled",
    "LITELLM_RUST_BENCH_DISABLED": "disabled",
    "LITELLM_RUST_BENCH_CANARY": "canary:10",
    "LITELLM_RUST_BENCH_ROLLOUT": "rollout:50",
    "LITELLM_RUST_BENCH_SHADOW": "shadow",
}
FEATURES = [
    "bench_enabled",
    "bench_disabled",
    "bench_canary",
    "bench_rollout",
    "bench_shadow",
    "batch_token_counting",
]


def per_call_ns(statement: str, setup: str, number: int = 200_000) -> float:
    runs = timeit.repeat(statement, setup=setup, number=number, repeat=7)
    return min(runs) / number * 1e9


def rust_estimate_ns(name: str, group: str = "decide") -> float | None:
    path = ROOT / "target" / "criterion" / group / name / "new" / "estimates.json"
    if not path.exists():
        return None
    return float(json.loads(path.read_text())["median"]["point_estimate"])


def guard_overhead() -> list[list[str]]:
    import litellm_rust
    from litellm_rust.guard import shadow_runner

    def add(a: int, b: int) -> int:
        return a + b

    rows = []
    bare = min(timeit.repeat(lambda: add(1, 2), number=200_000, repeat=7)) / 200_000 * 1e9
    for feature in ("bench_enabled", "bench_disabled", "bench_shadow"):
        guarded = litellm_rust.guard(feature, add, add)
        ns = min(timeit.repeat(lambda g=guarded: g(1, 2), number=200_000, repeat=7))
        ns = ns / 200_000 * 1e9
        shadow_runner.drain()
        state = STATES[f"LITELLM_RUST_{feature.upper()}"]
        rows.append([f"{state} (Python)", f"{bare:.0f}", f"{ns:.0f}", f"{ns - bare:.0f}"])
    rust_bare = rust_estimate_ns("bare_call", "guard")
    for feature in ("bench_enabled", "bench_disabled"):
        rust = rust_estimate_ns(feature, "guard")
        if rust is not None and rust_bare is not None:
            state = STATES[f"LITELLM_RUST_{feature.upper()}"]
            rows.append(
                [f"{state} (Rust)", f"{rust_bare:.1f}", f"{rust:.1f}", f"{rust - rust_bare:.1f}"]
            )
    return rows


def import_seconds() -> float:
    code = (
        "import time; t = time.perf_counter(); import litellm_rust; print(time.perf_counter() - t)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_RUST_")}
    times = [
        float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout)
        for _ in range(5)
    ]  # fmt: skip
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.update(STATES)
    import litellm_rust

    litellm_rust.reload_config()
    setup = "from litellm_rust import is_enabled, _native"
    floor = per_call_ns("len('bench_enabled')", setup)
    rows = []
    for feature in FEATURES:
        for keyed in (False, True):
            key = ", 'user-1234'" if keyed else ""
            python_ns = per_call_ns(f"is_enabled('{feature}'{key})", setup)
            rust = rust_estimate_ns(f"{feature}_{'keyed' if keyed else 'unkeyed'}")
            rows.append(
                [
                    feature,
                    "keyed" if keyed else "unkeyed",
                    "n/a" if rust is None else f"{rust:.1f}",
                    f"{python_ns:.0f}",
                ]
            )
    unknown = per_call_ns("is_enabled('no_such_feature')", setup)
    rust_unknown = rust_estimate_ns("unknown_feature")
    rows.append(["(unknown feature)", "unkeyed", f"{rust_unknown or 0:.1f}", f"{unknown:.0f}"])
    guard_rows = guard_overhead()
    seconds = import_seconds()
    body = "\n\n".join(
        [
            "## Flag decisions",
            f"Machine: {machine()}. Command: `make bench` (criterion, then "
            "`benches/bench_python.py`). Rust: median of criterion's estimate for "
            "`Engine::decide`. Python: best of 7 runs of 200,000 `litellm_rust.is_enabled` "
            "calls. States from env: " + ", ".join(f"`{k}={v}`" for k, v in STATES.items()) + ".",
            table(["feature", "key", "Rust decide (ns)", "Python is_enabled (ns)"], rows),
            f"For scale: the builtin `len('bench_enabled')` costs {floor:.0f} ns from Python "
            f"on this machine. `import litellm_rust`: "
            f"{seconds * 1000:.1f} ms (median of 5 fresh interpreters); it does not import "
            "litellm.",
            "## Guarded calls",
            "Overhead of `litellm_rust.guard` around a trivial Python function `add(a, b)`: the "
            "guarded call minus the bare call, best of 7 runs of 200,000 calls. Shadow includes "
            "the enqueue only (the comparison runs on the worker). Rust: criterion's median for "
            "`Engine::guard` minus the bare closure.",
            table(["state", "bare call (ns)", "guarded (ns)", "overhead (ns)"], guard_rows),
        ]
    )
    write_section(args.output, "flags", body)
    print(body)


if __name__ == "__main__":
    main()
