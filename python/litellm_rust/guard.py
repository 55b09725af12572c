"""`guard()`: wrap an accelerated function and its Python fallback behind a feature.

Each call is decided by the flag engine, run on the chosen path, timed, and recorded. An error
of the accelerated path is answered by the fallback when the feature's `fallback_on_error` is
true; `error_threshold` consecutive errors, or latency above `performance_threshold_ms` for
`performance_window` consecutive calls, degrade the feature to disabled with an alert.

In shadow, the fallback answers and the accelerated function runs afterwards on a worker
thread, fed by a bounded queue: the caller pays one enqueue and is never blocked; a full
queue drops the run and counts the drop.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from litellm_rust import _native

F = TypeVar("F", bound=Callable[..., Any])

SHADOW_QUEUE_SIZE = 1024


class _ShadowRunner:
    """Runs queued shadow comparisons on one daemon thread."""

    def __init__(self, capacity: int) -> None:
        self._queue: queue.Queue[tuple[Any, ...]] = queue.Queue(maxsize=capacity)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(
        self,
        feature: str,
        accelerated: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        expected: Any,
        compare: Callable[[Any, Any], bool] | None,
    ) -> None:
        self._start()
        try:
            self._queue.put_nowait((feature, accelerated, args, kwargs or {}, expected, compare))
        except queue.Full:
            _native.record_shadow_drop(feature)

    def _start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="litellm-rust-shadow", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            try:
                self._compare(*job)
            finally:
                self._queue.task_done()

    @staticmethod
    def _compare(
        feature: str,
        accelerated: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        expected: Any,
        compare: Callable[[Any, Any], bool] | None,
    ) -> None:
        # Any failure of the accelerated path in shadow is counted, never raised: the caller
        # was answered by the Python path already.
        try:
            actual = accelerated(*args, **kwargs)
            matched = bool(compare(expected, actual)) if compare else expected == actual
        except Exception:
            _native.record_shadow(feature, matched=False, error=True)
            return
        if matched:
            _native.record_shadow(feature, matched=True, error=False)
        else:
            _native.record_shadow(
                feature,
                matched=False,
                error=False,
                input=repr((args, kwargs)),
                expected=repr(expected),
                actual=repr(actual),
            )

    def drain(self) -> None:
        """Wait until every queued shadow run is done (for tests and orderly shutdown)."""
        self._queue.join()


shadow_runner = _ShadowRunner(SHADOW_QUEUE_SIZE)


def guard(
    feature: str,
    accelerated: F,
    fallback: F,
    *,
    key: Callable[..., str | None] | None = None,
    compare: Callable[[Any, Any], bool] | None = None,
) -> F:
    """A callable with `fallback`'s signature that runs `accelerated` when `feature` is on.

    `key`, called with the call's arguments, returns the stickiness key (or None); `compare`
    decides whether a shadow answer agrees with the Python one (default `==`).
    """

    def submit(
        accelerated_fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        expected: Any,
        python_ns: int,
        compare_fn: Callable[[Any, Any], bool] | None,
    ) -> None:
        shadow_runner.submit(feature, accelerated_fn, args, kwargs, expected, compare_fn)

    guarded = _native.Guard(feature, accelerated, fallback, key, compare, submit)
    guarded.__wrapped__ = fallback  # type: ignore[attr-defined]
    guarded.__doc__ = fallback.__doc__
    guarded.__name__ = getattr(fallback, "__name__", feature)  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]
