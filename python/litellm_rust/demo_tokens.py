"""`make demo`, part 3: accelerated token counting on real litellm calls, side by side."""

from __future__ import annotations

import functools
import os
import statistics
import time
from collections.abc import Callable
from typing import Any, TextIO

CHAT = [
    {"role": "system", "content": "You are a concise assistant for a travel company."},
    {"role": "user", "content": "Plan three days in Lisbon: museums, food, and a day trip."},
    {"role": "assistant", "content": "Day 1: Belém and pastéis; day 2: Alfama; day 3: Sintra."},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                "required": ["city"],
            },
        },
    }
]
LONG_TEXT = " ".join(
    f"Paragraph {i}: the quick brown fox jumps over the lazy dog; 狐狸跳过了懒狗 🦊 {i * 7}."
    for i in range(600)
)
SAMPLES: list[tuple[str, dict[str, Any]]] = [
    ("3-message chat, gpt-4o", {"model": "gpt-4o", "messages": CHAT}),
    ("chat with tools, gpt-4o-mini", {"model": "gpt-4o-mini", "messages": CHAT, "tools": TOOLS}),
    ("chat, claude-sonnet-4-5", {"model": "claude-sonnet-4-5", "messages": CHAT}),
    ("chat, deepseek-chat", {"model": "deepseek-chat", "messages": CHAT}),
    ("long text (CJK, emoji), gpt-4", {"model": "gpt-4", "text": LONG_TEXT}),
]


def _median_us(call: Callable[[], object], repeat: int = 200) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        call()
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


def run(out: TextIO) -> None:
    # litellm fetches its cost map over the network at import unless told not to.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm
    import litellm.litellm_core_utils.token_counter as core

    import litellm_rust
    from litellm_rust.guard import shadow_runner

    litellm_rust.set_feature_state("rust_token_counting", "enabled")
    original: Callable[..., int] = core.token_counter
    # Measured before apply_acceleration(): litellm.token_counter looks up the core function
    # on every call, so afterwards it runs the accelerated path too.
    baseline = []
    for label, kwargs in SAMPLES:
        repeat = 50 if "long" in label else 200
        call = functools.partial(litellm.token_counter, **kwargs)
        baseline.append((label, kwargs, call(), _median_us(call, repeat), repeat))
    chats = [[*CHAT, {"role": "user", "content": f"question {i}"}] for i in range(1_000)]
    started = time.perf_counter()
    one_by_one = [litellm.token_counter(model="gpt-4o", messages=chat) for chat in chats]
    litellm_ms = (time.perf_counter() - started) * 1000

    print("\n== Token counting in litellm ==", file=out)
    report = litellm_rust.apply_acceleration(["token_counting"])["token_counting"]
    print(f"apply_acceleration() patched: {', '.join(report['patched'])}", file=out)
    print("\nlitellm.token_counter before and after apply_acceleration():", file=out)
    print(f"{'input':<32}{'litellm':>9}{'ours':>7}  equal  {'litellm µs':>11}{'ours µs':>9}"
          f"{'speed-up':>10}", file=out)  # fmt: skip
    for label, kwargs, expected, theirs_us, repeat in baseline:
        call = functools.partial(litellm.token_counter, **kwargs)
        ours = call()
        ours_us = _median_us(call, repeat)
        print(f"{label:<32}{expected:>9}{ours:>7}  {ours == expected!s:<5}  {theirs_us:>11.1f}"
              f"{ours_us:>9.1f}{theirs_us / ours_us:>9.1f}x", file=out)  # fmt: skip

    litellm_rust.set_feature_state("rust_token_counting", "shadow", 100)
    for i in range(300):
        litellm.token_counter(
            model="gpt-4o", messages=[*CHAT, {"role": "user", "content": f"#{i}"}]
        )
    shadow_runner.drain()
    status = litellm_rust.get_feature_status()["features"]["rust_token_counting"]
    print("\nshadow mode, 300 calls: the Python answer served, Rust compared beside it: "
          f"{status['shadow_runs']} runs, {status['shadow_mismatches']} mismatches",
          file=out)  # fmt: skip
    litellm_rust.set_feature_state("rust_token_counting", "enabled")

    litellm_rust.set_feature_state("batch_token_counting", "enabled")
    started = time.perf_counter()
    batch = litellm_rust.count_tokens_batch("gpt-4o", chats)
    batch_ms = (time.perf_counter() - started) * 1000
    print(f"count_tokens_batch of 1,000 chats: {batch_ms:.1f} ms; litellm one by one: "
          f"{litellm_ms:.1f} ms; equal: {batch == one_by_one}", file=out)  # fmt: skip

    removed = litellm_rust.remove_acceleration(["token_counting"])["token_counting"]
    print(f"remove_acceleration() restored {len(removed['restored'])} references; "
          f"litellm's own function is back: {core.token_counter is original}",
          file=out)  # fmt: skip
