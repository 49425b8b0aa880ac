"""What an emit returns, and the rows a recorder keeps of it.

``EmitResult`` holds a ``HookResult`` per hook that ran. The compiled fast path does not build
those objects while it runs: it returns a lazy result holding its clock stamps, which builds
the ``HookResult`` objects when ``results`` is first read. Recorders (the session store, a
distributed runner's worker) read ``rows(ts)``: one ``CallRow`` per hook call, made straight
from the stamps where there are stamps, so recording a quiet emit builds no result objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from operator import mul, sub
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import MESSAGE_MAX, shorten, text_of
from ..jsonsafe import json_safe

if TYPE_CHECKING:
    from .callplan import CallPlan as Plan

EMPTY: Mapping[str, Any] = MappingProxyType({})


class CallRow(NamedTuple):
    """One hook call as the session store keeps it."""

    ts: float  # when the emit was observed (seconds since the epoch)
    event: str
    hook: str
    ok: bool
    # "Type: message" of a failure; for the hook that vetoed (ok: a veto is an answer, not a
    # failure) "vetoed: reason".
    error: str | None
    duration_ms: float
    worker: str | None = None  # the process that ran it, for calls made on another worker
    lane: str | None = None  # the thread that ran it, when not the session's own thread


_row = tuple.__new__  # a NamedTuple's own __new__ is a Python function; this is the C one


def error_text(error: BaseException | None) -> str | None:
    """A failure as its call row keeps it (shortened: a hook's 15 MB message is not stored
    once per call)."""
    if error is None:
        return None
    return f"{type(error).__name__}: {shorten(text_of(error), MESSAGE_MAX)}"


def error_info(error: BaseException) -> dict[str, Any]:
    """``post_error``'s ``error_info`` for ``error``: its type and message, shortened, and
    readable even when its ``__str__`` raises."""
    return {"type": type(error).__name__, "message": shorten(text_of(error), MESSAGE_MAX)}


def veto_text(reason: str | None) -> str:
    """A vetoing hook's ``CallRow.error`` (its ``ok`` stays True): ``vetoed: reason``."""
    reason = reason or "refused"
    return reason if reason.startswith("vetoed") else f"vetoed: {reason}"


class HookResult(NamedTuple):
    """What one hook did during one emit (a NamedTuple: a quiet emit's results are built
    in one C-level pass, see ``LazyResult``)."""

    name: str
    ok: bool
    error: BaseException | None
    duration_ms: float
    value: Any

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"error={self.error!r}"
        return f"HookResult({self.name!r}, {state}, {self.duration_ms:.3f}ms)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "error": error_text(self.error),
            "duration_ms": round(self.duration_ms, 4),
            "value": json_safe(self.value),
        }


def _ok_results(names: Sequence[str], durations: Iterable[float]) -> list[HookResult]:
    """``HookResult(name, True, None, ms, None)`` for each name and duration, built without a
    Python-level call per hook (reading ``results`` is then a small part of an emit)."""
    return list(
        map(
            _row,
            repeat(HookResult),
            zip(names, repeat(True), repeat(None), durations, repeat(None)),
        )
    )


class EmitResult:
    """The outcome of one emit: per-hook results plus what the style returns."""

    __slots__ = ("event", "results", "vetoed", "reason", "value", "changes", "generation")

    def __init__(
        self,
        event: str,
        results: list[HookResult],
        vetoed: bool = False,
        reason: str | None = None,
        value: Any = None,
        changes: Mapping[str, Any] = EMPTY,
        generation: int = 0,
    ):
        self.event = event
        self.results = results
        self.vetoed = vetoed
        self.reason = reason
        self.value = value
        self.changes = changes
        self.generation = generation

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[HookResult]:
        return [r for r in self.results if not r.ok]

    def rows(self, ts: float) -> list[CallRow]:
        """A ``CallRow`` per hook that ran, observed at ``ts`` (the last one carries the
        reason when the emit was vetoed)."""
        event = self.event
        rows = [
            _row(CallRow, (ts, event, r.name, r.ok, error_text(r.error), r.duration_ms, None, None))
            for r in self.results
        ]
        if self.vetoed and rows and rows[-1].ok:
            rows[-1] = rows[-1]._replace(error=veto_text(self.reason))
        return rows

    def __repr__(self) -> str:
        return (
            f"EmitResult({self.event!r}, hooks={len(self.results)}, vetoed={self.vetoed}, "
            f"value={self.value!r}, generation={self.generation})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "generation": self.generation,
            "vetoed": self.vetoed,
            "reason": self.reason,
            "value": json_safe(self.value),
            "changes": json_safe(dict(self.changes)),
            "results": [r.as_dict() for r in self.results],
        }


# --------------------------------------------------------------------------- stamps


def durations(names: Sequence[str], stamps: Sequence[float | None]) -> list[tuple[str, float]]:
    """``(hook name, ms)`` of the hooks that ran, from clock stamps: ``stamps[0]`` is the
    emit's start and ``stamps[i + 1]`` the end of hook ``i`` (None: it did not run)."""
    out = []
    last = stamps[0]
    assert last is not None
    for i in range(len(stamps) - 1):
        t = stamps[i + 1]
        if t is not None:
            out.append((names[i], (t - last) * 1e3))
            last = t
    return out


def timed_results(names: Sequence[str], stamps: Sequence[float | None]) -> list[HookResult]:
    """Results of hooks that returned None (see ``durations``)."""
    if None in stamps:
        return [HookResult(name, True, None, ms, None) for name, ms in durations(names, stamps)]
    # Every hook ran: hook i took stamps[i + 1] - stamps[i].
    ends = stamps[1:]
    return _ok_results(names, map(mul, map(sub, ends, stamps), repeat(1e3)))


def shared_stamps(t0: float, end: float, ran: Sequence[Any]) -> list[float | None]:
    """Stamps as ``durations`` reads them for hooks timed together from ``t0`` to ``end``
    (``ran[i]`` is None for a hook that did not run): those that ran share it evenly."""
    share = (end - t0) / (sum(1 for flag in ran if flag is not None) or 1)
    stamps: list[float | None] = [t0]
    n = 0
    for flag in ran:
        if flag is not None:
            n += 1
        stamps.append(None if flag is None else t0 + n * share)
    return stamps


class LazyResult(EmitResult):
    """An emit whose ``HookResult`` objects are built on first access of ``results``. The
    fast path makes one without a Python-level ``__init__`` (that call would cost more than
    the hooks) and sets ``_plan`` and ``_ts`` itself; ``results`` stays unset until read
    (the slot's miss lands in ``__getattr__``, which builds and stores them)."""

    __slots__ = ("_plan", "_ts")
    _plan: Plan
    _ts: tuple[Any, ...]
    __init__ = object.__init__

    @property
    def event(self) -> str:  # type: ignore[override]
        return self._plan.spec.name

    @property
    def generation(self) -> int:  # type: ignore[override]
        return self._plan.generation

    def __getattr__(self, name: str) -> Any:
        if name != "results":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        built = self.results = self._build()
        return built

    def _build(self) -> list[HookResult]:
        raise NotImplementedError


class QuietResult(LazyResult):
    """An emit in which every hook returned None: ``_ts`` holds the clock stamps (the emit's
    start, then the end of each hook, None for a hook that did not run)."""

    __slots__ = ()
    vetoed = False
    reason = None
    value = None
    changes: Mapping[str, Any] = EMPTY

    def _build(self) -> list[HookResult]:
        return timed_results(self._plan.names, self._ts)

    def rows(self, ts: float) -> list[CallRow]:
        """Straight from the stamps, without ``HookResult`` objects."""
        return _stamp_rows(self._plan, self._ts, ts)

    def stamps(self) -> Sequence[float | None]:
        return self._ts

    def span(self) -> float:
        """Seconds from the emit's start to the end of its last hook."""
        ends = [t for t in self.stamps() if t is not None]
        return ends[-1] - ends[0]


class SharedResult(QuietResult):
    """A whole-timed emit (adaptive timing): ``_ts`` is ``(start, end)`` or ``(start, end,
    ran)``, ``ran`` flagging the hooks that ran (None: skipped); they share the time evenly."""

    __slots__ = ()

    def stamps(self) -> list[float | None]:
        t0, end, *flags = self._ts
        return shared_stamps(t0, end, flags[0] if flags else (1,) * len(self._plan.hooks))

    def _build(self) -> list[HookResult]:
        ts = self._ts
        if len(ts) == 2:  # every hook ran: they share the time evenly
            names = self._plan.names
            return _ok_results(names, repeat((ts[1] - ts[0]) * 1e3 / (len(names) or 1)))
        return timed_results(self._plan.names, self.stamps())

    def rows(self, ts: float) -> list[CallRow]:
        return _stamp_rows(self._plan, self.stamps(), ts)


def _stamp_rows(plan: Plan, stamps: Sequence[float | None], ts: float) -> list[CallRow]:
    """The rows of a quiet emit from its stamps (see ``QuietResult``)."""
    event = plan.spec.name
    if len(stamps) == 2:  # one hook: most pipeline events
        start, end = stamps
        if end is None:
            return []
        ms = (end - start) * 1e3  # type: ignore[operator]
        return [_row(CallRow, (ts, event, plan.names[0], True, None, ms, None, None))]
    if None in stamps:  # some hooks did not run
        return [
            _row(CallRow, (ts, event, name, True, None, ms, None, None))
            for name, ms in durations(plan.names, stamps)
        ]
    return [
        _row(CallRow, (ts, event, name, True, None, (end - start) * 1e3, None, None))  # type: ignore[operator]
        for name, start, end in zip(plan.names, stamps, stamps[1:], strict=False)
    ]


def span(result: EmitResult | None) -> float:
    """Seconds the hooks of ``result`` took (for a wrapper's own share of an emit)."""
    if result is None:
        return 0.0
    if isinstance(result, QuietResult):
        return result.span()
    return sum(r.duration_ms for r in result.results) / 1e3


class AroundResult(LazyResult):
    """The compiled single-wrapper emit that went well. ``_ts`` is (start, end, the wrapped
    hooks' ``EmitResult`` or None, the wrapper's return value)."""

    __slots__ = ()

    @property
    def _inner(self) -> EmitResult | None:
        inner: EmitResult | None = self._ts[2]
        return inner

    @property
    def vetoed(self) -> bool:  # type: ignore[override]
        return self._inner is not None and self._inner.vetoed

    @property
    def reason(self) -> str | None:  # type: ignore[override]
        return None if self._inner is None else self._inner.reason

    @property
    def value(self) -> Any:
        return None if self._inner is None else self._inner.value

    @property
    def changes(self) -> Mapping[str, Any]:  # type: ignore[override]
        return EMPTY if self._inner is None else self._inner.changes

    def _build(self) -> list[HookResult]:
        t0, end, inner, value = self._ts
        ms = (end - t0 - span(inner)) * 1e3
        assert self._plan.wrappers
        own = HookResult(self._plan.wrappers[0].name, True, None, ms, value)
        return [own, *(inner.results if inner is not None else [])]
