"""The feature-flag API: decisions, status and configuration.

Decisions (`is_enabled`, `decide`) are the native functions themselves, so a call costs one
native call and nothing more. The functions defined here return Python objects built from the
engine's JSON and are meant for status pages, tools and tests, not for hot paths.
"""

from __future__ import annotations

import json
import os
from typing import Any, Union

from litellm_rust import _native

PathArg = Union[str, "os.PathLike[str]"]

is_enabled = _native.is_enabled
decide = _native.decide
set_feature_state = _native.set_feature_state
clear_runtime_overrides = _native.clear_runtime_overrides
reset_errors = _native.reset_errors
reload_config = _native.reload_config


def load_config(path: PathArg | None = None) -> None:
    """Load the JSON configuration file at `path`, with the environment over it.

    Without a path, the file named by `LITELLM_RUST_FEATURE_CONFIG` (if any) is loaded: the
    way back to the environment's configuration after loading another file. Raises
    `ConfigError` (a `ValueError`) listing every problem; the configuration in force before the
    call then stays in force. Later `reload_config()` calls read the same file again.
    """
    _native.load_config(None if path is None else os.fspath(path))


def validate_config(path: PathArg) -> list[str]:
    """Every problem of the configuration file at `path`, without loading it; empty if valid."""
    return _native.validate_file(os.fspath(path))


def get_feature_status() -> dict[str, Any]:
    """The engine's status.

    `status["global_status"]` holds `enabled_features` (enabled, canary and gradual_rollout
    features that are serving), `shadow_features`, `disabled_features`, `degraded_features`,
    `disable_all`, `configuration` (validity, file, problems, last rejected load),
    `global_settings`, `alert_file` and `audit_trail`. `status["features"][name]` holds the
    effective `state` and `rollout_percentage`, the configured ones, thresholds, `dependencies`,
    `error_count` (consecutive), `total_errors`, `avg_performance_ms`, degradation, and the
    source of each setting.
    """
    status: dict[str, Any] = json.loads(_native.status_json())
    return status


def explain(feature: str, key: str | None = None) -> dict[str, Any]:
    """The decision for one call of `feature` (with an optional stickiness `key`) and why.

    The result names the decision, the deciding rule, the effective state, the key's bucket or
    the call's draw, the source of each setting, and the same for each dependency evaluated.
    """
    explanation: dict[str, Any] = json.loads(_native.explain_json(feature, key))
    return explanation
