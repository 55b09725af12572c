"""Token counting inside the real litellm: patching, guarding, shadowing, restoring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import litellm
import litellm.litellm_core_utils.token_counter as core
import litellm.llms.openai.common_utils as openai_common
import litellm.utils as utils
import pytest

import litellm_rust
from litellm_rust.acceleration import applied_targets
from litellm_rust.guard import shadow_runner
from litellm_rust.litellm_tokens import litellm_function
from test_token_exactness import CASES, DOWNLOAD_MODELS

CHAT = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France? Answer in one word."},
    {"role": "assistant", "content": "Paris."},
]
ORIGINALS = {
    "core": core.token_counter,
    "openai_common": openai_common.token_counter,
    "encode": utils.encode,
    "decode": utils.decode,
    "wrapper": utils.token_counter,
}


def feature() -> dict[str, Any]:
    status: dict[str, Any] = litellm_rust.get_feature_status()["features"]["rust_token_counting"]
    return status


@pytest.fixture
def accelerated() -> Iterator[dict[str, Any]]:
    report = litellm_rust.apply_acceleration(["token_counting"])
    try:
        yield report["token_counting"]
    finally:
        litellm_rust.remove_acceleration(["token_counting"])


def test_apply_patches_every_reference_and_remove_restores_the_originals() -> None:
    report = litellm_rust.apply_acceleration(["token_counting"])["token_counting"]

    assert report["feature"] == "rust_token_counting"
    assert {
        "litellm.litellm_core_utils.token_counter.token_counter",
        "litellm.llms.openai.common_utils.token_counter",
        "litellm.utils.token_counter",
        "litellm.utils.encode",
        "litellm.utils.decode",
    } <= set(report["patched"])
    assert report["skipped"] == []
    assert core.token_counter is not ORIGINALS["core"]
    assert openai_common.token_counter is core.token_counter
    assert utils.token_counter is not ORIGINALS["wrapper"]

    removed = litellm_rust.remove_acceleration(["token_counting"])["token_counting"]

    assert removed["left"] == []
    assert core.token_counter is ORIGINALS["core"]
    assert openai_common.token_counter is ORIGINALS["openai_common"]
    assert utils.encode is ORIGINALS["encode"]
    assert utils.decode is ORIGINALS["decode"]
    assert utils.token_counter is ORIGINALS["wrapper"]
    assert litellm.encode is ORIGINALS["encode"]
    assert litellm.token_counter is ORIGINALS["wrapper"]
    assert "token_counting" not in applied_targets()


def test_every_entry_point_is_served_by_rust_with_litellms_answer(
    accelerated: dict[str, Any],
) -> None:
    expected = ORIGINALS["core"](model="gpt-4o", messages=CHAT)
    calls_before = feature()["accelerated_calls"]

    answers = [
        litellm.token_counter(model="gpt-4o", messages=CHAT),
        utils.token_counter(model="gpt-4o", messages=CHAT),
        core.token_counter(model="gpt-4o", messages=CHAT),
        openai_common.token_counter(model="gpt-4o", messages=CHAT),
    ]

    assert answers == [expected] * 4
    assert feature()["accelerated_calls"] - calls_before == 4
    assert litellm.encode(model="gpt-4o", text="hello world") == ORIGINALS["encode"](
        model="gpt-4o", text="hello world"
    )
    assert litellm.decode(model="gpt-4o", tokens=[15339, 1917]) == "hello world"


def test_the_router_and_proxy_share_the_patched_function(accelerated: dict[str, Any]) -> None:
    # Modules imported after apply bind the patched function by name too.
    from litellm.router_utils.pre_call_checks import io_token_rate_limit_check

    before = feature()["calls"]
    tokens = io_token_rate_limit_check.token_counter(model="gpt-4o", messages=CHAT)

    assert tokens == ORIGINALS["core"](model="gpt-4o", messages=CHAT)
    assert feature()["calls"] == before + 1


def test_inputs_rust_cannot_count_are_declined_and_answered_by_litellm(
    accelerated: dict[str, Any],
) -> None:
    custom = litellm.utils.create_tokenizer(
        '{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],'
        '"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,'
        '"decoder":null,"model":{"type":"WordLevel","vocab":{"hello":0,"world":1,"[UNK]":2},'
        '"unk_token":"[UNK]"}}'
    )
    errors_before = feature()["total_errors"]
    declined_before = feature()["declined_calls"]

    answer = litellm.token_counter(custom_tokenizer=custom, text="hello big world")

    assert answer == ORIGINALS["core"](custom_tokenizer=custom, text="hello big world")
    assert feature()["declined_calls"] == declined_before + 1
    assert feature()["total_errors"] == errors_before


def test_litellms_own_errors_still_reach_the_caller(accelerated: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as ours:
        litellm.token_counter(model="gpt-4o", text="a", messages=CHAT)
    with pytest.raises(ValueError) as theirs:
        ORIGINALS["core"](model="gpt-4o", text="a", messages=CHAT)

    assert str(ours.value) == str(theirs.value)
    assert feature()["total_errors"] == 0


def test_disabled_feature_leaves_every_call_to_litellm(accelerated: dict[str, Any]) -> None:
    litellm_rust.set_feature_state("rust_token_counting", "disabled")
    before = feature()

    answer = litellm.token_counter(model="gpt-4o", messages=CHAT)

    after = feature()
    assert answer == ORIGINALS["core"](model="gpt-4o", messages=CHAT)
    assert after["accelerated_calls"] == before["accelerated_calls"]
    assert after["fallback_calls"] == before["fallback_calls"] + 1


def test_shadow_on_the_real_function_finds_no_mismatch_in_the_corpus(
    accelerated: dict[str, Any],
) -> None:
    litellm_rust.set_feature_state("rust_token_counting", "shadow", 100)
    declined_before = feature()["declined_calls"]  # a total since start, unlike shadow_runs
    served = 0
    # litellm itself would download the tokenizers of DOWNLOAD_MODELS: no network in tests.
    for index, case in enumerate(c for c in CASES if c.kwargs.get("model") not in DOWNLOAD_MODELS):
        if index % 200 == 0:
            # The queue holds 1,024 runs and drops beyond that, by design; draining as we go
            # keeps every case compared even on a slow machine.
            shadow_runner.drain(timeout=300)
        try:
            answer = litellm.token_counter(**case.kwargs)
        except (ValueError, TypeError, KeyError):
            continue  # litellm raises on this input; the caller sees litellm's own error
        assert answer == ORIGINALS["core"](**case.kwargs), case.label
        served += 1
    shadow_runner.drain(timeout=300)

    status = feature()
    assert status["shadow_mismatches"] == 0, status["mismatch_samples"]
    assert status["shadow_errors"] == 0
    assert status["shadow_drops"] == 0
    assert status["shadow_runs"] + status["declined_calls"] - declined_before == served
    assert status["shadow_runs"] > 0.8 * served
    assert status["state"] == "shadow"


def test_count_tokens_and_batch_answer_like_litellm() -> None:
    items: list[Any] = [CHAT, "some plain text", {"messages": CHAT[:1], "tools": None}]
    expected = [
        litellm_function("token_counter")(model="gpt-4o", messages=CHAT),
        litellm_function("token_counter")(model="gpt-4o", text="some plain text"),
        litellm_function("token_counter")(model="gpt-4o", messages=CHAT[:1]),
    ]

    assert litellm_rust.count_tokens("gpt-4o", messages=CHAT) == expected[0]
    litellm_rust.set_feature_state("batch_token_counting", "enabled")
    batch_before = litellm_rust.get_performance_stats()["batch_token_counting"]
    assert litellm_rust.count_tokens_batch("gpt-4o", items) == expected
    litellm_rust.set_feature_state("batch_token_counting", "disabled")
    assert litellm_rust.count_tokens_batch("gpt-4o", items) == expected

    batch_after = litellm_rust.get_performance_stats()["batch_token_counting"]
    assert batch_after["accelerated_calls"] == batch_before["accelerated_calls"] + 1
    assert batch_after["fallback_calls"] == batch_before["fallback_calls"] + 1


def declined_chat() -> tuple[str, list[Any]]:
    """A chat of the corpus that the Rust side declines and litellm counts without network."""
    for case in CASES:
        model, messages = case.kwargs.get("model"), case.kwargs.get("messages")
        if set(case.kwargs) != {"model", "messages"} or model in DOWNLOAD_MODELS:
            continue
        try:
            litellm_rust.tokens.count_tokens(model, messages=messages)  # type: ignore[arg-type]
        except litellm_rust.tokens.UnsupportedInput:
            try:
                litellm_function("token_counter")(model=model, messages=messages)
            except (ValueError, TypeError, KeyError):
                continue  # litellm raises on this one: not a decline it would answer
            return str(model), list(messages)  # type: ignore[call-overload]
    raise AssertionError("the corpus has no declined chat")


def test_batch_counts_items_rust_declines_with_litellm() -> None:
    litellm_rust.set_feature_state("batch_token_counting", "enabled")
    model, declined = declined_chat()
    items: list[Any] = [CHAT, declined, "text"]

    counts = litellm_rust.count_tokens_batch(model, items)

    count = litellm_function("token_counter")
    assert counts == [
        count(model=model, messages=CHAT),
        count(model=model, messages=declined),
        count(model=model, text="text"),
    ]
