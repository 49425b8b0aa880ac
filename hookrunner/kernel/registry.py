"""The priority registry: resolved hooks compiled into one immutable call plan per event.

A ``Registry`` is built whole from a ``Manifest`` and never edited; a reload builds another and
swaps the reference. Ordering follows one rule: tryfirst hooks, then the rest by ascending
priority, then trylast hooks; ties keep declaration order.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

from .decl import HookDecl
from .document import bulk
from .errors import (
    Problem,
    ResolveError,
    UnknownEvent,
    ValidationError,
    did_you_mean,
    quoted,
    raised,
)
from .events import EventSpec, hook_args
from .manifest import Manifest
from .matchers import compile_matcher
from .resolve import import_callable, import_module, import_target, is_async
from .runtime.command import compile_command
from .runtime.hook import Hook, State
from .runtime.invoke import Binding, bind, with_timeout
from .runtime.plan import Plan

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
        self.bindings: dict[tuple[Any, ...], Binding] = {}
        self.args: dict[str, tuple[str, ...]] = {}
        self.asyncs: dict[Any, bool] = {}

    def build(self) -> Registry:
        for d in dict.fromkeys(str(f.directory) for f in self.m.files):
            if d not in sys.path:
                sys.path.insert(0, d)
        for decl in self.m.decls:
            if decl.valid:
                try:
                    self._decl(decl)
                except ResolveError as exc:
                    self.problems.append(decl.problem(None, exc.message, exc.hint))
        if self.problems:
            self.problems.sort(key=lambda p: (self._file_rank(p.file), p.line, p.column))
            raise ValidationError(_dedupe(self.problems))
        return Registry(self.generation, self.m.events, self.hooks, self.state, self.m)

    def _bind(
        self, fn: Any, args: tuple[str, ...], bound: dict[str, Any], wrap: bool, pluggy: bool
    ) -> Binding:
        """``bind``, once per callable and event shape: a large manifest binds the same few
        functions to many hooks, and reading a signature is the costly part."""
        if bound:
            return bind(fn, args, bound, wrap=wrap, pluggy=pluggy)
        key = (fn, args, wrap, pluggy)
        got = self.bindings.get(key)
        if got is None:
            got = self.bindings[key] = bind(fn, args, bound, wrap=wrap, pluggy=pluggy)
        return got

    def _file_rank(self, file: str) -> int:
        for i, d in enumerate(self.m.files):
            if d.file == file:
                return i
        return len(self.m.files)

    def _fail(self, decl: HookDecl, key: str, exc: ResolveError) -> None:
        self.problems.append(decl.problem(key, exc.message, exc.hint))

    def _spec(self, decl: HookDecl, event: Any) -> EventSpec | None:
        spec = self.m.events.get(event)
        if spec is None:
            self.problems.append(
                decl.problem(
                    "event",
                    f"unknown event {quoted(event)}",
                    did_you_mean(str(event), list(self.m.events))
                    or "declare it under `events:` or see `hookrunner list --events`",
                )
            )
        return spec

    def _decl(self, decl: HookDecl) -> None:
        if decl.tryfirst and decl.trylast:
            self.problems.append(decl.problem("trylast", "tryfirst and trylast exclude each other"))
            return
        rank = 0 if decl.tryfirst else 2 if decl.trylast else 1
        handler = None
        if decl.error_handler is not None:
            try:
                handler = import_callable(decl.error_handler, self.m.settings.allowed_modules)
            except ResolveError as exc:
                self._fail(decl, "error_handler", exc)
        if decl.kind == "class":
            self._class(decl, handler, rank)
            return
        if decl.event is None:
            self.problems.append(
                decl.problem(
                    None, "missing required key 'event'", "name the event this hook runs on"
                )
            )
            return
        spec = self._spec(decl, decl.event)
        if spec is None:
            return
        if decl.kind == "command":
            self._add(decl, spec, None, handler, rank)
        else:
            assert isinstance(decl.target, str)
            try:
                fn = import_callable(decl.target, self.m.settings.allowed_modules)
            except ResolveError as exc:
                self._fail(decl, "call", exc)
                return
            self._add(decl, spec, fn, handler, rank)

    def _class(self, decl: HookDecl, handler: Any, rank: int) -> None:
        allowed = self.m.settings.allowed_modules
        target = decl.target
        assert isinstance(target, str)
        try:
            if decl.plugin and ":" not in target:  # an entry point naming a module
                cls = import_module(target, allowed)
            else:
                cls = import_target(target, allowed)
        except ResolveError as exc:
            self._fail(decl, "class", exc)
            return
        if not inspect.isclass(cls) and not decl.plugin:
            self.problems.append(decl.problem("class", f"{quoted(target)} is not a class"))
            return
        try:
            # An entry-point plugin may name a ready hooks object (Kedro's plugin style).
            instance = cls(**decl.args) if inspect.isclass(cls) else cls
        except BaseException as exc:  # even sys.exit(): a hooks class must not end the load
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.problems.append(
                decl.problem(
                    "args" if decl.args else "class",
                    f"constructing {cls.__name__} failed: {raised(exc)}",
                    "check `args:` against the constructor's parameters"
                    if isinstance(exc, TypeError)
                    else None,
                )
            )
            return
        label = getattr(cls, "__name__", type(cls).__name__)  # a plugin's object has none
        only = decl.event
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
            found += 1
            methods.append(method)
            method_rank = 0 if mark.get("tryfirst") else 2 if mark.get("trylast") else rank
            self._add(decl, spec, method, handler, method_rank, name=f"{decl.name}.{event}")
        self._unused_with(decl, methods)
        if not found:
            self.problems.append(
                decl.problem(
                    "class",
                    f"{label} has no method named after an event",
                    "name methods after events, e.g. before_node_run",
                )
            )

    def _unused_with(self, decl: HookDecl, methods: list[Any]) -> None:
        """A class's `with:` keys are bound per method; one that no method takes is a typo."""
        if not methods or not decl.bound:
            return
        names: set[str] = set()
        for method in methods:
            try:
                names.update(inspect.signature(method).parameters)
            except (TypeError, ValueError):
                return
        unused = [k for k in decl.bound if k not in names]
        if unused:
            self.problems.append(
                decl.problem(
                    "with",
                    f"`with:` key {quoted(unused[0])} is not a parameter of any of its hook methods",
                    did_you_mean(unused[0], sorted(names)),
                )
            )

    def _add(
        self,
        decl: HookDecl,
        spec: EventSpec,
        fn: Callable[..., Any] | None,
        handler: Any,
        rank: int,
        name: str | None = None,
    ) -> None:
        settings = self.m.settings
        mode = decl.mode or spec.style
        if mode not in MODES[spec.style]:
            self.problems.append(
                decl.problem(
                    "mode",
                    f"mode {mode!r} does not fit event {spec.name!r} (a {spec.style} event)",
                    f"use mode: {spec.style} or leave mode out",
                )
            )
            return
        if fn is None and mode == "wrap":
            self.problems.append(
                decl.problem(
                    "command",
                    "a command cannot wrap: it has no original_func to call",
                    "make the wrapper a Python callable (`call:`) that runs the command itself",
                )
            )
            return
        if spec.on_error == "raise":
            policy = decl.on_error or "raise"
        else:
            policy = decl.on_error or settings.on_error or spec.on_error
        timeout = decl.timeout if decl.timeout is not None else settings.timeout
        args = self.args.get(spec.name) or self.args.setdefault(spec.name, hook_args(spec))
        try:
            match = compile_matcher(decl.when, args)
        except ResolveError as exc:
            if name is not None and fn is not None:
                # A class's `when:` applies to each method: say which one.
                where = f"event {spec.name!r} (method {fn.__name__})"
                hint = "; ".join(filter(None, [exc.hint, "`event:` limits a class to one event"]))
                exc = ResolveError(exc.message.replace("this event", where), hint)
            self._fail(decl, "when", _naming(exc, spec))
            return
        hook_name = name or decl.name
        positional: tuple[str, ...] | None = None
        if fn is None:
            try:
                invoke = compile_command(
                    list(decl.target) if isinstance(decl.target, tuple) else decl.target,
                    spec.name,
                    args,
                    spec.style == "veto",
                    timeout,
                )
            except ResolveError as exc:
                self._fail(decl, "command", _naming(exc, spec))
                return
            call: Callable[..., Any] = invoke
            takes: tuple[str, ...] = ("**",)
            asynchronous = False
        else:
            bound = dict(decl.bound)
            if name is not None:  # a class method: bind only what it asks for
                params = inspect.signature(fn).parameters
                bound = {k: v for k, v in bound.items() if k in params}
            # A callable may check its `with:` values at load time (the built-ins do).
            checker = getattr(fn, "check_with", None) if name is None else None
            assert decl.doc is not None
            bad = [
                decl.doc.problem(decl.path + ("with", key), msg, hint, hook=decl.name)
                for key, msg, hint in (checker(bound) if callable(checker) else ())
            ]
            self.problems.extend(bad)
            try:
                binding = self._bind(fn, args, bound, mode == "wrap", bool(name and _marker(fn)))
            except ResolveError as exc:
                exc = _naming(exc, spec)
                key = "with" if exc.message.startswith("`with:`") else ("class" if name else "call")
                prefix = f"{fn.__qualname__}: " if name else ""
                self.problems.append(decl.problem(key, prefix + exc.message, exc.hint))
                return
            if bad:
                return
            invoke, call, positional, takes = binding
            if fn not in self.asyncs:
                self.asyncs[fn] = is_async(fn)
            asynchronous = self.asyncs[fn]
            if timeout and not asynchronous:
                # The timeout thread is the call: the fast path must not call around it.
                invoke = call = with_timeout(invoke, timeout, hook_name)
                positional = None
        target = decl.shown_target()
        if name is not None and fn is not None:
            target = f"{target}.{fn.__name__}"
        self.seq += 1
        self.hooks.append(
            Hook(
                name=hook_name,
                event=spec.name,
                mode=mode,
                priority=decl.priority,
                rank=rank,
                seq=self.seq,
                source=decl.source,
                kind=decl.kind,
                target=target,
                invoke=invoke,
                fn=call,
                positional=positional,
                is_async=asynchronous,
                timeout=timeout,
                on_error=policy,
                error_handler=handler,
                match=match,
                enabled=decl.enabled,
                takes=takes,
                overrides=decl.overrides,
                off=hook_name in self.state.disabled,
                where=decl.where,
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
