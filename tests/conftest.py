"""Shared fixtures: a clean flag engine per test, and subprocesses with a chosen environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# litellm fetches its model cost map over the network at import unless told not to; the tests
# (and the Rust side) use the map that ships inside the package.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm_rust


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without LITELLM_RUST_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_RUST_")}
    env.pop("RUST_LOG", None)
    env.update(extra)
    return env


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter whose only LITELLM_RUST_* variables are `env`."""
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(autouse=True)
def fresh_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts from the built-in defaults and leaves no runtime change behind."""
    for name in list(os.environ):
        if name.startswith("LITELLM_RUST_"):
            monkeypatch.delenv(name)
    litellm_rust.clear_runtime_overrides()
    litellm_rust.load_config()
    litellm_rust.reset_errors()
    yield
    monkeypatch.undo()
    litellm_rust.clear_runtime_overrides()
    litellm_rust.reset_errors()


def write_config(folder: Path, text: str, mode: int = 0o600, name: str = "flags.json") -> Path:
    path = folder / name
    path.write_text(text)
    path.chmod(mode)
    return path
