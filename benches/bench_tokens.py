"""Token counting side by side in one run: litellm.token_counter's Python path, tiktoken
directly, litellm's own native tokenizer, and litellm-rust; written to BENCHMARKS.md.

Run after `maturin develop --release`: `python benches/bench_tokens.py --output BENCHMARKS.md`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import timeit
from collections.abc import Callable
from functools import partial
from pathlib import Path

from report import machine, table, write_section

# The cost map that ships with litellm: no fetch at import, and the map the Rust side reads.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

CHAT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France? Please answer briefly."},
    {"role": "assistant", "content": "The capital of France is Paris."},
]
WORDS = (
    *("the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on"),
    *("token", "counter", "latency", "budget", "deployment", "router", "fallback", "cache"),
)


def long_text(target_chars: int) -> str:
    rng = random.Random(7)
    parts: list[str] = []
    size = 0
    while size < target_chars:
        roll = rng.random()
        if roll < 0.8:
            piece = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 20))) + ". "
        elif roll < 0.9:
            piece = f"def f{rng.randint(0, 99)}(x):\n    return x * {rng.randint(0, 999)}\n"
        else:
            piece = "日本語のテキスト、中文文本。 emoji 🎉 café "
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


def best_us(function: Callable[[], object], number: int) -> float:
    function()
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


RSS_PROBE = """
import sys
sys.path.insert(0, BENCHES)
from bench_tokens import rss_kib
before = rss_kib()
from litellm_rust.tokens import load_token_counter
counter = load_token_counter()
loaded = rss_kib()
steps = []
for model, name in (("gpt-4", "cl100k_base"), ("gpt-4o", "o200k_base"),
                    ("claude-sonnet-4-5", "anthropic"), ("deepseek-chat", "deepseek")):
    start = rss_kib()
    counter.count(model, text="warm up every encoding")
    steps.append(f"{name}={(rss_kib() - start) / 1024:.1f}MiB")
print(before, loaded, ",".join(steps), "litellm" in sys.modules)
"""


def encoding_rss() -> tuple[int, str, bool]:
    code = RSS_PROBE.replace("BENCHES", repr(str(Path(__file__).resolve().parent)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, loaded, steps, imported = out.stdout.split()
    return int(loaded) - int(before), steps.replace(",", ", "), imported == "True"


def ratio(base: float, value: float) -> str:
    return f"{base / value:.1f}x"


BATCH_PROCESSES = 5

# Measured in fresh interpreters, several times: on this project's 2-core virtual machines the
# batch's speed-up has swung between about 1.9x and about 1.0x from one run to the next, and a
# single figure would report whichever state the machine was in.
BATCH_RATIO = """
import os, timeit
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from litellm_rust.tokens import count_tokens, count_tokens_batch
import bench_tokens
chats = bench_tokens.batch_chats()
count_tokens_batch("gpt-4o", chats)
one = min(timeit.repeat(lambda: [count_tokens("gpt-4o", messages=c) for c in chats],
                        number=3, repeat=5))
batch = min(timeit.repeat(lambda: count_tokens_batch("gpt-4o", chats), number=3, repeat=5))
print(one / batch)
"""


def batch_chats() -> list[list[dict[str, object]]]:
    """The 1,000 chats of the batch measurement."""
    return [
        [
            *CHAT,
            {
                "role": "user",
                "content": f"Question number {index}: " + long_text(200 + index % 300),
            },
        ]
        for index in range(1_000)
    ]


def batch_ratios() -> list[float]:
    """Batch vs one-thread speed-up, each from a fresh interpreter."""
    here = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": f"{here}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", BATCH_RATIO],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(BATCH_PROCESSES)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, help="BENCHMARKS.md to write the section into")
    args = parser.parse_args()

    import litellm

    # Points TIKTOKEN_CACHE_DIR at the encodings litellm bundles, so tiktoken reads, not fetches.
    import litellm.litellm_core_utils.default_encoding
    import tiktoken
    from litellm.rust_bridge._native import Tokenizer as LitellmNative

    from litellm_rust.tokens import count_tokens, count_tokens_batch, rust_token_counter

    o200k, cl100k = tiktoken.get_encoding("o200k_base"), tiktoken.get_encoding("cl100k_base")
    native_o200k = LitellmNative.from_tiktoken("o200k_base")
    native_cl100k = LitellmNative.from_tiktoken("cl100k_base")
    strings = [value for message in CHAT for value in message.values()]
    rows: list[list[str]] = []

    def chat_row(name: str, function: Callable[[], object], base: float, number: int) -> float:
        micros = best_us(function, number)
        rows.append(["3-message chat, gpt-4o", name, f"{micros:,.1f} µs", ratio(base, micros)])
        return micros

    assert rust_token_counter(model="gpt-4o", messages=CHAT) == litellm.token_counter(
        model="gpt-4o", messages=CHAT
    )
    base = best_us(lambda: litellm.token_counter(model="gpt-4o", messages=CHAT), 2_000)
    rows.append(["3-message chat, gpt-4o", "litellm.token_counter", f"{base:,.1f} µs", "1.0x"])
    chat_row(
        "tiktoken, tokenizer work only",
        lambda: [len(o200k.encode_ordinary(s)) for s in strings],
        base,
        5_000,
    )
    chat_row(
        "litellm native Tokenizer.count, tokenizer work only",
        lambda: [native_o200k.count(s) for s in strings],
        base,
        5_000,
    )
    chat_row(
        "litellm-rust rust_token_counter",
        lambda: rust_token_counter(model="gpt-4o", messages=CHAT),
        base,
        20_000,
    )
    chat_row(
        "litellm-rust count_tokens", lambda: count_tokens("gpt-4o", messages=CHAT), base, 20_000
    )

    text = long_text(46_000)
    for model, encoding, native in (
        ("gpt-4o", o200k, native_o200k),
        ("gpt-4", cl100k, native_cl100k),
    ):
        tokens = len(encoding.encode_ordinary(text))
        label = f"{tokens / 1000:.1f}k-token text, {encoding.name}"
        assert rust_token_counter(model=model, text=text) == litellm.token_counter(
            model=model, text=text
        )
        paths: list[tuple[str, Callable[[], object]]] = [
            ("litellm.token_counter", partial(litellm.token_counter, model=model, text=text)),
            ("tiktoken encode_ordinary", partial(encoding.encode_ordinary, text)),
            ("litellm native count (whole text)", partial(native.count, text, False)),
            ("litellm native count, fast=True (whole text)", partial(native.count, text, True)),
            (
                "litellm-rust rust_token_counter",
                partial(rust_token_counter, model=model, text=text),
            ),
        ]
        base = best_us(paths[0][1], 20)
        rows.append([label, paths[0][0], f"{base:,.0f} µs", "1.0x"])
        for name, function in paths[1:]:
            micros = best_us(function, 20)
            rows.append([label, name, f"{micros:,.0f} µs", ratio(base, micros)])

    chats = batch_chats()
    items: list[list[dict[str, object]] | str | dict[str, object]] = list(chats)
    assert count_tokens_batch("gpt-4o", items) == [
        count_tokens("gpt-4o", messages=c) for c in chats
    ]
    one_thread = best_us(lambda: [count_tokens("gpt-4o", messages=chat) for chat in chats], 3)
    python = best_us(lambda: [litellm.token_counter(model="gpt-4o", messages=c) for c in chats], 1)
    batch = best_us(lambda: count_tokens_batch("gpt-4o", items), 3)
    label = "1,000 chats, gpt-4o"
    rows.append(
        [label, "litellm.token_counter loop", f"{python / 1000:,.1f} ms", ratio(python, python)]
    )
    rows.append(
        [
            label,
            "litellm-rust count_tokens loop, one thread",
            f"{one_thread / 1000:,.1f} ms",
            ratio(python, one_thread),
        ]
    )
    rows.append(
        [label, "litellm-rust count_tokens_batch", f"{batch / 1000:,.1f} ms", ratio(python, batch)]
    )

    loaded, warmed, imported = encoding_rss()
    ratios = batch_ratios()
    body = "\n\n".join(
        [
            "## Token counting",
            f"{machine()}; litellm 1.110.2, tiktoken {tiktoken.__version__}. Ratios are "
            "against `litellm.token_counter` in the same run; every accelerated count was "
            "checked equal to litellm's before timing. litellm's token_counter counts tiktoken "
            "text in 1,024-character chunks, as ours does; the native `count` rows count the "
            f"text whole. Batch vs one thread, {BATCH_PROCESSES} fresh processes: "
            f"{', '.join(f'{r:.2f}x' for r in ratios)} (median {statistics.median(ratios):.2f}x; "
            f"in the table's process: {one_thread / batch:.2f}x). The speed-up differs between "
            "runs: on this project's 2-core virtual machines it has been seen to drop to about "
            "1.0x in every process of a run for minutes at a time, with nothing else running "
            "and two cores free to a plain CPU loop; the cause is not established.",
            table(["input", "path", "time", "vs litellm"], rows),
            f"Resident memory (fresh process, litellm not imported: {not imported}): the counter "
            f"with its cost-map catalog adds {loaded / 1024:.1f} MiB; first use of each "
            f"tokenizer adds {warmed}.",
        ]
    )
    print(body)
    if args.output is not None:
        write_section(args.output, "tokens", body)


if __name__ == "__main__":
    main()
