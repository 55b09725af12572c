"""litellm-rust: Rust acceleration for LiteLLM's hot paths, rolled out behind feature flags.

Importing this package is cheap and does not import litellm. The flag engine is configured
from the environment at import; a bad configuration never raises here: every feature then
stays on LiteLLM's Python path, the problem is logged under the `litellm_rust` logger, and
`get_feature_status()["global_status"]["configuration"]` shows it.
"""

from __future__ import annotations

import logging

from litellm_rust import _logging, _native
from litellm_rust.acceleration import (
    Component,
    Patch,
    apply_acceleration,
    register_component,
    remove_acceleration,
)
from litellm_rust.errors import (
    ConfigError,
    LitellmRustError,
    TokenizerUnavailable,
    UnknownFeatureError,
    UnsupportedInput,
)
from litellm_rust.flags import (
    clear_runtime_overrides,
    decide,
    explain,
    get_feature_status,
    is_enabled,
    load_config,
    reload_config,
    reset_errors,
    set_feature_state,
    validate_config,
)
from litellm_rust.guard import guard
from litellm_rust.health import health_check
from litellm_rust.litellm_tokens import count_tokens, count_tokens_batch
from litellm_rust.metrics import export_performance_data, get_performance_stats

__all__ = [
    "Component",
    "ConfigError",
    "LitellmRustError",
    "Patch",
    "TokenizerUnavailable",
    "UnknownFeatureError",
    "UnsupportedInput",
    "apply_acceleration",
    "clear_runtime_overrides",
    "count_tokens",
    "count_tokens_batch",
    "decide",
    "explain",
    "export_performance_data",
    "get_feature_status",
    "get_performance_stats",
    "guard",
    "health_check",
    "is_enabled",
    "load_config",
    "register_component",
    "reload_config",
    "remove_acceleration",
    "reset_errors",
    "set_feature_state",
    "validate_config",
]

_logging.configure()
_startup_problems = _native.initialize()
if _startup_problems:
    logging.getLogger("litellm_rust").warning(
        "invalid configuration; every feature stays on LiteLLM's Python path: %s",
        "; ".join(_startup_problems),
    )
