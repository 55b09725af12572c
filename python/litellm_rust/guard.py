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

import collections
import functools
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    import asyncio

from litellm_rust import _native

F = TypeVar("F", bound=Callable[..., Any])

SHADOW_QUEUE_SIZE = 1024
logger = logging.getLogger("litellm_rust.guard")
# The errors a guard answers with the fallback: ordinary exceptions and Rust panics (which
# PyO3 raises as a BaseException subclass). KeyboardInterrupt and SystemExit pass through.
RECOVERABLE = (Exception, _native.PanicException)
# An accelerated path raises UnsupportedInput for an input it cannot answer exactly: the Python
# path answers, and the call counts as declined, not as an error.
DECLINE = _native.UnsupportedInput


class _ShadowRunner:
    """Runs queued shadow comparisons on one daemon thread.

    The queue is a deque: appending is atomic under the GIL and takes no lock, where
    `queue.Queue.put` takes two. The worker is woken only when it may be waiting, so a busy
    worker costs the caller nothing but the append.
    """

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._jobs: collections.deque[tuple[Any, ...]] = collections.deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
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
        if self._thread is None:
            self._start()
        if len(self._jobs) >= self._capacity:
            _native.record_shadow_drop(feature)
            return
        self._jobs.append((feature, accelerated, args, kwargs or {}, expected, compare))
        if not self._wake.is_set():
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="litellm-rust-shadow", daemon=True)
                thread.start()
                self._thread = thread

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # Cleared before draining: a job appended from here on sets the event again, so
            # no wake-up is lost.
            self._wake.clear()
            self._busy = True
            while self._jobs:
                self._compare(*self._jobs.popleft())
            with self._idle:
                self._busy = False
                self._idle.notify_all()

    @staticmethod
    def _compare(
        feature: str,
        accelerated: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        expected: Any,
        compare: Callable[[Any, Any], bool] | None,
    ) -> None:
        started = time.perf_counter_ns()
        try:
            actual = accelerated(*args, **kwargs)
        except RECOVERABLE as error:
            settle_shadow(feature, started, args, kwargs, expected, compare, error=error)
            return
        settle_shadow(feature, started, args, kwargs, expected, compare, actual=actual)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every queued shadow run is done (for tests and orderly shutdown)."""
        with self._idle:
            self._idle.wait_for(lambda: not self._jobs and not self._busy, timeout=timeout)


def settle_shadow(
    feature: str,
    started: int,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    expected: Any,
    compare: Callable[[Any, Any], bool] | None,
    *,
    actual: Any = None,
    error: BaseException | None = None,
) -> None:
    """Record how one shadow run went. Any failure of the accelerated path (or of `compare`)
    is counted, never raised: the caller was answered by the Python path already."""
    if error is None:
        try:
            matched = bool(compare(expected, actual)) if compare else expected == actual
        except RECOVERABLE as compare_error:
            error = compare_error
    ns = time.perf_counter_ns() - started
    if isinstance(error, DECLINE):
        _native.record_decline(feature)
    elif error is not None:
        _native.record_shadow(feature, ns, False, f"{type(error).__name__}: {error}")
    elif matched:
        _native.record_shadow(feature, ns, True)
    else:
        shown = repr((args, kwargs))
        _native.record_shadow(feature, ns, False, None, shown, repr(expected), repr(actual))


shadow_runner = _ShadowRunner(SHADOW_QUEUE_SIZE)


def _key_of(key: Callable[..., str | None] | None, args: Any, kwargs: Any) -> str | None:
    if key is None:
        return None
    # A key function that fails must not take the call down: decide without a key.
    try:
        value = key(*args, **kwargs)
    except Exception as error:
        logger.debug("key function failed, deciding without a key: %s", error)
        return None
    return None if value is None else str(value)


class _AsyncShadows:
    """Shadow runs of async guards: tasks on the caller's event loop, at most a bounded number
    in flight; beyond that a run is dropped and counted."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tasks: set[asyncio.Task[None]] = set()

    def submit(
        self,
        feature: str,
        accelerated: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        expected: Any,
        compare: Callable[[Any, Any], bool] | None,
    ) -> None:
        if len(self.tasks) >= self.capacity:
            _native.record_shadow_drop(feature)
            return
        # Imported here: asyncio costs tens of milliseconds at import, and only async guards
        # need it, by which time the host has imported it.
        import asyncio

        task = asyncio.get_running_loop().create_task(
            self._compare(feature, accelerated, args, kwargs, expected, compare)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _compare(
        feature: str,
        accelerated: Callable[..., Awaitable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        expected: Any,
        compare: Callable[[Any, Any], bool] | None,
    ) -> None:
        started = time.perf_counter_ns()
        try:
            actual = await accelerated(*args, **kwargs)
        except RECOVERABLE as error:
            settle_shadow(feature, started, args, kwargs, expected, compare, error=error)
            return
        settle_shadow(feature, started, args, kwargs, expected, compare, actual=actual)

    async def drain(self) -> None:
        """Wait for every shadow run in flight (for tests and orderly shutdown)."""
        import asyncio

        while self.tasks:
            await asyncio.gather(*list(self.tasks))


async_shadows = _AsyncShadows(SHADOW_QUEUE_SIZE)


def _async_guard(
    feature: str,
    accelerated: Callable[..., Awaitable[Any]],
    fallback: Callable[..., Awaitable[Any]],
    key: Callable[..., str | None] | None,
    compare: Callable[[Any, Any], bool] | None,
) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(fallback)
    async def guarded(*args: Any, **kwargs: Any) -> Any:
        decision = _native.decide(feature, _key_of(key, args, kwargs))
        started = time.perf_counter_ns()
        if decision == "on":
            try:
                answer = await accelerated(*args, **kwargs)
            except DECLINE:
                _native.record_decline(feature)
                started = time.perf_counter_ns()
                answer = await fallback(*args, **kwargs)
                _native.record_fallback(feature, time.perf_counter_ns() - started)
                return answer
            except RECOVERABLE as error:
                ns = time.perf_counter_ns() - started
                if _native.record_error(feature, ns, f"{type(error).__name__}: {error}"):
                    return await fallback(*args, **kwargs)
                raise
            _native.record_success(feature, time.perf_counter_ns() - started)
            return answer
        answer = await fallback(*args, **kwargs)
        _native.record_fallback(feature, time.perf_counter_ns() - started)
        if decision == "shadow":
            async_shadows.submit(feature, accelerated, args, kwargs, answer, compare)
        return answer

    return guarded


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
    decides whether a shadow answer agrees with the Python one (default `==`). When both
    functions are coroutine functions the guard is one too, and its shadow runs are tasks on
    the caller's event loop.
    """
    if inspect.iscoroutinefunction(accelerated) or inspect.iscoroutinefunction(fallback):
        if not (inspect.iscoroutinefunction(accelerated) and inspect.iscoroutinefunction(fallback)):
            raise TypeError(
                f"guard({feature!r}): accelerated and fallback must both be coroutine "
                "functions, or neither"
            )
        return cast(F, _async_guard(feature, accelerated, fallback, key, compare))

    def submit(
        accelerated_fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any] | None,
        expected: Any,
        compare_fn: Callable[[Any, Any], bool] | None,
    ) -> None:
        shadow_runner.submit(feature, accelerated_fn, args, kwargs, expected, compare_fn)

    guarded = _native.Guard(feature, accelerated, fallback, key, compare, submit)
    guarded.__wrapped__ = fallback  # type: ignore[attr-defined]
    guarded.__doc__ = fallback.__doc__
    guarded.__name__ = getattr(fallback, "__name__", feature)  # type: ignore[attr-defined]
    return cast(F, guarded)
