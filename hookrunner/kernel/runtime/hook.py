"""One compiled hook, and the runtime state that outlives registry generations.

A ``Hook`` is everything the dispatchers need to call one hook, decided at load time: how to
call it (``invoke``; and ``fn`` with ``positional`` for the compiled fast path), when
(``match``, ``off``), and what its failure means (``on_error``, ``error_handler``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

ORDERS = ("tryfirst", "normal", "trylast")


@dataclass(eq=False, slots=True)
class Hook:
    """One hook of one event, compiled."""

    name: str
    event: str
    mode: str
    priority: int
    rank: int  # 0 tryfirst, 1 normal, 2 trylast
    seq: int  # declaration order: breaks ties
    source: str  # "file:line", "plugin:NAME" or "python:file:line"
    kind: str  # "call", "class" or "command"
    target: str  # what it calls, as written (values from the environment redacted)
    # invoke(kw), or invoke(original_func, kw) for a wrapper: the general loop's call.
    invoke: Callable[..., Any]
    # The fast path's call: fn(*[kw[name] for name in positional]) is invoke(kw); None when
    # the hook is not called by position only (keyword arguments, **kwargs, a timeout).
    fn: Callable[..., Any]
    positional: tuple[str, ...] | None
    is_async: bool
    timeout: float | None
    on_error: str
    error_handler: Callable[..., Any] | None
    match: Callable[[dict[str, Any]], bool] | None
    enabled: bool = True
    takes: tuple[str, ...] = ()
    overrides: str | None = None
    off: bool = False  # switched on by the `disable` policy (a circuit breaker)
    # Where a node/dataset hook runs under a distributed runner: "worker" or "driver".
    where: str = "worker"

    @property
    def order_key(self) -> tuple[int, int, int]:
        return (self.rank, self.priority, self.seq)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "event": self.event,
            "priority": self.priority,
            "order": ORDERS[self.rank],
            "mode": self.mode,
            "enabled": self.enabled and not self.off,
            "source": self.source,
            "kind": self.kind,
            "target": self.target,
            "on_error": self.on_error,
            "timeout": self.timeout,
            "overrides": self.overrides,
            "where": self.where,
        }


@dataclass
class State:
    """Runtime state that outlives registry generations (owned by the HookRunner)."""

    observer: Callable[[Any], None] | None = None
    disabled: set[str] = field(default_factory=set)
    post_error: Callable[..., Any] | None = None
    # Lean mode: no per-hook timing, results only for hooks that returned a value or failed.
    lean: bool = False
    # False: plans never compile a fast path (a process that emits once, such as an agent's
    # hook command: generating the code would cost more than it saves).
    compile: bool = True
    # True for the state of the hooks inside wrap-mode hooks (``Wrapped``).
    wraps: ClassVar[bool] = False

    def error_reporter(self) -> Callable[..., Any] | None:
        """What a hook's failure under ``on_error: continue`` is reported to (``post_error``)."""
        return self.post_error

    def raised(self, error: BaseException, results: list[Any]) -> None:
        """A hook raised ``error`` out of an emit (``on_error: raise``) after ``results``."""


class Wrapped(State):
    """The state of the hooks inside wrap-mode hooks: the outer state's, but with no observer
    (the wrapped emit reports once, with the wrappers' results and theirs). When one of them
    raises, what the hooks before it did is kept (per thread) for the wrapper's report."""

    wraps: ClassVar[bool] = True

    def __init__(self, outer: State):
        # The same set of switched-off hooks; post_error is the outer's at report time (the
        # runner sets it after the registry is built).
        super().__init__(
            observer=None, disabled=outer.disabled, lean=outer.lean, compile=outer.compile
        )
        self._outer = outer
        self._last = threading.local()

    def error_reporter(self) -> Callable[..., Any] | None:
        return self._outer.error_reporter()

    def raised(self, error: BaseException, results: list[Any]) -> None:
        self._last.value = (error, list(results))

    def results_before(self, error: BaseException) -> list[Any]:
        """The results of the hooks that ran before ``error`` was raised out of an emit."""
        last = getattr(self._last, "value", None)
        self._last.value = None
        return last[1] if last is not None and last[0] is error else []
