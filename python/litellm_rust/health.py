"""`health_check()`: checks that each part litellm-rust depends on is in working order."""

from __future__ import annotations

import os
from typing import Any

from litellm_rust import _native
from litellm_rust.flags import get_feature_status


def _alert_file_check(path: str | None) -> dict[str, Any]:
    if path is None:
        return {"ok": True, "detail": "no alert file configured (LITELLM_RUST_ALERT_FILE unset)"}
    if os.path.isdir(path):
        return {"ok": False, "detail": f"{path} is a directory, not a file"}
    if os.path.exists(path):
        writable = os.access(path, os.W_OK)
        detail = "writable" if writable else "not writable by this process"
        return {"ok": writable, "detail": f"{path}: {detail}"}
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return {"ok": False, "detail": f"{path}: directory {parent} does not exist"}
    creatable = os.access(parent, os.W_OK)
    detail = "will be created on first alert" if creatable else f"{parent} is not writable"
    return {"ok": creatable, "detail": f"{path}: {detail}"}


def health_check() -> dict[str, Any]:
    """Run every check; `healthy` is True only when all pass.

    Checks: the native module answers a decision, the configuration is valid (problems listed
    otherwise), and the alert file, when one is set, can be written.
    """
    checks: dict[str, dict[str, Any]] = {}
    decision = _native.decide("performance_monitoring")
    checks["native_module"] = {
        "ok": decision in ("on", "off", "shadow"),
        "detail": f"{_native.__name__} loaded; performance_monitoring decides {decision!r}",
    }
    configuration = get_feature_status()["global_status"]["configuration"]
    problems = configuration["problems"]
    checks["configuration"] = {
        "ok": configuration["valid"],
        "detail": "valid" if configuration["valid"] else "; ".join(problems),
        "file": configuration["file"],
    }
    checks["alert_file"] = _alert_file_check(_native.alert_file())
    return {"healthy": all(c["ok"] for c in checks.values()), "checks": checks}
