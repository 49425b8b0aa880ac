"""The priority registry: resolved hooks compiled into one immutable call plan per event.

A ``Registry`` is built whole from a ``Manifest`` and never edited; a reload builds another and
swaps the reference. Ordering follows one rule: tryfirst hooks, then the rest by ascending
priority, then trylast hooks; ties keep declaration order.
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import dispatch, fastpath
from .document import bulk
from .errors import HookTimeout, Problem, UnknownEvent, ValidationError, did_you_mean
from .events import EventSpec, hook_args
from .manifest import Decl, Manifest, parse_duration
from .matchers import compile_matcher
from .process import compile_command
from .resolve import (
    ResolveError,
    import_callable,
    import_module,
    import_target,
    is_async,
    make_invoker,
)

RANKS = {"tryfirst": 0, None: 1, "trylast": 2}
# Which hook modes each event style accepts (a notify hook may observe a veto event).
MODES = {
    # A wrap-mode hook on a sequential event wraps the event's other hooks (pluggy's
    # hookwrappers); see dispatch.around.
    "notify": ("notify", "wrap"),
    "veto": ("veto", "notify", "wrap"),
    "firstresult": ("firstresult", "wrap"),
    "wrap": ("wrap",),
    "slot": ("slot",),
}


@dataclass(eq=False)
class Hook:
    """One compiled hook: everything the dispatcher needs, decided at load time."""

    name: str
    event: str
    mode: str
    priority: int
    rank: int
    seq: int
    source: str
    kind: str
    target: str
    invoke: Callable[..., Any]
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
            "order": ("tryfirst", "normal", "trylast")[self.rank],
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

    observer: Callable[[dispatch.EmitResult], None] | None = None
    disabled: set[str] = field(default_factory=set)
    post_error: Callable[..., Any] | None = None
    # Lean mode: no per-hook timing, results only for hooks that returned a value or failed.
    lean: bool = False


class Plan:
    """One event's ordered hooks plus the entry points the runner calls."""

    __slots__ = (
        "spec",
        "hooks",
        "generation",
        "state",
        "defaults",
        "keys",
        "nargs",
        "stamp",
        "empty",
        "exact",
        "names",
        "wrappers",
        "inner",
        "outer",
        "emit",
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
            self.inner = Plan(spec, rest, generation, _Wrapped(state), exact)  # type: ignore[arg-type]
            self.inner.outer = self  # compile_around inlines its hooks: recompile together
        self.defaults = {a: None for a in hook_args(spec)}
        if "hook_type" in self.defaults:
            self.defaults["hook_type"] = spec.name
        self.keys = self.defaults.keys()
        self.nargs = len(self.defaults)
        self.stamp = "timestamp" in self.defaults and any(
            "timestamp" in h.takes or "**" in h.takes for h in hooks
        )
        self.empty = dispatch.EmitResult(spec.name, [], generation=generation)
        self.emit: Callable[..., Any]
        self.refresh()

    def refresh(self) -> None:
        """Choose ``emit`` once, from the style: a constant when nothing runs, else the
        compiled fast path if the plan allows one (again after the circuit breaker switches a
        hook off), else the style's dispatcher."""
        style = self.spec.style
        if style == "wrap":
            self.emit = self._wrap
        elif self.wrappers:
            around = fastpath.around_eligible(self)
            self.emit = self._compile_around_and_emit if around else self._around
        elif style == "slot":
            self.emit = self._slot
        elif not self.hooks:
            empty = self.empty
            self.emit = lambda kw, operation=None: empty
        elif self.spec.parallel:
            self.emit = self._parallel
        elif fastpath.eligible(self):
            self.emit = self._compile_and_emit
        else:
            self.emit = self._sequence
        if self.outer is not None:
            self.outer.refresh()

    def _compile_and_emit(self, kw: dict[str, Any], operation: Any = None) -> Any:
        """Compile on first use: loading stays cheap for events that never fire."""
        self.emit = fastpath.compile_plan(self)
        return self.emit(kw, operation)

    def _args(self, kw: dict[str, Any]) -> dict[str, Any]:
        if len(kw) < self.nargs or not self.keys <= kw.keys():
            kw = {**self.defaults, **kw}
        if self.stamp and kw.get("timestamp") is None:
            kw["timestamp"] = datetime.now(UTC)
        return kw

    def _wrap(self, kw: dict[str, Any], operation: Callable[..., Any] | None = None) -> Any:
        return dispatch.wrap(self, self._args(kw), operation)

    def _compile_around_and_emit(self, kw: dict[str, Any], operation: Any = None) -> Any:
        self.emit = fastpath.compile_around(self)
        return self.emit(kw, operation)

    def _around(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.around(self, self._args(kw))

    def _slot(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.slot(self, self._args(kw))

    def _parallel(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.parallel(self, self._args(kw))

    def _sequence(self, kw: dict[str, Any], operation: Any = None) -> Any:
        return dispatch.drive(dispatch.sequence(self, self._args(kw)))

    async def aemit(self, kw: dict[str, Any], operation: Callable[..., Any] | None = None) -> Any:
        style = self.spec.style
        if style in ("wrap", "slot") or self.wrappers:
            # Wrappers call original_func synchronously; keep the caller's loop free.
            import asyncio

            return await asyncio.to_thread(self.emit, kw, operation)
        if not self.hooks:
            return self.empty
        if self.spec.parallel:
            return await dispatch.aparallel(self, self._args(kw))
        return await dispatch.adrive(dispatch.sequence(self, self._args(kw)))

    def default(self) -> Callable[..., Any] | None:
        """The slot's built-in implementation, imported on first use."""
        if self.spec.default is None:
            return None
        return import_target(self.spec.default)


class _Wrapped:
    """The state the hooks inside wrap-mode hooks run with: the outer state's, but with no
    observer (the wrapped emit reports once, with the wrappers' results and theirs)."""

    observer = None
    wraps = True  # dispatch._failed: tag a raised error with the results so far

    def __init__(self, outer: State):
        self._outer = outer

    @property
    def disabled(self) -> set[str]:
        return self._outer.disabled

    @property
    def post_error(self) -> Callable[..., Any] | None:
        return self._outer.post_error

    @property
    def lean(self) -> bool:
        return self._outer.lean


class Registry:
    """An immutable snapshot: every hook in order, one plan per event, a generation number."""

    def __init__(
        self,
        generation: int,
        events: dict[str, EventSpec],
        hooks: list[Hook],
        state: State,
        manifest: Manifest,
    ):
        self.generation = generation
        self.events = events
        self.state = state
        self.hooks = tuple(sorted(hooks, key=lambda h: (h.event, h.order_key)))
        self.manifest = manifest
        by_event: dict[str, list[Hook]] = {name: [] for name in events}
        for h in self.hooks:
            if h.enabled:
                by_event[h.event].append(h)
        exact = manifest.settings.timing == "exact"
        self.plans: dict[str, Plan] = {
            name: Plan(spec, tuple(by_event[name]), generation, state, exact)
            for name, spec in events.items()
        }

    def ordered(self, event: str | None = None) -> list[Hook]:
        """Hooks in effective order (event by event in catalogue order when ``event`` is None)."""
        names = [event] if event else list(self.events)
        out: list[Hook] = []
        for name in names:
            out.extend(h for h in self.hooks if h.event == name)
        return out

    def unknown_event(self, event: str) -> UnknownEvent:
        return UnknownEvent(event, self.events)


# --------------------------------------------------------------------------- building


def _with_timeout(invoke: Callable[..., Any], timeout: float, name: str) -> Callable[..., Any]:
    """Run a sync hook in a daemon thread; past the timeout the emitter stops waiting."""

    def run(*args: Any) -> Any:
        box: list[tuple[bool, Any]] = []

        def target() -> None:
            try:
                box.append((True, invoke(*args)))
            except BaseException as exc:  # noqa: BLE001 - handed back to the emitter
                box.append((False, exc))

        t = threading.Thread(target=target, daemon=True, name=f"hookrunner:{name}")
        t.start()
        t.join(timeout)
        if not box:
            raise HookTimeout(f"hook {name!r} timed out after {timeout:g}s (abandoned)")
        ok, value = box[0]
        if ok:
            return value
        raise value

    return run


def _marker(fn: Any) -> dict[str, Any]:
    """pluggy's hookimpl options (Kedro's ``@hook_impl`` sets ``kedro_impl``)."""
    for attr, value in vars(getattr(fn, "__func__", fn)).items():
        if attr.endswith("_impl") and isinstance(value, dict) and "tryfirst" in value:
            return value
    return {}


class _Builder:
    def __init__(self, manifest: Manifest, state: State, generation: int):
        self.m = manifest
        self.state = state
        self.generation = generation
        self.problems: list[Problem] = list(manifest.problems)
        self.hooks: list[Hook] = []
        self.seq = 0
        # Per build: what a large manifest would otherwise recompute for every hook.
        self.invokers: dict[tuple[Any, ...], tuple[Callable[..., Any], tuple[str, ...]]] = {}
        self.args: dict[str, tuple[str, ...]] = {}
        self.asyncs: dict[Any, bool] = {}

    def build(self) -> Registry:
        for d in dict.fromkeys(str(f.directory) for f in self.m.files):
            if d not in sys.path:
                sys.path.insert(0, d)
        for decl in self.m.decls:
            if decl.schema_ok:
                try:
                    self._decl(decl)
                except ResolveError as exc:
                    self.problems.append(decl.problem(None, exc.message, exc.hint))
        if self.problems:
            self.problems.sort(key=lambda p: (self._file_rank(p.file), p.line, p.column))
            raise ValidationError(_dedupe(self.problems))
        return Registry(self.generation, self.m.events, self.hooks, self.state, self.m)

    def _invoker(
        self, fn: Any, args: tuple[str, ...], bound: dict[str, Any], wrap: bool, pluggy: bool
    ) -> tuple[Callable[..., Any], tuple[str, ...]]:
        """``make_invoker``, once per callable and event shape: a large manifest binds the
        same few functions to many hooks, and reading a signature is the costly part."""
        if bound:
            return make_invoker(fn, args, bound, wrap=wrap, pluggy=pluggy)
        key = (fn, args, wrap, pluggy)
        got = self.invokers.get(key)
        if got is None:
            got = self.invokers[key] = make_invoker(fn, args, bound, wrap=wrap, pluggy=pluggy)
        return got

    def _file_rank(self, file: str) -> int:
        for i, d in enumerate(self.m.files):
            if d.file == file:
                return i
        return len(self.m.files)

    def _fail(self, decl: Decl, key: str, exc: ResolveError) -> None:
        self.problems.append(decl.problem(key, exc.message, exc.hint))

    def _spec(self, decl: Decl, event: Any) -> EventSpec | None:
        spec = self.m.events.get(event)
        if spec is None:
            self.problems.append(
                decl.problem(
                    "event",
                    f"unknown event {event!r}",
                    did_you_mean(str(event), list(self.m.events))
                    or "declare it under `events:` or see `hookrunner list --events`",
                )
            )
        return spec

    def _decl(self, decl: Decl) -> None:
        e = decl.entry
        if e.get("tryfirst") and e.get("trylast"):
            self.problems.append(decl.problem("trylast", "tryfirst and trylast exclude each other"))
            return
        common = {
            "rank": 0 if e.get("tryfirst") else 2 if e.get("trylast") else 1,
            "priority": int(e.get("priority", 500)),
            "enabled": bool(e.get("enabled", True)),
        }
        handler = None
        if "error_handler" in e:
            try:
                handler = import_callable(e["error_handler"], self.m.settings.allowed_modules)
            except ResolveError as exc:
                self._fail(decl, "error_handler", exc)
        if "class" in e:
            self._class(decl, handler, common)
            return
        if "event" not in e:
            self.problems.append(
                decl.problem(
                    None, "missing required key 'event'", "name the event this hook runs on"
                )
            )
            return
        spec = self._spec(decl, e["event"])
        if spec is None:
            return
        if "command" in e:
            self._add(decl, spec, None, handler, common, command=e["command"])
        else:
            try:
                fn = import_callable(e["call"], self.m.settings.allowed_modules)
            except ResolveError as exc:
                self._fail(decl, "call", exc)
                return
            self._add(decl, spec, fn, handler, common)

    def _class(self, decl: Decl, handler: Any, common: dict[str, Any]) -> None:
        e = decl.entry
        allowed = self.m.settings.allowed_modules
        try:
            if decl.plugin and ":" not in e["class"]:  # an entry point naming a module
                cls = import_module(e["class"], allowed)
            else:
                cls = import_target(e["class"], allowed)
        except ResolveError as exc:
            self._fail(decl, "class", exc)
            return
        if not inspect.isclass(cls) and not decl.plugin:
            self.problems.append(decl.problem("class", f"{e['class']!r} is not a class"))
            return
        try:
            # An entry-point plugin may name a ready hooks object (Kedro's plugin style).
            instance = cls(**(e.get("args") or {})) if inspect.isclass(cls) else cls
        except Exception as exc:
            self.problems.append(
                decl.problem(
                    "args" if "args" in e else "class",
                    f"constructing {cls.__name__} failed: {type(exc).__name__}: {exc}",
                    "check `args:` against the constructor's parameters"
                    if isinstance(exc, TypeError)
                    else None,
                )
            )
            return
        label = getattr(cls, "__name__", type(cls).__name__)  # a plugin's object has none
        only = e.get("event")
        if only is not None and self._spec(decl, only) is None:
            return
        found = 0
        methods: list[Any] = []
        for attr in dir(cls):
            if attr.startswith("_"):
                continue
            method = getattr(instance, attr, None)
            if not callable(method):
                continue
            mark = _marker(method)
            event = mark.get("specname") or attr
            spec = self.m.events.get(event)
            if spec is None or (only is not None and event != only):
                continue
            if mark.get("hookwrapper") or mark.get("wrapper"):
                self.problems.append(
                    decl.problem(
                        "class",
                        f"{label}.{attr} is a pluggy hookwrapper",
                        "hookrunner wraps with `mode: wrap` hooks instead",
                    )
                )
                continue
            opts = dict(common)
            if mark.get("tryfirst"):
                opts["rank"] = 0
            elif mark.get("trylast"):
                opts["rank"] = 2
            found += 1
            methods.append(method)
            self._add(decl, spec, method, handler, opts, name=f"{decl.name}.{event}")
        self._unused_with(decl, methods)
        if not found:
            self.problems.append(
                decl.problem(
                    "class",
                    f"{label} has no method named after an event",
                    "name methods after events, e.g. before_node_run",
                )
            )

    def _unused_with(self, decl: Decl, methods: list[Any]) -> None:
        """A class's `with:` keys are bound per method; one that no method takes is a typo."""
        bound = decl.entry.get("with")
        if not methods or not isinstance(bound, dict):
            return
        names: set[str] = set()
        for method in methods:
            try:
                names.update(inspect.signature(method).parameters)
            except (TypeError, ValueError):
                return
        unused = [k for k in bound if k not in names]
        if unused:
            self.problems.append(
                decl.problem(
                    "with",
                    f"`with:` key {unused[0]!r} is not a parameter of any of its hook methods",
                    did_you_mean(unused[0], sorted(names)),
                )
            )

    def _add(
        self,
        decl: Decl,
        spec: EventSpec,
        fn: Callable[..., Any] | None,
        handler: Any,
        common: dict[str, Any],
        command: Any = None,
        name: str | None = None,
    ) -> None:
        e = decl.entry
        settings = self.m.settings
        mode = e.get("mode", spec.style)
        if mode not in MODES[spec.style]:
            self.problems.append(
                decl.problem(
                    "mode",
                    f"mode {mode!r} does not fit event {spec.name!r} (a {spec.style} event)",
                    f"use mode: {spec.style} or leave mode out",
                )
            )
            return
        if command is not None and mode == "wrap":
            self.problems.append(
                decl.problem(
                    "command",
                    "a command cannot wrap: it has no original_func to call",
                    "make the wrapper a Python callable (`call:`) that runs the command itself",
                )
            )
            return
        if spec.on_error == "raise":
            policy = e.get("on_error", "raise")
        else:
            policy = e.get("on_error") or settings.on_error or spec.on_error
        timeout = parse_duration(e["timeout"]) if "timeout" in e else settings.timeout
        args = self.args.get(spec.name) or self.args.setdefault(spec.name, hook_args(spec))
        try:
            match = compile_matcher(e.get("when"), args)
        except ResolveError as exc:
            if name is not None:  # a class's `when:` applies to each method: say which one
                where = f"event {spec.name!r} (method {fn.__name__})"
                hint = "; ".join(filter(None, [exc.hint, "`event:` limits a class to one event"]))
                exc = ResolveError(exc.message.replace("this event", where), hint)
            self._fail(decl, "when", _naming(exc, spec))
            return
        hook_name = name or decl.name
        if command is not None:
            try:
                invoke = compile_command(command, spec.name, args, spec.style == "veto", timeout)
            except ResolveError as exc:
                self._fail(decl, "command", _naming(exc, spec))
                return
            takes: tuple[str, ...] = ("**",)
            asynchronous = False
            at = decl.path + ("command",)
            target = (
                decl.doc.redact(at, command)
                if isinstance(command, str)
                else " ".join(decl.doc.redact(at + (j,), part) for j, part in enumerate(command))
            )
            kind = "command"
        else:
            assert fn is not None
            bound = e.get("with") or {}
            if name is not None:  # a class method: bind only what it asks for
                params = inspect.signature(fn).parameters
                bound = {k: v for k, v in bound.items() if k in params}
            # A callable may check its `with:` values at load time (the built-ins do).
            checker = getattr(fn, "check_with", None) if name is None else None
            bad = [
                decl.doc.problem(decl.path + ("with", key), msg, hint, hook=decl.name)
                for key, msg, hint in (checker(bound) if callable(checker) else ())
            ]
            self.problems.extend(bad)
            try:
                invoke, takes = self._invoker(
                    fn, args, bound, mode == "wrap", bool(name and _marker(fn))
                )
            except ResolveError as exc:
                exc = _naming(exc, spec)
                key = "with" if exc.message.startswith("`with:`") else ("class" if name else "call")
                prefix = f"{fn.__qualname__}: " if name else ""
                self.problems.append(decl.problem(key, prefix + exc.message, exc.hint))
                return
            if bad:
                return
            asynchronous = self.asyncs.get(fn)
            if asynchronous is None:
                asynchronous = self.asyncs[fn] = is_async(fn)
            if timeout and not asynchronous:
                invoke = _with_timeout(invoke, timeout, hook_name)
            if "call" in e:
                target = decl.doc.redact(decl.path + ("call",), e["call"])
            else:
                target = f"{decl.doc.redact(decl.path + ('class',), e['class'])}.{fn.__name__}"
            kind = "class" if name else "call"
        self.seq += 1
        self.hooks.append(
            Hook(
                name=hook_name,
                event=spec.name,
                mode=mode,
                source=decl.source,
                kind=kind,
                target=target,
                invoke=invoke,
                is_async=asynchronous,
                timeout=timeout,
                on_error=policy,
                error_handler=handler,
                match=match,
                takes=takes,
                overrides=decl.overrides,
                seq=self.seq,
                off=hook_name in self.state.disabled,
                where=e.get("where", "worker"),
                **common,
            )
        )


def _naming(exc: ResolveError, spec: EventSpec) -> ResolveError:
    """The resolver speaks of "this event"; the user reads better with its name."""
    return ResolveError(exc.message.replace("this event", f"event {spec.name!r}"), exc.hint)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out


def build(manifest: Manifest, state: State | None = None, generation: int = 1) -> Registry:
    """Resolve and compile a manifest; raise ValidationError listing every problem."""
    with bulk():
        return _Builder(manifest, state or State(), generation).build()
