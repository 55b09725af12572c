"""litellm's token counting routed through the Rust counter.

Importing this module registers the `token_counting` acceleration, guarded by
`rust_token_counting`; `apply_acceleration()` then replaces litellm's `token_counter`,
`encode` and `decode` with guards whose fallback is litellm's own function. litellm's
`utils.token_counter` (what `litellm.token_counter` is) looks up the core function on every
call, so every module that calls through it reaches the guard; it is patched as well, to spare
that lookup. Modules that imported a function by name hold their own reference, and each
loaded one is patched too.

Inputs the Rust side cannot count exactly (a custom tokenizer, a tokenizer litellm would
download, documents, images by URL, inputs litellm raises on) are declined and answered by
litellm itself; a decline is not an error of the accelerated path.

litellm 1.110.2 ships a native tokenizer of its own (`litellm.rust_bridge`), but its catalog
pins the tokenizer route to Python (`RouteRule(Route.TOKENIZER, Rollout.PYTHON_ONLY)`), so
`LITELLM_RUST` does not change what `token_counter` computes; the fallback here is therefore
always litellm's Python path. Its native tokenizer is measured beside ours in the benchmark.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from litellm_rust import tokens
from litellm_rust.acceleration import Component, Patch, register_component
from litellm_rust.guard import guard

FEATURE = "rust_token_counting"
BATCH_FEATURE = "batch_token_counting"
COMPONENT = "token_counting"
CORE_MODULE = "litellm.litellm_core_utils.token_counter"
UTILS_MODULE = "litellm.utils"

# litellm's own functions, by name, as found when first patched: the fallbacks of record.
_originals: dict[str, Callable[..., Any]] = {}
# One guard per original function, shared by every reference to it, so its counts are whole.
_guards: dict[int, Callable[..., Any]] = {}


def litellm_function(name: str) -> Callable[..., Any]:
    """litellm's own `token_counter`, `encode` or `decode`, never one of our guards."""
    original = _originals.get(name)
    if original is not None:
        return original
    module = importlib.import_module(CORE_MODULE if name == "token_counter" else UTILS_MODULE)
    function: Callable[..., Any] = getattr(module, name)
    return function


def _guard_for(
    name: str, accelerated: Callable[..., Any], fallback: Callable[..., Any] | None = None
) -> Callable[[Any], Any]:
    """A patch maker: the guard replacing `name`, whose fallback is the replaced function (or
    `fallback`, when calling the replaced function would decide a second time)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        _originals.setdefault(name, original)
        guarded = _guards.get(id(original))
        if guarded is None:
            guarded = guard(FEATURE, accelerated, fallback or original)
            _guards[id(original)] = guarded
        return guarded

    return make


def _patches() -> list[Patch]:
    """Every loaded litellm attribute that holds litellm's token_counter, encode or decode."""
    core = importlib.import_module(CORE_MODULE)
    utils = importlib.import_module(UTILS_MODULE)
    core_original = _originals.get("token_counter", core.token_counter)
    # litellm.utils.token_counter (what litellm.token_counter is) checks
    # litellm.disable_token_counter and calls the core function, which checks it again: its
    # guard falls back to the core function directly, so one call is decided once.
    wrapper = (tokens.rust_token_counter, core_original)
    makers: dict[str, Callable[[Any], Any]] = {
        "token_counter": _guard_for("token_counter", tokens.rust_token_counter),
        "utils_token_counter": _guard_for("utils_token_counter", *wrapper),
        "encode": _guard_for("encode", tokens.rust_encode),
        "decode": _guard_for("decode", tokens.rust_decode),
    }
    targets: list[tuple[str, Any]] = [
        ("token_counter", core_original),
        ("utils_token_counter", _originals.get("utils_token_counter", utils.token_counter)),
        ("encode", _originals.get("encode", utils.encode)),
        ("decode", _originals.get("decode", utils.decode)),
    ]
    patches = [
        Patch(CORE_MODULE, "token_counter", makers["token_counter"]),
        Patch(UTILS_MODULE, "token_counter", makers["utils_token_counter"]),
        Patch(UTILS_MODULE, "encode", makers["encode"]),
        Patch(UTILS_MODULE, "decode", makers["decode"]),
    ]
    seen = {(p.module, p.attribute) for p in patches}
    for module_name, module in list(sys.modules.items()):
        if module_name != "litellm" and not module_name.startswith("litellm."):
            continue
        for attribute, value in list(vars(module).items()):
            for name, original in targets:
                if value is original and (module_name, attribute) not in seen:
                    seen.add((module_name, attribute))
                    patches.append(Patch(module_name, attribute, makers[name]))
    return patches


register_component(
    Component(
        name=COMPONENT,
        feature=FEATURE,
        patches=_patches,
        description="litellm.token_counter, encode and decode on the Rust counter",
    )
)


def _litellm_count(
    model: str | None,
    messages: Sequence[Mapping[str, object]] | None = None,
    text: str | list[str] | None = None,
    tools: Sequence[Mapping[str, object]] | None = None,
    tool_choice: str | Mapping[str, object] | None = None,
) -> int:
    count: int = litellm_function("token_counter")(
        model=model, messages=messages, text=text, tools=tools, tool_choice=tool_choice
    )
    return count


count_tokens = guard(FEATURE, tokens.count_tokens, _litellm_count)
count_tokens.__doc__ = """Tokens of a chat (`messages`, with optional `tools` and `tool_choice`)
or of a `text`, exactly as `litellm.token_counter(model=..., ...)` counts them.

Guarded by `rust_token_counting`: the Rust counter answers when the feature is on and the input
is one it counts exactly; litellm answers otherwise.
"""


def _item_arguments(item: object) -> dict[str, Any]:
    if isinstance(item, str):
        return {"text": item}
    if isinstance(item, Mapping):
        return {k: item[k] for k in ("messages", "text", "tools", "tool_choice") if k in item}
    return {"messages": item}


def _batch_rust(model: str | None, items: Sequence[object]) -> list[int]:
    counts = tokens.count_tokens_batch(model, list(items))  # type: ignore[arg-type]
    # None marks an item the Rust side cannot count exactly: litellm counts that one.
    return [
        count if count is not None else _litellm_count(model, **_item_arguments(item))
        for count, item in zip(counts, items, strict=True)
    ]


def _batch_one_by_one(model: str | None, items: Sequence[object]) -> list[int]:
    return [count_tokens(model, **_item_arguments(item)) for item in items]


count_tokens_batch = guard(BATCH_FEATURE, _batch_rust, _batch_one_by_one)
count_tokens_batch.__doc__ = """Token counts of many chats or texts, in input order.

An item is a message list, a text, or a dict with `messages` or `text` and optional `tools` and
`tool_choice`. Guarded by `batch_token_counting` (which depends on `rust_token_counting`): when
on, the items are counted in parallel across cores with the GIL released; when off, each item
goes through `count_tokens`. Items the Rust side cannot count exactly are counted by litellm.
"""
