"""Every count litellm-rust gives equals `litellm.token_counter`'s on the same input.

The corpus is generated from a fixed seed: texts (Unicode, CJK, emoji, code, whitespace runs,
special-token text, texts longer than LiteLLM's 1,024-character chunk), chats with names, tools,
tool_choice, tool calls, content lists and inline images, across OpenAI and Hugging Face models.
Inputs the Rust side refuses (UnsupportedInput) are listed and counted apart, and the supported
share must still cover every category.
"""

from __future__ import annotations

import base64
import os
import random
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

# litellm fetches its model cost map over the network at import unless told not to; the tests
# and the Rust side both use the map that ships inside the package.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from litellm.litellm_core_utils.token_counter import openai_tokenizer_encoding_name
from litellm.utils import huggingface_tokenizer_kind

from litellm_rust.tokens import (
    UnsupportedInput,
    count_tokens_batch,
    load_token_counter,
    rust_decode,
    rust_encode,
    rust_token_counter,
)

SEED = 20_261_203
OPENAI_MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-0301",
    "o1",
    "o3-mini",
    "gpt-5",
    "text-embedding-3-small",
    "text-embedding-ada-002",
    "azure/gpt-4o",
    "gpt-35-turbo",
    "openai/gpt-4.1",
    "some-unknown-model",
    "",
)
HUGGING_FACE_MODELS = ("claude-sonnet-4-5", "deepseek-chat", "deepseek-reasoner")
TEMPLATE_MODELS = ("dashscope/qwen3.5-plus", "xai/grok-4-1-fast", "deepseek/deepseek-v4")
# Models whose tokenizer LiteLLM downloads from the Hugging Face hub: always refused.
DOWNLOAD_MODELS = ("meta-llama/llama-3-8b-instruct", "replicate/llama-2-70b")
MODELS = OPENAI_MODELS + HUGGING_FACE_MODELS + TEMPLATE_MODELS

SNIPPETS = (
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "日本語のテキストと中文文本，还有한국어。",  # noqa: RUF001  # CJK punctuation on purpose
    "emoji 🎉🚀👩‍👩‍👧‍👦 and flags 🇫🇷🇯🇵",
    "def f(x):\n    return x ** 2  # square\n",
    "    \t\t  \n\n\n   spaces   ",
    "<|endoftext|> <|fim_prefix|><|endofprompt|>",
    "It's we'll they'd I'M YOU'RE",
    "naïve café résumé Ωμέγα Привет мир",
    "1234567890 3.14159 1e10 0xFF",
    '{"key": [1, 2, {"nested": null}]}',
    "\u200b\u00a0\u2028zero-width and nbsp",
    "ÅÄÖ ﬁ ligature ① ⅷ",
    "\r\n\r\nwindows lines\r\n",
)


def png(width: int, height: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
        + struct.pack(">LL", width, height)
        + b"\x08\x06\0\0\0"
    )


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00" * 6


def jpeg(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHH", 17, 8, height, width) + b"\x03" + b"\x00" * 9
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp(kind: bytes, width: int, height: int) -> bytes:
    body = b"RIFF" + b"\x00\x00\x00\x00" + b"WEBP" + kind
    if kind == b"VP8X":
        return (
            body
            + b"\x00" * 8
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
    if kind == b"VP8 ":
        return body + b"\x00" * 10 + struct.pack("<HH", width, height)
    bits = (width - 1) | ((height - 1) << 14)
    return body + b"\x00" * 5 + struct.pack("<I", bits)


def data_url(kind: str, raw: bytes) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(raw).decode()}"


def image_urls(rng: random.Random) -> list[str]:
    size = lambda: rng.choice((1, 64, 300, 512, 768, 769, 1024, 2000, 2048, 4096, 9000))  # noqa: E731
    return [
        data_url("png", png(size(), size())),
        data_url("gif", gif(size(), size())),
        data_url("jpeg", jpeg(size(), size())),
        data_url("webp", webp(rng.choice((b"VP8X", b"VP8 ", b"VP8L")), size(), size())),
        data_url("png", png(size(), size())[:20]),  # truncated header
        data_url("png", b"not an image at all"),
        "data:image/png;base64,iVBORw0KGgo=x",  # invalid base64
        data_url("png", png(0, 10)),
        "https://example.com/cat.png",
        "data:image/jpeg;base64," + base64.b64encode(jpeg(640, 480)).decode().rstrip("="),
    ]


def text(rng: random.Random, long: bool = False) -> str:
    pieces = rng.randint(1, 4) if not long else rng.randint(60, 200)
    parts = [rng.choice(SNIPPETS) for _ in range(pieces)]
    if rng.random() < 0.2:
        parts.append(rng.choice(" \n\t") * rng.randint(1, 3000))
    if rng.random() < 0.1:
        parts.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 200))))
    return rng.choice(("", " ", "\n")).join(parts)


def tool(rng: random.Random, index: int) -> dict[str, object]:
    properties: dict[str, object] = {
        "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "description": rng.choice(("", "How many days"))},
        "tags": {"type": "array", "items": {"type": "string"}},
        "filters": {
            "type": "object",
            "properties": {"min": {"type": "number"}, "exact": {"type": "boolean"}},
            "required": ["min"],
        },
        "weird": {"type": ["string", "null"], "enum": [1, 2.5, True, None]},
    }
    chosen = dict(rng.sample(sorted(properties.items()), rng.randint(0, len(properties))))
    function: dict[str, object] = {
        "name": f"tool_{index}_{rng.choice(('weather', 'search', '検索'))}"
    }
    if rng.random() < 0.8:
        function["description"] = rng.choice(SNIPPETS)
    if rng.random() < 0.9:
        function["parameters"] = {
            "type": "object",
            "properties": chosen,
            "required": rng.sample(sorted(chosen), min(len(chosen), rng.randint(0, 2))),
        }
    if rng.random() < 0.2:
        function["strict"] = rng.choice((True, False))
    if rng.random() < 0.15:
        # Anthropic-style tool, which LiteLLM maps onto a function itself.
        return {
            "name": function["name"],
            "description": function.get("description", "x"),
            "input_schema": function.get("parameters", {"type": "object"}),
            "cache_control": {"type": "ephemeral"},
        }
    return {"type": "function", "function": function}


def tool_choice(rng: random.Random) -> object:
    return rng.choice(
        (
            None,
            "auto",
            "none",
            "required",
            {"type": "function", "function": {"name": "tool_0_weather"}},
            {"type": "none"},
            {"name": "tool_1_search"},
            {"type": "tool", "name": "検索"},
        )
    )


def content_block(rng: random.Random, images: list[str]) -> object:
    roll = rng.random()
    if roll < 0.4:
        return {"type": "text", "text": text(rng)}
    if roll < 0.5:
        return text(rng)
    if roll < 0.8:
        image: object = rng.choice(images)
        if rng.random() < 0.7:
            image = {"url": image, "detail": rng.choice(("auto", "low", "high", "auto"))}
        return {"type": "image_url", "image_url": image}
    if roll < 0.85:
        return {"type": "thinking", "thinking": text(rng), "signature": "abc"}
    if roll < 0.9:
        return {"type": "tool_reference", "tool_name": "tool_0_weather"}
    if roll < 0.95:
        return {"type": "mystery"}  # LiteLLM raises, or returns default_token_count
    return {"type": "document", "source": {"type": "text", "data": "doc"}}


def tool_calls(rng: random.Random) -> list[dict[str, object]]:
    return [
        {
            "id": f"call_{index}",
            "type": "function",
            "function": {
                "name": "tool_0_weather",
                "arguments": rng.choice(('{"location": "Paris"}', "{}", text(rng), 42, None)),
            },
        }
        for index in range(rng.randint(1, 3))
    ]


def message(rng: random.Random, images: list[str], index: int) -> dict[str, object]:
    role = (
        "system" if index == 0 and rng.random() < 0.6 else rng.choice(("user", "assistant", "tool"))
    )
    msg: dict[str, object] = {"role": role}
    roll = rng.random()
    if roll < 0.6:
        msg["content"] = text(rng, long=rng.random() < 0.05)
    elif roll < 0.85:
        msg["content"] = [content_block(rng, images) for _ in range(rng.randint(1, 4))]
    else:
        msg["content"] = None
    if rng.random() < 0.2:
        msg["name"] = rng.choice(("alice", "bob_the_builder", "José"))
    if role == "assistant" and rng.random() < 0.4:
        msg["tool_calls"] = tool_calls(rng)
    if role == "assistant" and rng.random() < 0.05:
        msg["function_call"] = {"name": "f", "arguments": '{"a": 1}'}
    if role == "tool":
        msg["tool_call_id"] = "call_0"
    if rng.random() < 0.05:
        msg["provider_specific_fields"] = {
            "compaction_blocks": [{"type": "compaction", "content": "summary of earlier turns"}]
        }
    if rng.random() < 0.03:
        msg["extra_number"] = 7  # skipped by LiteLLM
    return msg


@dataclass
class Case:
    label: str
    categories: frozenset[str]
    kwargs: dict[str, object] = field(default_factory=dict)


def chat_categories(kwargs: dict[str, object]) -> set[str]:
    found = {"messages"}
    for msg in kwargs.get("messages") or []:
        assert isinstance(msg, dict)
        if "name" in msg:
            found.add("names")
        if "tool_calls" in msg or "function_call" in msg:
            found.add("tool_calls")
        content = msg.get("content")
        if isinstance(content, list):
            found.add("content_lists")
            for block in content:
                if isinstance(block, dict) and block.get("type") == "image_url":
                    found.add("inline_images")
        elif isinstance(content, str) and len(content) > 1024:
            found.add("chunked_text")
    if kwargs.get("tools"):
        found.add("tools")
    if kwargs.get("tool_choice") is not None:
        found.add("tool_choice")
    return found


def model_category(model: object) -> str:
    if model in HUGGING_FACE_MODELS:
        return "hugging_face_model"
    if model in TEMPLATE_MODELS:
        return "chat_template_model"
    if model in DOWNLOAD_MODELS:
        return "download_model"
    return "openai_model"


def generate_cases() -> list[Case]:
    rng = random.Random(SEED)
    images = image_urls(rng)
    cases: list[Case] = []
    for index in range(900):
        model = rng.choice((*MODELS, *DOWNLOAD_MODELS) if index % 50 else (None,))
        long = rng.random() < 0.15
        value: object = text(rng, long=long)
        if rng.random() < 0.05:
            value = [text(rng), 3, text(rng)]
        categories = {"text", model_category(model)}
        if long:
            categories.add("chunked_text")
        cases.append(Case(f"text-{index}", frozenset(categories), {"model": model, "text": value}))
    for index in range(1300):
        model = rng.choice(MODELS + DOWNLOAD_MODELS[:1])
        kwargs: dict[str, object] = {
            "model": model,
            "messages": [message(rng, images, i) for i in range(rng.randint(1, 6))],
        }
        if rng.random() < 0.45:
            kwargs["tools"] = [tool(rng, i) for i in range(rng.randint(1, 3))]
        if rng.random() < 0.35:
            kwargs["tool_choice"] = tool_choice(rng)
        if rng.random() < 0.1:
            kwargs["count_response_tokens"] = rng.choice((True, None))
        if rng.random() < 0.15:
            kwargs["default_token_count"] = rng.choice((0, 17))
        if rng.random() < 0.1:
            kwargs["use_default_image_token_count"] = True
        categories = chat_categories(kwargs) | {model_category(model)}
        cases.append(Case(f"chat-{index}", frozenset(categories), kwargs))
    return cases


CASES = generate_cases()
REQUIRED_CATEGORIES = frozenset(
    {
        "text",
        "messages",
        "names",
        "tools",
        "tool_choice",
        "tool_calls",
        "content_lists",
        "inline_images",
        "chunked_text",
        "openai_model",
        "hugging_face_model",
        "chat_template_model",
    }
)


def test_corpus_is_large_and_varied() -> None:
    models = {case.kwargs.get("model") for case in CASES}

    assert len(CASES) >= 2000
    assert len(models) >= 8
    assert frozenset().union(*(case.categories for case in CASES)) >= REQUIRED_CATEGORIES


def test_every_supported_count_equals_litellm() -> None:
    supported: Counter[str] = Counter()
    unsupported: list[tuple[str, str]] = []
    mismatches: list[tuple[str, int, int]] = []

    for case in CASES:
        try:
            ours = rust_token_counter(**case.kwargs)  # type: ignore[arg-type]
        except UnsupportedInput as refusal:
            unsupported.append((case.label, str(refusal.reason)))
            if str(refusal.reason).startswith("litellm raises here"):
                # The refusal claims LiteLLM raises: it must.
                with pytest.raises((ValueError, TypeError, KeyError)):
                    litellm.token_counter(**case.kwargs)  # type: ignore[arg-type]
            continue
        expected = litellm.token_counter(**case.kwargs)  # type: ignore[arg-type]
        if ours != expected:
            mismatches.append((case.label, ours, expected))
        supported.update(case.categories)

    reasons = Counter(reason.split(":")[0] for _, reason in unsupported)
    print(
        f"\n{len(CASES)} cases, {len(CASES) - len(unsupported)} counted, "
        f"{len(unsupported)} unsupported: {reasons.most_common()}"
    )
    assert mismatches == []
    assert set(supported) >= REQUIRED_CATEGORIES, REQUIRED_CATEGORIES - set(supported)
    # Refusals must stay the exception, not the way the test passes.
    assert len(unsupported) < len(CASES) * 0.2


def test_download_models_are_refused() -> None:
    for model in DOWNLOAD_MODELS:
        with pytest.raises(UnsupportedInput):
            rust_token_counter(model=model, text="hello")


def test_batch_equals_single_counts_in_order() -> None:
    chats = [case.kwargs for case in CASES if "messages" in case.kwargs][:300]
    items: list[list[dict[str, object]] | str | dict[str, object]] = [
        {
            "messages": kwargs["messages"],
            "tools": kwargs.get("tools"),
            "tool_choice": kwargs.get("tool_choice"),
        }
        for kwargs in chats
    ]

    batch = count_tokens_batch("gpt-4o", items)

    for item, counted in zip(chats, batch, strict=True):
        single_kwargs = {
            "model": "gpt-4o",
            "messages": item["messages"],
            "tools": item.get("tools"),
            "tool_choice": item.get("tool_choice"),
        }
        if counted is None:
            with pytest.raises(UnsupportedInput):
                rust_token_counter(**single_kwargs)  # type: ignore[arg-type]
        else:
            assert counted == litellm.token_counter(**single_kwargs)  # type: ignore[arg-type]
    assert sum(counted is not None for counted in batch) > len(batch) * 0.8


def encode_texts() -> Iterator[tuple[str, str]]:
    rng = random.Random(SEED + 1)
    for index in range(150):
        yield rng.choice(MODELS + HUGGING_FACE_MODELS), text(rng, long=index % 10 == 0)


@pytest.mark.parametrize(("model", "value"), list(encode_texts()))
def test_encode_and_decode_equal_litellm(model: str, value: str) -> None:
    tokens = rust_encode(model=model, text=value)

    assert tokens == list(litellm.encode(model=model, text=value))
    assert rust_decode(model=model, tokens=tokens) == litellm.decode(model=model, tokens=tokens)


def test_decode_of_special_and_partial_tokens_equals_litellm() -> None:
    for tokens in ([100257, 9906], [9906, 100276], [127, 128, 129], [15339, 220, 57668]):
        assert rust_decode(model="gpt-4", tokens=tokens) == litellm.decode(
            model="gpt-4", tokens=tokens
        )


def litellm_tokenizer(model: str) -> str | None:
    kind = huggingface_tokenizer_kind(model)
    if kind in ("anthropic", "deepseek"):
        return kind
    if kind is not None:
        return None
    encoding = openai_tokenizer_encoding_name(model)
    return encoding if encoding in ("cl100k_base", "o200k_base", "p50k_base", "p50k_edit") else None


def selection_models() -> list[str]:
    rng = random.Random(SEED + 2)
    names = sorted(litellm.model_cost)
    picked = rng.sample(names, 1500)
    variants = [f"{prefix}{name}" for name in picked[:300] for prefix in ("openai/", "azure/")]
    extras = [
        "gpt-4o-2024-08-06",
        "ft:gpt-4o:org::id",
        "gpt-6.2",
        "o7-pro",
        "gpt-3.5-turbo-16k",
        "text-embedding-ada-002-v2",
        "davinci-002",
        "gpt2",
        "claude-3-5-sonnet-20241022",
        "deepseek-v3",
        "DeepSeek-Chat",
        "azure/eu/gpt-41",
        "gpt-41",
        "azure/gpt-41",
    ]
    return picked + variants + extras


def test_tokenizer_selection_equals_litellm() -> None:
    counter = load_token_counter()
    mismatches = [
        (model, counter.tokenizer_name(model), litellm_tokenizer(model))
        for model in selection_models()
        if counter.tokenizer_name(model) != litellm_tokenizer(model)
    ]

    assert mismatches == []


def test_disabled_hugging_face_download_switches_to_tiktoken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(litellm, "disable_hf_tokenizer_download", True)
    kwargs: dict[str, object] = {"model": "claude-sonnet-4-5", "text": "日本語 hello world"}

    assert rust_token_counter(**kwargs) == litellm.token_counter(**kwargs)  # type: ignore[arg-type]


def test_environment_override_of_a_litellm_constant_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS", "512")
    load_token_counter()

    with pytest.raises(UnsupportedInput, match="TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS"):
        rust_token_counter(model="gpt-4o", text="hello")

    monkeypatch.delenv("TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS")
    load_token_counter()
    assert rust_token_counter(model="gpt-4o", text="hello") == 1


def test_importing_litellm_rust_does_not_import_litellm() -> None:
    from tests.conftest import run_python

    result = run_python(
        "import sys, litellm_rust, litellm_rust.tokens; print('litellm' in sys.modules)"
    )

    assert result.stdout.strip() == "False", result.stderr
