"""p50k_base and p50k_edit counts equal `litellm.token_counter`'s.

LiteLLM counts a model with p50k_base (text-davinci-003, code-davinci-002, ...) or p50k_edit
(`*-edit-001`) only when its cost map lists it as an OpenAI model: the map it ships lists none,
so these models reach p50k after `litellm.register_model`. Here they are listed on both sides,
litellm's provider set and the cost map the Rust counter is built from, and a generated corpus
(Unicode, CJK, emoji, code, whitespace runs, case-varied contractions, special-token text, runs of
random p50k tokens, texts past the 1,024-character chunk, chats) is counted by both.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterator

import pytest

# litellm fetches its model cost map over the network at import unless told not to.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name
from litellm.rust_bridge.tokenizer import get_encoding
from tests.conftest import run_python
from tests.test_token_exactness import image_urls, message
from tests.test_token_exactness import text as snippet_text

from litellm_rust._native import TokenCounter
from litellm_rust.tokens import (
    UnsupportedInput,
    load_token_counter,
    rust_decode,
    rust_encode,
    rust_token_counter,
)

SEED = 50_281
P50K_MODELS = {
    "text-davinci-003": "p50k_base",
    "code-davinci-002": "p50k_base",
    "text-davinci-edit-001": "p50k_edit",
}
COST_ENTRY = {"litellm_provider": "openai", "mode": "completion", "max_tokens": 4097}

# Pieces that stress p50k's split: its contractions are lower case only, its numbers unbounded,
# only a plain space joins the next word; and text that is special-token text in some encoding.
PARTS = (
    "'s",
    "'S",
    "'ll",
    "'LL",
    "'ve",
    "'re",
    "'d",
    "'x",
    "''",
    " '",
    "<|endoftext|>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|endofprompt|>",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\r\n",
    "\u00a0",
    "\u3000",
    "\u0085",
    "\u2028",
    "\x0b",
    "123",
    "4567890123",
    "٣٤٥",  # Arabic-Indic digits
    "½Ⅷ①",
    "def f(x):\n    return x  \n",
    "        ",
    "don't",
    "I'M",
    "hello",
    " world",
    "🎉",
    "👩‍👩‍👧‍👦",
    "🇫🇷",
    "e\u0301",
    "日本語",
    "한국어",
    "ﬁſK",  # noqa: RUF001  # case folds of s and k on purpose
    "...",
    "/**/",
    "@user",
    "x1y2",
    " 3.14",
    "\ufeff\u200b",
)
CODE_POINT_RANGES = (
    (0x20, 0x7E),
    (0x00, 0x1F),
    (0xA0, 0x24F),
    (0x370, 0x4FF),
    (0x590, 0x6FF),
    (0x900, 0x97F),
    (0x3040, 0x30FF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0x2000, 0x206F),
    (0x1F300, 0x1FAFF),
)


@pytest.fixture
def p50k_listed(monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenCounter]:
    """The p50k models listed as OpenAI models, in litellm and in the Rust counter's cost map."""
    listed = litellm.open_ai_chat_completion_models | set(P50K_MODELS)
    monkeypatch.setattr(litellm, "open_ai_chat_completion_models", listed)
    cost_map = {**litellm.model_cost, **dict.fromkeys(P50K_MODELS, COST_ENTRY)}
    yield load_token_counter(json.dumps(cost_map))
    load_token_counter()


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return snippet_text(rng, long=rng.random() < 0.2)
    length = rng.randint(1, 60) if rng.random() < 0.9 else rng.randint(300, 900)
    if roll < 0.55:
        return "".join(rng.choice(PARTS) for _ in range(length))
    if roll < 0.8:
        ranges = [rng.choice(CODE_POINT_RANGES) for _ in range(length * 2)]
        return "".join(chr(rng.randint(low, high)) for low, high in ranges)
    # Concatenated random tokens (decoded with errors="replace"): strings BPE must merge back.
    encoding = get_encoding("p50k_base")
    tokens = [rng.randrange(50_281) for _ in range(length)]
    return encoding.decode([token for token in tokens if token != 50_256])


def cases() -> Iterator[dict[str, object]]:
    rng = random.Random(SEED)
    images = image_urls(rng)
    models = sorted(P50K_MODELS)
    for index in range(1500):
        model = rng.choice(models)
        if index % 4:
            yield {"model": model, "text": random_text(rng)}
            continue
        messages = [message(rng, images, i) for i in range(rng.randint(1, 4))]
        messages.append({"role": "user", "content": random_text(rng)})
        yield {"model": model, "messages": messages}


def test_shipped_cost_map_counts_p50k_models_with_cl100k() -> None:
    counter = load_token_counter()

    for model in P50K_MODELS:
        assert openai_tokenizer_encoding_name(model) == "cl100k_base"
        assert counter.tokenizer_name(model) == "cl100k_base"


def test_listed_p50k_models_select_p50k_on_both_sides(p50k_listed: TokenCounter) -> None:
    for model, encoding in P50K_MODELS.items():
        assert openai_tokenizer_encoding_name(model) == encoding
        assert p50k_listed.tokenizer_name(model) == encoding
        assert openai_tokenizer_encoding_name(f"openai/{model}") == encoding
        assert p50k_listed.tokenizer_name(f"openai/{model}") == encoding


@pytest.mark.usefixtures("p50k_listed")
def test_every_p50k_count_equals_litellm() -> None:
    kinds: Counter[str] = Counter()
    unsupported: list[str] = []
    mismatches: list[tuple[dict[str, object], int, int]] = []

    for kwargs in cases():
        try:
            ours = rust_token_counter(**kwargs)  # type: ignore[arg-type]
        except UnsupportedInput as refusal:
            unsupported.append(str(refusal.reason))
            continue
        expected = litellm.token_counter(**kwargs)  # type: ignore[arg-type]
        if ours != expected:
            mismatches.append((kwargs, ours, expected))
        value = kwargs.get("text")
        kinds["text" if isinstance(value, str) else "messages"] += 1
        if isinstance(value, str) and len(value) > 1024:
            kinds["chunked_text"] += 1
        if isinstance(value, str) and "<|endoftext|>" in value:
            kinds["special_token_text"] += 1

    assert mismatches == []
    covered = ("text", "messages", "chunked_text", "special_token_text")
    assert min(kinds[kind] for kind in covered) > 0, kinds
    # Refusals are inputs refused for every model (images by URL, documents), not p50k ones.
    assert len(unsupported) < 1500 * 0.2, Counter(reason.split(":")[0] for reason in unsupported)


@pytest.mark.usefixtures("p50k_listed")
def test_encode_and_decode_of_p50k_models_equal_litellm() -> None:
    # litellm encodes and decodes with its default encoding (cl100k_base) whatever the model.
    rng = random.Random(SEED + 1)
    for _ in range(100):
        model = rng.choice(sorted(P50K_MODELS))
        value = random_text(rng)

        tokens = rust_encode(model=model, text=value)

        assert tokens == list(litellm.encode(model=model, text=value))
        assert rust_decode(model=model, tokens=tokens) == litellm.decode(model=model, tokens=tokens)


def test_registered_p50k_model_counts_like_litellm() -> None:
    code = """
import json, litellm
from litellm_rust.tokens import load_token_counter, rust_token_counter
models = ("text-davinci-003", "text-davinci-edit-001")
entry = {"litellm_provider": "openai", "mode": "completion"}
litellm.register_model({model: dict(entry) for model in models})
load_token_counter(json.dumps(litellm.model_cost))
text = "It's  <|endoftext|> <|fim_prefix|>x = 12345678;\\n\\n\\t  café 日本語 🎉   "
for model in models:
    ours = rust_token_counter(model=model, text=text * 200)
    print("counted", model, ours, litellm.token_counter(model=model, text=text * 200))
"""

    result = run_python(code)

    lines = result.stdout.splitlines()
    counted = [line.split()[1:] for line in lines if line.startswith("counted")]
    assert [model for model, _, _ in counted] == ["text-davinci-003", "text-davinci-edit-001"], (
        result.stderr
    )
    for _, ours, expected in counted:
        assert ours == expected
