"""One event's call plan: its ordered hooks and the entry point an emit calls.

``Plan.emit`` is chosen once, from the event's style and hooks (``refresh``): a constant
result when nothing runs, the compiled fast path where the plan allows one, else the style's
general dispatcher. Emitters (``HookRunner.emit``, the pipeline runners) call ``plan.emit``
with one dict of arguments; that call is the whole hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import EventArgumentError
from ..events import EventSpec, hook_args
from . import dispatch, fastpath, slots
from .hook import Hook, State, Wrapped
from .results import EmitResult


class Plan:
    """One event's ordered hooks plus the entry points the runner calls (a ``CallPlan``)."""

    __slots__ = (
        "spec",
        "hooks",
        "generation",
        "state",
        "defaults",
        "keys",
        "nargs",
        "required",
        "stamp",
        "empty",
        "exact",
        "names",
        "wrappers",
        "inner",
        "outer",
        "emit",
        "awaits",
    )

    def __init__(
        self,
        spec: EventSpec,
        hooks: tuple[Hook, ...],
        generation: int,
        state: State,
        exact: bool = False,
    ):
        self.spec = spec
        self.hooks = hooks
        self.generation = generation
        self.state = state
        # settings.timing: exact: never time the hooks of a fast event as a whole (fastpath).
        self.exact = exact
        self.names = tuple(h.name for h in hooks)  # for the session store's rows
        # Wrap-mode hooks of a notify/veto/firstresult event, outermost first, and the plan
        # of the hooks they wrap (it reports to nobody: the wrapped emit reports once).
        self.wrappers: tuple[Hook, ...] = ()
        self.inner: Plan | None = None
        self.outer: Plan | None = None
        if spec.style != "wrap" and any(h.mode == "wrap" for h in hooks):
            self.wrappers = tuple(h for h in hooks if h.mode == "wrap")
            rest = tuple(h for h in hooks if h.mode != "wrap")
            self.inner = Plan(spec, rest, generation, Wrapped(state), exact)
            self.inner.outer = self  # compile_around inlines its hooks: recompile together
        self.defaults: dict[str, Any] = {a: None for a in hook_args(spec)}
        if "hook_type" in self.defaults:
            self.defaults["hook_type"] = spec.name
        self.keys = self.defaults.keys()
        self.nargs = len(self.defaults)
        self.required = spec.required
        self.stamp = "timestamp" in self.defaults and any(
            "timestamp" in h.takes or "**" in h.takes for h in hooks
        )
        self.empty = EmitResult(spec.name, [], generation=generation)
        self.emit: Callable[..., Any]
        # False when an emit from async code is the sync emit itself: a sequential plan
        # without wrappers or async hooks awaits nothing (``aemit`` needs no generator).
        self.awaits = bool(
            self.wrappers
            or spec.style in ("wrap", "slot")
            or spec.parallel
            or any(h.is_async for h in hooks)
        )
        self.refresh()

    def refresh(self) -> None:
        """Choose ``emit`` once, from the style: a constant when nothing runs, else the
        compiled fast path if the plan allows one (again after the circuit breaker switches a
        hook off), else the style's dispatcher."""
        style = self.spec.style
        if style == "wrap":
            self.emit = self._wrap
        elif self.wrappers:
            around = self.state.compile and fastpath.around_eligible(self)
            self.emit = self._compile_around_and_emit if around else self._around
        elif style == "slot":
            self.emit = self._slot
        elif not self.hooks:
            self.emit = self._compile_empty_and_emit if self.state.compile else self._empty
        elif self.spec.parallel:
            self.emit = self._parallel
        elif self.state.compile and fastpath.eligible(self):
            self.emit = self._compile_and_emit
        else:
            self.emit = self._sequence
        if self.outer is not None:
            self.outer.refresh()

    def _compile_and_emit(self, kw: dict[str, Any], operation: Any = None) -> Any:
        """Compile on first use: loading stays cheap for events that never fire."""
        self.emit = fastpath.compile_plan(self)
        return self.emit(kw, operation)

    def _compile_empty_and_emit(self, kw: dict[str, Any], operation: Any = None) -> Any:
        self.emit = fastpath.compile_empty(self)
        return self.emit(kw, operation)

    def _empty(self, kw: dict[str, Any], operation: Any = None) -> Any:
        """No hooks, nothing compiled (``State(compile=False)``): the arguments are checked
        all the same."""
        self.fill(kw)
        return self.empty

    def fill(self, kw: dict[str, Any]) -> dict[str, Any]:
        """``kw`` with every argument present: defaults (None) for the optional ones left
        out, and the current time as ``timestamp`` when a hook asks for it and the emitter
        gave none. An argument the event does not take, or a required one left out, raises
        ``EventArgumentError``: this is where every emit whose arguments are not exactly
        the event's comes through (the compiled paths send it here), so the check costs
        nothing on the emits that pass them all."""
        if len(kw) != self.nargs or not self.keys <= kw.keys():
            full = {**self.defaults, **kw}
            if len(full) != self.nargs or any(a not in kw for a in self.required):
                raise self.argument_error(kw)
            kw = full
        if self.stamp and kw.get("timestamp") is None:
            from datetime import UTC, datetime  # lazy: most processes never stamp one

            kw["timestamp"] = datetime.now(UTC)
        return kw

    def argument_error(self, kw: dict[str, Any]) -> EventArgumentError:
        """What is wrong with the arguments ``kw`` of an emit of this event."""
        known = list(self.defaults)
        unknown = [k for k in kw if k not in self.defaults]
        missing = [a for a in self.required if a not in kw]
        from ..frames import caller  # only a wrong emit needs it

        return EventArgumentError(self.spec.name, unknown, missing, known, caller())

    def _wrap(self, kw: dict[str, Any], operation: Callable[..., Any] | None = None) -> Any:
        return dispatch.wrap(self, self.fill(kw), operation)

    def _compile_around_and_emit(self, kw: dict[str, Any], operation: Any = None) -> Any:
        self.emit = fastpath.compile_around(self)
        return self.emit(kw, operation)

    def _around(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.around(self, self.fill(kw))

    def _slot(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.slot(self, self.fill(kw))

    def _parallel(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.parallel(self, self.fill(kw))

    def _sequence(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.drive(dispatch.sequence(self, self.fill(kw)))

    async def aemit(self, kw: dict[str, Any], operation: Callable[..., Any] | None = None) -> Any:
        if not self.awaits:  # nothing to await: the compiled path, as emit takes it
            return self.emit(kw, operation)
        style = self.spec.style
        if style in ("wrap", "slot") or self.wrappers:
            # Wrappers call original_func synchronously; keep the caller's loop free.
            import asyncio

            return await asyncio.to_thread(self.emit, kw, operation)
        if not self.hooks:
            self.fill(kw)  # the arguments are checked all the same
            return self.empty
        if self.spec.parallel:
            return await dispatch.aparallel(self, self.fill(kw))
        return await dispatch.adrive(dispatch.sequence(self, self.fill(kw)))

    def default(self) -> Callable[..., Any] | None:
        """The slot's built-in implementation (the layer that owns the slot provides it)."""
        return slots.default(self.spec.name)
