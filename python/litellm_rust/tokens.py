"""Token counting on the Rust core, answering exactly as litellm 1.110.2 does, or refusing.

`rust_token_counter`, `rust_encode` and `rust_decode` take the arguments of `litellm.token_counter`,
`litellm.encode` and `litellm.decode`. Where the Rust side cannot prove its answer equal to
LiteLLM's (a custom or downloaded tokenizer, a PDF, an image LiteLLM would fetch, an input LiteLLM
raises on, a LiteLLM constant overridden from the environment) they raise `UnsupportedInput`,
and the caller asks LiteLLM's Python path instead.

The tokenizer files and the model cost map are read from the installed litellm package, found
without importing it. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from litellm_rust._native import TokenCounter, TokenizerUnavailable, UnsupportedInput

__all__ = [
    "TokenizerUnavailable",
    "UnsupportedInput",
    "count_tokens",
    "count_tokens_batch",
    "load_token_counter",
    "rust_decode",
    "rust_encode",
    "rust_token_counter",
]

# LiteLLM reads these constants of its token counter from the environment once, at its import;
# the Rust side has LiteLLM's defaults built in, so an override sends every call to Python. The
# environment is read once too, when the counter loads: reading it per call cost 15 µs, three
# times the count of a short chat.
_LITELLM_CONSTANT_VARIABLES = (
    "TIKTOKEN_ENCODE_CHUNK_SIZE_CHARS",
    "TOKEN_COUNTER_MAX_EXACT_CHARS",
    "DEFAULT_IMAGE_TOKEN_COUNT",
    "DEFAULT_IMAGE_WIDTH",
    "DEFAULT_IMAGE_HEIGHT",
    "MAX_IMAGE_URL_DOWNLOAD_SIZE_MB",
    "MAX_SHORT_SIDE_FOR_IMAGE_HIGH_RES",
    "MAX_LONG_SIDE_FOR_IMAGE_HIGH_RES",
    "MAX_TILE_WIDTH",
    "MAX_TILE_HEIGHT",
)

_lock = threading.Lock()
_counter: TokenCounter | None = None
_overridden_constant: str | None = None


def _unsupported(reason: str) -> UnsupportedInput:
    error = UnsupportedInput(f"litellm-rust cannot count this input exactly: {reason}")
    error.reason = reason
    return error


def litellm_package_dir() -> Path:
    """The installed litellm package's folder, found without importing litellm."""
    spec = importlib.util.find_spec("litellm")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        error = TokenizerUnavailable("litellm is not installed, so its tokenizer files are missing")
        error.reason = "litellm is not installed"
        raise error
    return Path(next(iter(locations)))


def load_token_counter(cost_map_json: str | None = None) -> TokenCounter:
    """(Re)build the process-wide counter.

    By default it reads the model cost map litellm ships
    (`model_prices_and_context_window_backup.json`). Pass `json.dumps(litellm.model_cost)` when
    litellm runs with another map (a remote fetch, registered models), so that the Rust side
    selects tokenizers from the same entries.
    """
    global _counter, _overridden_constant
    package = litellm_package_dir()
    if cost_map_json is None:
        backup = package / "model_prices_and_context_window_backup.json"
        cost_map_json = backup.read_text(encoding="utf-8")
    counter = TokenCounter(cost_map_json, str(package / "litellm_core_utils" / "tokenizers"))
    overridden = next((name for name in _LITELLM_CONSTANT_VARIABLES if name in os.environ), None)
    with _lock:
        _counter = counter
        _overridden_constant = overridden
    return counter


def _token_counter() -> TokenCounter:
    counter = _counter
    if counter is not None:
        return counter
    with _lock:
        if _counter is not None:
            return _counter
    return load_token_counter()


def _litellm_switches() -> tuple[bool, bool]:
    """`litellm.disable_token_counter` and `litellm.disable_hf_tokenizer_download`, read only
    when litellm is already imported (otherwise both are at their defaults)."""
    litellm = sys.modules.get("litellm")
    if litellm is None:
        return False, False
    return (
        getattr(litellm, "disable_token_counter", False) is True,
        getattr(litellm, "disable_hf_tokenizer_download", None) is True,
    )


def _refuse_overridden_constants() -> None:
    name = _overridden_constant
    if name is not None:
        raise _unsupported(f"{name} is set, overriding a constant of litellm's token counter")


def rust_token_counter(
    model: str | None = "",
    custom_tokenizer: Mapping[str, object] | None = None,
    text: str | list[str] | None = None,
    messages: Sequence[Mapping[str, object]] | None = None,
    count_response_tokens: bool | None = False,
    tools: list[Mapping[str, object]] | None = None,
    tool_choice: str | Mapping[str, object] | None = None,
    use_default_image_token_count: bool | None = False,
    default_token_count: int | None = None,
) -> int:
    """`litellm.token_counter` on the Rust core, with the same arguments and answer.

    Raises UnsupportedInput where the answer cannot be proven equal to LiteLLM's.
    """
    disabled, hugging_face_disabled = _litellm_switches()
    if disabled:
        return 0
    if custom_tokenizer is not None:
        raise _unsupported("a custom tokenizer")
    if default_token_count is not None and type(default_token_count) is not int:
        raise _unsupported("a default_token_count that is not an int")
    counter = _token_counter()
    _refuse_overridden_constants()
    return counter.count(
        model,
        messages,  # type: ignore[arg-type]  # the native side checks and refuses other shapes
        text,
        tools,  # type: ignore[arg-type]
        tool_choice,  # type: ignore[arg-type]
        count_response_tokens is False,
        bool(use_default_image_token_count),
        default_token_count,
        hugging_face_disabled,
    )


def rust_encode(
    model: str | None = "", text: str = "", custom_tokenizer: Mapping[str, object] | None = None
) -> list[int]:
    """`litellm.encode` on the Rust core: token ids of `text` for `model`'s tokenizer."""
    if custom_tokenizer is not None:
        raise _unsupported("a custom tokenizer")
    if not isinstance(text, str):
        raise _unsupported("text that is not a str")
    _, hugging_face_disabled = _litellm_switches()
    return _token_counter().encode(model, text, hugging_face_disabled)


def rust_decode(
    model: str | None = "",
    tokens: Sequence[int] = (),
    custom_tokenizer: Mapping[str, object] | None = None,
    skip_special_tokens: bool = True,
) -> str:
    """`litellm.decode` on the Rust core: the text of `tokens` for `model`'s tokenizer."""
    if custom_tokenizer is not None:
        raise _unsupported("a custom tokenizer")
    if skip_special_tokens is not True:
        raise _unsupported("skip_special_tokens=False")
    _, hugging_face_disabled = _litellm_switches()
    try:
        return _token_counter().decode(model, tokens, hugging_face_disabled)
    except (OverflowError, TypeError) as error:
        raise _unsupported(f"token ids that are not 32-bit unsigned ints ({error})") from error


def count_tokens(
    model: str | None,
    messages: list[dict[str, object]] | None = None,
    text: str | list[str] | None = None,
    tools: list[dict[str, object]] | None = None,
    tool_choice: str | dict[str, object] | None = None,
) -> int:
    """`litellm.token_counter(model=..., messages=... or text=..., tools=..., tool_choice=...)`.

    Raises UnsupportedInput where the Rust side cannot answer exactly.
    """
    counter = _token_counter()
    _refuse_overridden_constants()
    _, hugging_face_disabled = _litellm_switches()
    return counter.count(
        model, messages, text, tools, tool_choice, hugging_face_disabled=hugging_face_disabled
    )


def count_tokens_batch(
    model: str | None, items: list[list[dict[str, object]] | str | dict[str, object]]
) -> list[int | None]:
    """Counts many inputs for one model in parallel across cores, without the GIL.

    An item is a message list, a text, or a dict with `messages` or `text` and optional `tools`
    and `tool_choice`. Results come in input order; None marks an item the Rust side cannot
    count exactly (count that one with `litellm.token_counter`).
    """
    counter = _token_counter()
    _refuse_overridden_constants()
    _, hugging_face_disabled = _litellm_switches()
    return counter.count_batch(model, items, hugging_face_disabled)
