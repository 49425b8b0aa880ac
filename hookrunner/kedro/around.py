"""One Kedro event as pluggy calls it: the manifest's hooks around Kedro's implementations.

Each event gets one pluggy **wrapper** (``wrapper=True, tryfirst=True``), registered last,
so it is the outermost: before its ``yield`` it runs the manifest's hooks that come before
Kedro's (``order.before_kedro``), pluggy then calls ``settings.py``'s and the plugins' hooks
in its own order, and after the ``yield`` the rest of the manifest's hooks run. A failing
hook follows its ``on_error`` (``raise`` propagates, as a failing Kedro hook does: Kedro fails
the run; ``continue`` and ``disable`` are logged and the run goes on). For
``before_node_run`` the mappings hooks return are node inputs for Kedro, as its own hooks'
are: the wrapper hands them to Kedro with its hooks' results, in call order, and later
manifest hooks see the earlier ones' inputs.

pluggy passes an implementation the arguments its parameters name, positionally, and reads
the names from the function's code: ``function`` makes, once per event, a generator function
with exactly the hookspec's parameters (the hot path is that function and ``Around.run``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

from ..kernel.runtime.plan import Plan
from ..kernel.runtime.results import EmitResult, QuietResult, error_text
from ..kernel.secrets import logger
from .order import split

Hook = Callable[[dict[str, Any]], None]

_log = logger("hookrunner.kedro")


class Around:
    """One event: the manifest's two parts and what the run's record does there.

    ``pre`` runs before the manifest's first part (the record starts the session, a node's
    clock), ``post`` after its second part (the record closes what ``pre`` opened), ``raised``
    when anything inside raised, a hook of the manifest's or of Kedro's (the run, or the
    node, stopped there)."""

    __slots__ = ("event", "before", "after", "merge", "pre", "post", "raised", "policies")

    def __init__(
        self,
        plan: Plan,
        pre: Hook | None = None,
        post: Hook | None = None,
        raised: Callable[[str, BaseException, dict[str, Any]], None] | None = None,
    ):
        self.event = plan.spec.name
        self.before, self.after = split(plan)
        self.merge = plan.spec.merge_into  # before_node_run: returned mappings are inputs
        self.pre, self.post, self.raised = pre, post, raised
        self.policies = {h.name: h.on_error for h in plan.hooks}

    @property
    def has_hooks(self) -> bool:
        return bool(self.before.hooks or self.after.hooks)

    def run(self, kw: dict[str, Any]) -> Generator[None, list[Any], list[Any]]:
        """The wrapper's body: ``kw`` holds the event's arguments; pluggy sends the results of
        Kedro's implementations (or throws what they raised) into the ``yield``."""
        merge = self.merge
        try:
            if self.pre is not None:
                self.pre(kw)
            first = self._emit(self.before, kw) if self.before.hooks else None
            result = yield
            if merge is not None and result:
                for value in result:
                    if isinstance(value, dict):
                        kw[merge] = {**kw[merge], **value}
            second = self._emit(self.after, kw) if self.after.hooks else None
            if self.post is not None:
                self.post(kw)
        except BaseException as exc:
            if self.raised is not None and not isinstance(exc, GeneratorExit):
                self.raised(self.event, exc, kw)
            raise
        if merge is not None and (first or second):
            head = [dict(first.changes)] if first is not None and first.changes else []
            tail = [dict(second.changes)] if second is not None and second.changes else []
            return head + list(result or []) + tail
        return result

    def _emit(self, plan: Plan, kw: dict[str, Any]) -> EmitResult:
        result: EmitResult = plan.emit(kw)
        # A quiet emit (every hook returned None) went well: no results to build to know it.
        if not isinstance(result, QuietResult) and not result.ok:
            for r in result.failures:
                policy = self.policies.get(r.name, "continue")
                _log.warning(
                    "hook %r failed in %s: %s (on_error: %s; the run goes on)",
                    r.name,
                    self.event,
                    error_text(r.error),
                    "disable: switched off" if policy == "disable" else policy,
                )
        merge = self.merge
        if merge is not None and result.changes:
            kw[merge] = {**kw[merge], **result.changes}
        return result


def function(
    event: str, run: Callable[[dict[str, Any]], Generator[None, Any, Any]], argnames: Sequence[str]
) -> Callable[..., Any]:
    """A pluggy implementation of ``event`` taking exactly ``argnames`` (the hookspec's):
    ``run`` (``Around.run``) with them as a dict, marked as Kedro's ``@hook_impl(wrapper=True,
    tryfirst=True)`` marks it."""
    for name in argnames:
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"unexpected hookspec argument {name!r}")
    params = ", ".join(argnames)
    items = ", ".join(f"{n!r}: {n}" for n in argnames)
    source = f"def {event}({params}):\n    return (yield from _run({{{items}}}))\n"
    namespace: dict[str, Any] = {"_run": run}
    exec(compile(source, f"<hookrunner.kedro {event}>", "exec"), namespace)
    from pluggy import HookimplMarker  # Kedro's dependency: this runs inside Kedro

    marked: Callable[..., Any] = HookimplMarker("kedro")(wrapper=True, tryfirst=True)(
        namespace[event]
    )
    return marked


def plugin(functions: dict[str, Callable[..., Any]], name: str) -> Any:
    """A hooks object pluggy can register: one attribute per event implemented."""

    class ManifestHooks:
        __slots__ = ()

        def __repr__(self) -> str:
            return f"<hookrunner manifest hooks: {name}>"

    ManifestHooks.__qualname__ = ManifestHooks.__name__ = "ManifestHooks"
    for event, fn in functions.items():
        setattr(ManifestHooks, event, staticmethod(fn))
    return ManifestHooks()
