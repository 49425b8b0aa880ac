"""The priority registry: resolved hooks compiled into one immutable call plan per event.

A ``Registry`` is built whole from a ``Manifest`` and never edited; a reload builds another and
swaps the reference. Ordering follows one rule: tryfirst hooks, then the rest by ascending
priority, then trylast hooks; ties keep declaration order. A declaration registered from code
holds its object itself: it is used as it is, never imported.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import types
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from .decl import HookDecl
from .document import bulk
from .errors import (
    Problem,
    ResolveError,
    UnknownEvent,
    ValidationError,
    did_you_mean,
    merge_origins,
    quoted,
    raised,
)
from .events import EventSpec, hook_args
from .manifest import Manifest
from .matchers import compile_matcher, unknown_keys
from .resolve import (
    check_allowed,
    import_callable,
    import_module,
    import_target,
    is_async,
    split_target,
)
from .runtime.hook import Hook, State
from .runtime.invoke import Binding, bind, with_timeout
from .runtime.plan import Plan

# Every field of a Hook, in order: copying one for the next generation (``_again``).
_HOOK_FIELDS = attrgetter(*(f.name for f in dataclasses.fields(Hook)))

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
        compiled: dict[str, tuple[HookDecl, tuple[Hook, ...]]] | None = None,
    ):
        self.generation = generation
        # Declaration name → (the declaration, the hooks compiled from it), for the next build.
        self.compiled = compiled if compiled is not None else {}
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


def _static_method(owner: Any, attr: str) -> Any:
    """``getattr(owner, attr)`` for a class, object or module without running its code (no
    constructor, property or ``__getattr__``): what ``validate`` reads a hooks class with.
    A method of a class is bound to a stand-in for the instance validate never makes."""
    if inspect.ismodule(owner):
        raw = inspect.getattr_static(owner, attr, None)
        return raw if callable(raw) else None
    if not inspect.isclass(owner) and attr in (getattr(owner, "__dict__", None) or {}):
        raw = owner.__dict__[attr]  # set on the object itself: not a method
        return raw if callable(raw) else None
    cls = owner if inspect.isclass(owner) else type(owner)
    raw = inspect.getattr_static(cls, attr, None)
    if isinstance(raw, staticmethod):
        return raw.__func__
    if isinstance(raw, classmethod):
        return types.MethodType(raw.__func__, cls)
    if inspect.isfunction(raw):
        return types.MethodType(raw, owner if owner is not cls else _Unbuilt(cls))
    if callable(raw) and not hasattr(type(raw), "__get__"):
        return raw
    return None  # a property or another descriptor: only an instance can answer


class _Unbuilt:
    """Stands for the instance of a hooks class that ``validate`` does not construct."""

    def __init__(self, cls: type):
        self.cls = cls


def _hookrunners(fn: Any) -> bool:
    """A plain function of hookrunner itself (its ``check_with`` may run at validation)."""
    return inspect.isfunction(fn) and (fn.__module__ or "").partition(".")[0] == "hookrunner"


class _Builder:
    def __init__(
        self,
        manifest: Manifest,
        state: State,
        generation: int,
        reuse: Registry | None = None,
        imports: bool = True,
        construct: bool = True,
    ):
        self.m = manifest
        self.state = state
        self.generation = generation
        # validate: ``construct=False`` makes no hooks object (args are checked against the
        # constructor's signature); ``imports=False`` imports nothing at all.
        self.imports = imports
        self.construct = construct
        self.problems: list[Problem] = list(manifest.problems)
        self.hooks: list[Hook] = []
        self.seq = 0
        # Per build: what a large manifest would otherwise recompute for every hook.
        self.bindings: dict[tuple[Any, ...], Binding] = {}
        self.args: dict[str, tuple[str, ...]] = {}
        self.asyncs: dict[Any, bool] = {}
        self.compiled: dict[str, tuple[HookDecl, tuple[Hook, ...]]] = {}
        # A registration (not a reload: it re-imports) keeps what the last generation compiled
        # from the declarations it leaves unchanged: the same objects, hooks class instances too.
        self.reuse: dict[str, tuple[HookDecl, tuple[Hook, ...]]] = {}
        if reuse is not None and reuse.state is state and _same_context(reuse.manifest, manifest):
            self.reuse = reuse.compiled
        self.callables: dict[str, Any] = {}  # target → callable, or the ResolveError it raised

    def build(self) -> Registry:
        for d in dict.fromkeys(str(f.directory) for f in self.m.files):
            if d not in sys.path:
                sys.path.insert(0, d)
        for decl in self.m.decls:
            # An invalid entry still has the settings that passed the schema checked
            # (``unchecked``): every independent problem shows in one pass.
            if decl.valid or decl.unchecked:
                start = len(self.hooks)
                old = self.reuse.get(decl.name) if decl.valid else None
                if old is not None and _unchanged(old[0], decl):
                    self._again(old[1], decl.enabled)
                else:
                    try:
                        self._decl(decl)
                    except ResolveError as exc:
                        problem = decl.problem(None, exc.message, exc.hint)
                        self.problems.append(exc.problem(problem))
                self.compiled[decl.name] = (decl, tuple(self.hooks[start:]))
        if self.problems:
            self.problems.sort(key=lambda p: (self._file_rank(p.file), p.line, p.column))
            raise ValidationError(merge_origins(_dedupe(self.problems)))
        return Registry(
            self.generation, self.m.events, self.hooks, self.state, self.m, self.compiled
        )

    def _again(self, hooks: tuple[Hook, ...], enabled: bool) -> None:
        """The hooks an unchanged declaration compiled to, at its place in this build."""
        for h in hooks:
            self.seq += 1
            again = Hook(*_HOOK_FIELDS(h))  # a copy (dataclasses.replace costs 5 times more)
            again.seq, again.off, again.enabled = self.seq, h.name in self.state.disabled, enabled
            self.hooks.append(again)

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
        self.problems.append(exc.problem(decl.problem(key, exc.message, exc.hint)))

    def _event_of(self, decl: HookDecl, *, required: bool) -> EventSpec | None:
        """The event ``decl`` runs on, or None: unknown, or not given (a problem when
        ``required``, unless the schema already reported that key)."""
        if decl.event is None:
            if required and "event" not in decl.unchecked:
                self.problems.append(
                    decl.problem(
                        None, "missing required key 'event'", "name the event this hook runs on"
                    )
                )
            return None
        return self._spec(decl, decl.event)

    def _spec(self, decl: HookDecl, event: Any) -> EventSpec | None:
        spec = self.m.events.get(event)
        if spec is None and event not in self.m.broken_events:
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
        if not self.imports:
            self._unimported(decl, rank)
            return
        handler = None
        if isinstance(decl.error_handler, str):
            try:
                handler = import_callable(decl.error_handler, self.m.settings.allowed_modules)
            except ResolveError as exc:
                self._fail(decl, "error_handler", exc)
        elif decl.error_handler is not None:  # handed over from code
            handler = decl.error_handler
        if decl.kind == "class":
            if "args" not in decl.unchecked:  # constructing it without its args would fail
                self._class(decl, handler, rank)
            return
        spec = self._event_of(decl, required=True)
        if spec is None:
            return
        if not decl.kind:  # its call/class/command failed the schema: check the rest only
            self._add(decl, spec, None, handler, rank, check_only=True)
            return
        if decl.kind == "command":
            self._add(decl, spec, None, handler, rank)
        elif decl.caller is not None:  # the callable itself, handed over from code
            assert callable(decl.target)
            self._add(decl, spec, decl.target, handler, rank)
        else:
            assert isinstance(decl.target, str)
            try:
                fn = self._import(decl.target)
            except ResolveError as exc:
                self._fail(decl, "call", exc)
                return
            self._add(decl, spec, fn, handler, rank)

    def _unimported(self, decl: HookDecl, rank: int) -> None:
        """What ``validate --no-import`` checks of a declaration: its dotted paths against
        the allow-list, its event, and a command hook whole (nothing is imported)."""
        allowed = self.m.settings.allowed_modules
        targets: list[tuple[str, Any]] = [("error_handler", decl.error_handler)]
        if decl.kind in ("call", "class"):
            targets.append((decl.kind, decl.target))
        for key, target in targets:
            if not isinstance(target, str) or not target:
                continue
            try:
                plugin_module = decl.plugin and ":" not in target
                check_allowed(target if plugin_module else split_target(target)[0], allowed)
            except ResolveError as exc:
                self._fail(decl, key, exc)
        spec = self._event_of(decl, required=decl.kind != "class")
        if spec is None:
            return
        if decl.kind == "command":
            self._add(decl, spec, None, None, rank)
        elif decl.kind != "class":  # a call (or an entry whose target failed the schema)
            self._add(decl, spec, None, None, rank, check_only=True)

    def _args_problem(self, decl: HookDecl, cls: type) -> Problem | None:
        """``args:`` against the constructor's signature, for validate (which constructs
        nothing): the problem running would meet, or None."""
        try:
            sig = inspect.signature(cls)
        except (TypeError, ValueError):
            return None
        try:
            sig.bind(**decl.args)
        except TypeError as exc:
            return decl.problem(
                "args" if decl.args else "class",
                f"constructing {cls.__name__} would fail: TypeError: {exc}",
                "check `args:` against the constructor's parameters",
            )
        return None

    def _import(self, target: str) -> Any:
        """``import_callable``, once per target and build (many hooks share a function)."""
        got = self.callables.get(target)
        if got is None:
            try:
                got = import_callable(target, self.m.settings.allowed_modules)
            except ResolveError as exc:
                got = exc
            self.callables[target] = got
        if isinstance(got, ResolveError):
            raise got
        return got

    def _class(self, decl: HookDecl, handler: Any, rank: int) -> None:
        allowed = self.m.settings.allowed_modules
        target = decl.target
        cls: Any
        try:
            if decl.caller is not None:  # a hooks object handed over from code
                cls = target
            elif decl.plugin and ":" not in str(target):  # an entry point naming a module
                cls = import_module(str(target), allowed)
            else:
                cls = import_target(str(target), allowed)
        except ResolveError as exc:
            self._fail(decl, "class", exc)
            return
        if not inspect.isclass(cls) and not decl.plugin and decl.caller is None:
            # A ready hooks object (Kedro's ``HOOKS = (hooks_object,)``) is used as it is.
            if inspect.isroutine(cls) or inspect.ismodule(cls) or decl.args:
                self.problems.append(
                    decl.problem(
                        "class",
                        f"{quoted(target)} is not a class"
                        + (" (an object takes no `args:`)" if decl.args else ""),
                        "name a hooks class, or a hooks object (an instance of one)",
                    )
                )
                return
        if not self.construct:
            bad = self._args_problem(decl, cls) if inspect.isclass(cls) else None
            if bad is not None:
                self.problems.append(bad)
                return
        try:
            # An entry-point plugin or a ``class:`` may name a ready hooks object; validate
            # constructs nothing (it reads the class's methods).
            if not self.construct:
                instance = cls
            else:
                instance = cls(**decl.args) if inspect.isclass(cls) else cls
        except BaseException as exc:  # even sys.exit(): a hooks class must not end the load
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.problems.append(
                decl.problem(
                    "args" if decl.args else "class",
                    f"constructing {cls.__name__} failed: {raised(exc)}",
                    "register an instance instead: a class is made without arguments"
                    if decl.caller is not None
                    else "check `args:` against the constructor's parameters"
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
            if self.construct:
                method = getattr(instance, attr, None)
            else:
                method = _static_method(instance, attr)
            if not callable(method):
                continue
            mark = _marker(method)
            event = mark.get("specname") or attr
            spec = self.m.events.get(event)
            if spec is None or (only is not None and event != only):
                continue
            if mark.get("hookwrapper") or mark.get("wrapper"):
                found += 1  # it is a hook method: reported once, as what it is
                kind = "hookwrapper=True" if mark.get("hookwrapper") else "wrapper=True"
                self.problems.append(
                    decl.problem(
                        "class",
                        f"{label}.{attr} is a pluggy {kind} generator; hookrunner does not "
                        f"run generator wrappers",
                        f"declare a `mode: wrap` hook on {event!r} instead: a function whose "
                        "first parameter is original_func and that calls original_func() "
                        "where the generator yields; see the README's Call styles",
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
        check_only: bool = False,
    ) -> None:
        """Compile one hook of ``spec``. ``check_only`` (an entry whose call/class/command
        failed the schema): report what is wrong with its other settings, compile nothing."""
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
        if fn is None and mode == "wrap" and not check_only:
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
        unknown = unknown_keys(decl.when, args)
        for key, message, hint in unknown:
            if name is not None and fn is not None:
                # A class's `when:` applies to each method: say which one.
                where = f"event {spec.name!r} (method {fn.__name__})"
                message = message.replace("this event", where)
                hint = "; ".join(filter(None, [hint, "`event:` limits a class to one event"]))
            message = message.replace("this event", f"event {spec.name!r}")
            if decl.doc is None:  # registered from code: at the call, naming its argument
                self.problems.append(decl.problem("when", message, hint))
                continue
            self.problems.append(
                decl.doc.problem(decl.path + ("when", key), message, hint, key=True, hook=decl.name)
            )
        if unknown or check_only:
            return
        # Binding without the `with:` or `mode:` the entry meant would report false problems.
        if decl.unchecked & {"with", "mode"}:
            return
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
                from .runtime.command import compile_command  # only command hooks need it

                invoke = compile_command(
                    list(decl.target) if isinstance(decl.target, tuple) else str(decl.target),
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
            if not self.construct:  # validate runs hookrunner's own checks only
                checker = inspect.getattr_static(fn, "check_with", None)
                checker = checker if name is None and _hookrunners(fn) else None
            bad = [
                decl.doc.problem(decl.path + ("with", key), msg, hint, hook=decl.name)
                if decl.doc is not None
                else decl.problem("with", f"{key}: {msg}", hint)
                for key, msg, hint in (checker(bound) if callable(checker) else ())
            ]
            self.problems.extend(bad)
            try:
                binding = self._bind(fn, args, bound, mode == "wrap", bool(name and _marker(fn)))
            except ResolveError as exc:
                exc = _naming(exc, spec) if decl.caller is None else _from_code(_naming(exc, spec))
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


def _same_context(old: Manifest, new: Manifest) -> bool:
    """Whether hooks compiled for ``old`` mean the same under ``new`` (settings and events)."""
    return old.settings == new.settings and old.events == new.events


def _unchanged(old: HookDecl, new: HookDecl) -> bool:
    """The same declaration but perhaps for ``enabled`` (``enable``/``disable`` keep a hooks
    class's instance). Fields compare by identity first, so an unchanged one is cheap."""
    if old is new:
        return True
    if new.caller is not None and (
        old.target is not new.target or old.error_handler is not new.error_handler
    ):
        return False  # objects from code: another one is another hook, even if it is ==
    if old.enabled != new.enabled:
        old = old.replace(enabled=new.enabled)
    try:
        return bool(old == new)
    except Exception:  # an object from code whose == raises or answers an array
        return False


def _naming(exc: ResolveError, spec: EventSpec) -> ResolveError:
    """The resolver speaks of "this event"; the user reads better with its name."""
    return ResolveError(exc.message.replace("this event", f"event {spec.name!r}"), exc.hint)


def _from_code(exc: ResolveError) -> ResolveError:
    """The binder speaks of ``with:``; a hook registered from code binds values itself."""
    message = exc.message.replace(" nor given under `with:`", "").replace("neither an", "not an")
    hint = exc.hint
    if hint:
        hint = re.sub(
            r"bind it with `with: \{(\w+): \.\.\.\}`", r"bind \1 with functools.partial", hint
        )
    return ResolveError(message, hint)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out


def build(
    manifest: Manifest,
    state: State | None = None,
    generation: int = 1,
    reuse: Registry | None = None,
    *,
    imports: bool = True,
    construct: bool = True,
) -> Registry:
    """Resolve and compile a manifest; raise ValidationError listing every problem.

    With ``reuse`` (the live registry, when only declarations registered from code changed)
    the hooks of declarations equal to its own are carried over instead of resolved again.
    ``hookrunner validate`` passes ``construct=False`` (modules are imported to check the
    callables and signatures, but no hooks class is constructed and no project function
    called) or ``imports=False`` (``--no-import``: nothing is imported)."""
    with bulk():
        return _Builder(manifest, state or State(), generation, reuse, imports, construct).build()
