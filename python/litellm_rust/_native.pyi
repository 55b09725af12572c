"""The compiled core of litellm-rust. Private: use the `litellm_rust` package."""

import os
from collections.abc import Callable, Sequence
from typing import Any, final

__all__ = [
    "LOG_LEVEL",
    "ConfigError",
    "Guard",
    "LitellmRustError",
    "PanicException",
    "TokenCounter",
    "TokenizerUnavailable",
    "UnknownFeatureError",
    "UnsupportedInput",
    "alert_file",
    "clear_runtime_overrides",
    "decide",
    "explain_json",
    "initialize",
    "is_enabled",
    "load_config",
    "performance_stats_json",
    "prometheus_text",
    "record_decline",
    "record_error",
    "record_fallback",
    "record_shadow",
    "record_shadow_drop",
    "record_success",
    "reload_config",
    "reset_errors",
    "set_feature_state",
    "status_json",
    "validate_file",
]

LOG_LEVEL: str

@final
class Guard:
    """Runs `accelerated` or `fallback` for each call, as the flag engine decides."""

    def __new__(
        cls,
        feature: str,
        accelerated: Callable[..., Any],
        fallback: Callable[..., Any],
        key: Callable[..., str | None] | None = None,
        compare: Callable[[Any, Any], bool] | None = None,
        shadow: Callable[..., None] | None = None,
    ) -> Guard: ...
    @property
    def feature(self) -> str:
        """The guarded feature."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

class LitellmRustError(Exception):
    """Base class of every error litellm-rust raises."""

class PanicException(BaseException):
    """A Rust panic, surfaced by PyO3. Guards answer it with the fallback like any error."""

class ConfigError(LitellmRustError, ValueError):
    """The feature-flag configuration is invalid; `problems` lists every problem found."""

    problems: list[str]

class UnknownFeatureError(LitellmRustError, LookupError):
    """No feature of this name is built in or configured; `feature` is the name asked for."""

    feature: str

class UnsupportedInput(LitellmRustError):
    """The Rust side cannot answer this input exactly; LiteLLM's Python path must.

    `reason` says what was met.
    """

    reason: str

class TokenizerUnavailable(UnsupportedInput):
    """A tokenizer file shipped inside litellm could not be loaded."""

@final
class TokenCounter:
    """LiteLLM 1.110.2's token counting for one installed litellm package.

    Built from the model cost map JSON (model name -> entry, LiteLLM's format) and the folder of
    litellm's bundled Hugging Face tokenizer files. Tokenizers load on first use.
    """

    def __new__(cls, cost_map_json: str, tokenizer_dir: str | os.PathLike[str]) -> TokenCounter: ...
    def count(
        self,
        model: str | None,
        messages: list[dict[str, object]] | None = None,
        text: str | list[str] | None = None,
        tools: list[dict[str, object]] | None = None,
        tool_choice: str | dict[str, object] | None = None,
        count_extras: bool = True,
        use_default_image_token_count: bool = False,
        default_token_count: int | None = None,
        hugging_face_disabled: bool = False,
    ) -> int:
        """`litellm.token_counter`; raises UnsupportedInput where it cannot answer exactly.

        `count_extras` is LiteLLM's `count_response_tokens is False`: whether the reply primer,
        tools and tool_choice are added. The GIL is released while counting.
        """

    def count_batch(
        self,
        model: str | None,
        items: list[list[dict[str, object]] | str | dict[str, object]],
        hugging_face_disabled: bool = False,
    ) -> list[int | None]:
        """Counts many inputs in parallel, without the GIL; results in input order.

        An item is a message list, a text, or a dict with `messages` or `text` and optional
        `tools` and `tool_choice`. None marks an item the Rust side cannot count exactly.
        """

    def encode(
        self, model: str | None, text: str, hugging_face_disabled: bool = False
    ) -> list[int]:
        """`litellm.encode(model=model, text=text)`."""

    def decode(
        self, model: str | None, tokens: Sequence[int], hugging_face_disabled: bool = False
    ) -> str:
        """`litellm.decode(model=model, tokens=tokens)` with special tokens skipped."""

    def tokenizer_name(self, model: str | None, hugging_face_disabled: bool = False) -> str | None:
        """The tokenizer LiteLLM counts `model` with, or None when Python must count."""

def initialize() -> list[str]:
    """Configure the engine from the environment if not done yet.

    Returns the problems that hold every feature off; empty when the configuration is valid.
    Never raises for a bad configuration.
    """

def is_enabled(feature: str, key: str | None = None) -> bool:
    """True when `feature` is on (the accelerated path serves) for this call.

    With a `key` the answer is sticky: the key's bucket, murmur3_32("<group_id>:<key>") % 100 + 1,
    is compared with the rollout percentage, as Unleash's gradual rollout does. Without a key
    each call draws afresh. Unknown features are False; shadow features are False.
    """

def decide(feature: str, key: str | None = None) -> str:
    """The decision for this call: "on", "off" or "shadow"."""

def explain_json(feature: str, key: str | None = None) -> str:
    """The decision for this call and everything that went into it, as JSON."""

def status_json() -> str:
    """The full status of the engine, as JSON."""

def set_feature_state(feature: str, state: str, rollout_percentage: float | None = None) -> None:
    """Set a feature's state at runtime, above the file and environment settings.

    Clears any automatic degradation of the feature. Raises UnknownFeatureError for a name that
    is not built in or configured, and ConfigError for a bad state or percentage.
    """

def clear_runtime_overrides() -> None:
    """Drop every change made with set_feature_state; the file and environment apply again."""

def reset_errors(feature: str | None = None) -> None:
    """Clear error counts and degradation of one feature, or of every feature."""

def load_config(path: str | os.PathLike[str] | None = None) -> None:
    """Load the JSON configuration file at `path`, with the environment over it.

    Without a path, the file named by LITELLM_RUST_FEATURE_CONFIG (if any) is loaded. On any
    problem raises ConfigError listing every problem, and the configuration in force stays in
    force. Later reload_config() calls read the same file again.
    """

def reload_config() -> None:
    """Read the environment and the current configuration file again.

    On any problem raises ConfigError listing every problem, and the configuration in force
    stays in force.
    """

def validate_file(path: str | bytes | object) -> list[str]:
    """Every problem of the configuration file at `path`; empty when it is valid."""

def alert_file() -> str | None:
    """The path of the alert file in force (LITELLM_RUST_ALERT_FILE), if any."""

def record_success(feature: str, ns: int) -> None:
    """Record an accelerated call of `feature` that succeeded in `ns` nanoseconds."""

def record_error(feature: str, ns: int, error: str) -> bool:
    """Record an accelerated call of `feature` that failed; True when the fallback should answer."""

def record_decline(feature: str) -> None:
    """Record a call of `feature` that the accelerated path declined (UnsupportedInput)."""

def record_fallback(feature: str, ns: int) -> None:
    """Record a call of `feature` that the Python path answered in `ns` nanoseconds."""

def record_shadow(
    feature: str,
    ns: int,
    matched: bool,
    error: str | None = None,
    input: str = "",
    expected: str = "",
    actual: str = "",
) -> None:
    """Record one shadow run of `feature` that took `ns` nanoseconds; values are truncated."""

def record_shadow_drop(feature: str) -> None:
    """Count a shadow run of `feature` dropped because the shadow queue was full."""

def performance_stats_json() -> str:
    """Per-feature counts and latency, as JSON."""

def prometheus_text() -> str:
    """The metrics in the Prometheus text exposition format."""
