"""The acceleration registry: what apply_acceleration patches and remove_acceleration restores."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

import litellm_rust
from litellm_rust.acceleration import applied_targets


@pytest.fixture
def host_module() -> Iterator[types.ModuleType]:
    module = types.ModuleType("host_app_for_test")

    def count(text: str) -> int:
        return len(text.split())

    module.count = count  # type: ignore[attr-defined]
    module.other = count  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    litellm_rust.remove_acceleration(["word_counter"])
    del sys.modules[module.__name__]


def faster(original: Any) -> Any:
    def replacement(text: str) -> int:
        return int(original(text))

    return replacement


def component() -> litellm_rust.Component:
    return litellm_rust.Component(
        name="word_counter",
        feature="rust_token_counting",
        patches=lambda: [
            litellm_rust.Patch("host_app_for_test", "count", faster),
            litellm_rust.Patch("host_app_for_test", "missing", faster),
            litellm_rust.Patch("no_such_module_anywhere", "count", faster),
        ],
    )


def test_apply_reports_what_it_patched_and_remove_restores_the_originals(
    host_module: types.ModuleType,
) -> None:
    original = host_module.count
    litellm_rust.register_component(component())

    report = litellm_rust.apply_acceleration(["word_counter"])

    entry = report["word_counter"]
    assert entry["feature"] == "rust_token_counting"
    assert entry["patched"] == ["host_app_for_test.count"]
    assert [s["target"] for s in entry["skipped"]] == [
        "host_app_for_test.missing",
        "no_such_module_anywhere.count",
    ]
    assert host_module.count is not original
    assert host_module.count("a b c") == 3
    assert applied_targets()["word_counter"] == ["host_app_for_test.count"]

    again = litellm_rust.apply_acceleration(["word_counter"])
    assert again["word_counter"]["patched"] == []

    removed = litellm_rust.remove_acceleration(["word_counter"])
    assert removed["word_counter"] == {"restored": ["host_app_for_test.count"], "left": []}
    assert host_module.count is original


def test_remove_leaves_a_later_patch_by_someone_else(host_module: types.ModuleType) -> None:
    litellm_rust.register_component(component())
    litellm_rust.apply_acceleration(["word_counter"])

    def theirs(text: str) -> int:
        return 0

    host_module.count = theirs  # type: ignore[attr-defined]
    removed = litellm_rust.remove_acceleration(["word_counter"])

    assert removed["word_counter"]["left"] == [
        {"target": "host_app_for_test.count", "reason": "replaced by other code"}
    ]
    assert host_module.count is theirs


def test_unknown_component_is_named() -> None:
    with pytest.raises(ValueError, match="unknown component 'nope'"):
        litellm_rust.apply_acceleration(["nope"])
