"""The registry of accelerations and the patching that installs them into litellm.

A component names the feature that guards it and the attributes it replaces. Applying a
component replaces each attribute and keeps the original; removing it puts back exactly the
original object, and only where our replacement is still in place, so a later patch by someone
else is never clobbered. Both report precisely what they did.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("litellm_rust.acceleration")


@dataclass(frozen=True)
class Patch:
    """Replace `module.attribute` with `make(original)`."""

    module: str
    attribute: str
    make: Callable[[Any], Any]

    @property
    def target(self) -> str:
        return f"{self.module}.{self.attribute}"


@dataclass(frozen=True)
class Component:
    """An acceleration: the feature guarding it and the patches that install it.

    `patches` is called when the component is applied, so that building the replacements (and
    importing litellm) costs nothing at import of litellm_rust.
    """

    name: str
    feature: str
    patches: Callable[[], list[Patch]]
    description: str = ""


@dataclass
class _Applied:
    owner: Any
    attribute: str
    original: Any
    replacement: Any


@dataclass
class _Registry:
    components: dict[str, Component] = field(default_factory=dict)
    applied: dict[str, list[tuple[str, _Applied]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


_registry = _Registry()


def register_component(component: Component) -> None:
    """Add a component; a component of the same name is replaced (and must not be applied)."""
    with _registry.lock:
        if component.name in _registry.applied:
            raise RuntimeError(
                f"component '{component.name}' is applied; call remove_acceleration() first"
            )
        _registry.components[component.name] = component


def registered_components() -> list[str]:
    """The names of the registered components."""
    with _registry.lock:
        return sorted(_registry.components)


def apply_acceleration(components: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Install the registered accelerations (or the named ones) into litellm.

    Returns, per component, its `feature`, the dotted `patched` targets, and `skipped` targets
    with the reason (module not importable, attribute missing, already patched). A component
    whose patches cannot be built is reported with its `error` and left out whole.
    """
    report: dict[str, dict[str, Any]] = {}
    with _registry.lock:
        names = sorted(_registry.components) if components is None else components
        for name in names:
            component = _registry.components.get(name)
            if component is None:
                known = ", ".join(sorted(_registry.components)) or "none"
                raise ValueError(f"unknown component '{name}'; registered components: {known}")
            report[name] = _apply_one(component)
    return report


def _apply_one(component: Component) -> dict[str, Any]:
    entry: dict[str, Any] = {"feature": component.feature, "patched": [], "skipped": []}
    if component.name in _registry.applied:
        entry["skipped"].append({"target": "*", "reason": "already applied"})
        return entry
    try:
        patches = component.patches()
    except (ImportError, AttributeError) as error:
        entry["error"] = f"{type(error).__name__}: {error}"
        logger.warning("acceleration %s not applied: %s", component.name, entry["error"])
        return entry

    done: list[tuple[str, _Applied]] = []
    for patch in patches:
        try:
            owner = importlib.import_module(patch.module)
        except ImportError as error:
            entry["skipped"].append({"target": patch.target, "reason": f"not importable: {error}"})
            continue
        if not hasattr(owner, patch.attribute):
            entry["skipped"].append({"target": patch.target, "reason": "attribute not found"})
            continue
        original = getattr(owner, patch.attribute)
        replacement = patch.make(original)
        setattr(owner, patch.attribute, replacement)
        done.append((patch.target, _Applied(owner, patch.attribute, original, replacement)))
        entry["patched"].append(patch.target)
    _registry.applied[component.name] = done
    logger.info(
        "acceleration %s applied under feature %s: %d patched, %d skipped",
        component.name,
        component.feature,
        len(entry["patched"]),
        len(entry["skipped"]),
    )
    return entry


def remove_acceleration(components: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Put back the original objects that apply_acceleration replaced.

    Code that copied a replacement after it was applied (a later `from module import name`)
    holds a reference of its own; loaded modules of the same package are swept for such
    references, which are restored too. Returns, per component, the `restored` targets and
    those `left` because something else replaced our patch since (restoring would undo that
    other change).
    """
    report: dict[str, dict[str, Any]] = {}
    with _registry.lock:
        names = sorted(_registry.applied) if components is None else components
        for name in names:
            done = _registry.applied.pop(name, [])
            entry: dict[str, Any] = {"restored": [], "left": []}
            for target, applied in reversed(done):
                current = getattr(applied.owner, applied.attribute, None)
                if current is applied.replacement:
                    setattr(applied.owner, applied.attribute, applied.original)
                    entry["restored"].append(target)
                else:
                    entry["left"].append({"target": target, "reason": "replaced by other code"})
            entry["restored"].extend(_sweep(done))
            report[name] = entry
    return report


def _sweep(done: list[tuple[str, _Applied]]) -> list[str]:
    """Restore the references to our replacements that loaded modules copied after apply."""
    originals = {id(a.replacement): a for _, a in done}
    packages = {getattr(a.owner, "__name__", "").split(".")[0] for _, a in done}
    restored = []
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[0] not in packages:
            continue
        for attribute, value in list(vars(module).items()):
            applied = originals.get(id(value))
            if applied is not None and value is applied.replacement:
                setattr(module, attribute, applied.original)
                restored.append(f"{module_name}.{attribute}")
    return restored


def applied_targets() -> dict[str, list[str]]:
    """Per applied component, the dotted targets currently patched."""
    with _registry.lock:
        return {name: [t for t, _ in done] for name, done in _registry.applied.items()}
