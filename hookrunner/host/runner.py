"""The host of a live registry: load manifests, emit events, hot-reload, close.

``HookRunner`` here holds the registry reference; ``emit`` runs an event's call plan on the
current snapshot, and a reload replaces the reference whole, so an emit in flight finishes
on the snapshot it started with. Hooks registered from code (``register``) are declarations
laid over the files' ones: each change compiles a new generation as a reload does, and every
reload lays them over the new files again. Sessions and pipeline runs are added by the layers
above (``hookrunner.HookRunner`` is this class with ``session()`` and ``run_pipeline()``).

The layers above also need to know about runners without this module knowing about them:
the S3 client slot asks ``open_runners()`` for the manifests that fill it, and what must
happen when a runner is made (tracing, if its settings turn it on), after each registry swap
or close (pruning S3 clients, draining the delivery queue) is registered with ``on_open``,
``on_swap`` and ``on_close``.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeVar

from ..kernel.decl import DEFAULTS, HookDecl
from ..kernel.document import bulk
from ..kernel.errors import UnknownHook, ValidationError, did_you_mean
from ..kernel.manifest import Manifest, load_manifests
from ..kernel.registered import Caller, Overlay, applied, caller, declare
from ..kernel.registry import Registry, build
from ..kernel.runtime.hook import Hook, State
from ..kernel.runtime.plan import Plan
from ..kernel.runtime.results import EmitResult

if TYPE_CHECKING:
    from .diff import RegistryDiff
    from .reload import Reload, Watcher

PathLike = str | os.PathLike[str]
T = TypeVar("T")

_lock = threading.Lock()
_open: list[weakref.ReferenceType[HookRunner]] = []  # open runners, oldest first
_on_open: list[Callable[[HookRunner], None]] = []
_on_swap: list[Callable[[HookRunner], None]] = []
_on_close: list[Callable[[HookRunner], None]] = []


def open_runners() -> list[HookRunner]:
    """The runners not closed yet, oldest first."""
    with _lock:
        runners = [r() for r in _open]
    return [r for r in runners if r is not None]


def on_open(listener: Callable[[HookRunner], None]) -> None:
    """Call ``listener(runner)`` when a runner is made, before its first emit (once per
    listener). It may raise ``ValidationError``: the runner is then not made."""
    with _lock:
        if listener not in _on_open:
            _on_open.append(listener)


def on_swap(listener: Callable[[HookRunner], None]) -> None:
    """Call ``listener(runner)`` after a runner swaps in a new registry (once per listener)."""
    with _lock:
        if listener not in _on_swap:
            _on_swap.append(listener)


def on_close(listener: Callable[[HookRunner], None]) -> None:
    """Call ``listener(runner)`` when a runner closes, after its watchers stopped."""
    with _lock:
        if listener not in _on_close:
            _on_close.append(listener)


def _notify(listeners: list[Callable[[HookRunner], None]], runner: HookRunner) -> None:
    with _lock:
        todo = list(listeners)
    for listener in todo:
        listener(runner)


# The settings register() takes by keyword (the decorator passes them on).
_SETTINGS = (
    "priority",
    "when",
    "mode",
    "on_error",
    "timeout",
    "enabled",
    "tryfirst",
    "trylast",
)


def _flatten(paths: tuple[PathLike | Iterable[PathLike], ...]) -> list[PathLike]:
    out: list[PathLike] = []
    for p in paths:
        if isinstance(p, (str, os.PathLike)):
            out.append(p)
        else:
            out.extend(p)
    return out


class HookRunner:
    """Holds the live registry; ``emit`` runs an event's call plan on the current snapshot.

    The registry reference is replaced whole on reload, so an emit in flight finishes on the
    snapshot it started with.
    """

    def __init__(
        self,
        registry: Registry,
        paths: Sequence[PathLike] | None = None,
        environ: dict[str, str] | None = None,
    ):
        self._registry = registry
        self._paths = list(paths or [])
        self._environ = environ
        self._state = registry.state
        self._state.post_error = self._post_error
        self._lock = threading.RLock()
        # What close() undoes, last in first out (watchers).
        self._closers: list[Callable[[], None]] = []
        self._closed = False
        # The manifest set the last reload read, valid or not (hot reload watches its files).
        self._attempted: Manifest | None = None
        # The files' manifest of the live generation, and what code laid over it: hooks
        # registered (name → declaration, in registration order) and enable/disable switches
        # of the files' hooks (name → enabled). Replaced whole, under the lock, on a change.
        self._files: Manifest = registry.manifest
        self._code: dict[str, HookDecl] = {}
        self._switches: dict[str, bool] = {}
        _notify(_on_open, self)
        # perf_counter() right after the last reload's registry went live (before its diff).
        self.swapped_at = 0.0
        with _lock:
            _open[:] = [r for r in _open if r() is not None]
            _open.append(weakref.ref(self))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_files(
        cls,
        *paths: PathLike | Iterable[PathLike],
        watch: bool = False,
        environ: dict[str, str] | None = None,
        on_reload: Callable[[Reload], None] | None = None,
        lean: bool = False,
    ) -> HookRunner:
        """Load, validate and compile manifests (later files override earlier ones by name).

        With ``watch=True`` the files are hot-reloaded (§10); ``on_reload`` is then called
        after every reload attempt, valid or not. ``lean=True`` skips per-hook timing and
        keeps results only for hooks that returned a value or failed (the fastest emits).
        """
        files = _flatten(paths)
        registry = build(load_manifests(files, environ), State(lean=lean), generation=1)
        runner = cls(registry, files, environ)
        if watch:
            runner.watch(on_reload=on_reload)
        return runner

    @classmethod
    def from_manifest(cls, manifest: Manifest, lean: bool = False) -> HookRunner:
        return cls(build(manifest, State(lean=lean)), list(manifest.paths))

    # ------------------------------------------------------------------ emitting
    def emit(self, event: str, /, **kwargs: Any) -> EmitResult:
        """Run ``event``'s hooks with ``kwargs`` as the event arguments."""
        try:
            plan = self._registry.plans[event]
        except KeyError:
            raise self._registry.unknown_event(event) from None
        result: EmitResult = plan.emit(kwargs)
        return result

    async def aemit(self, event: str, /, **kwargs: Any) -> EmitResult:
        """``emit`` for async code: async hooks are awaited on the caller's loop. When no
        hook of the event awaits, this is ``emit`` itself (its compiled fast path)."""
        try:  # inlined like emit's: the lookup is most of what a sync event costs here
            plan = self._registry.plans[event]
        except KeyError:
            raise self._registry.unknown_event(event) from None
        if plan.awaits:
            result: EmitResult = await plan.aemit(kwargs)
            return result
        fast: EmitResult = plan.emit(kwargs)
        return fast

    def wrap(self, event: str, operation: Callable[..., Any], /, **kwargs: Any) -> EmitResult:
        """Run a wrap event's hooks around ``operation`` (called with the event arguments)."""
        result: EmitResult = self._plan(event).emit(kwargs, operation)
        return result

    def _plan(self, event: str) -> Plan:
        # emit() inlines this lookup: it is the hot path, one call frame matters there.
        try:
            return self._registry.plans[event]
        except KeyError:
            raise self._registry.unknown_event(event) from None

    def _post_error(self, **kwargs: Any) -> None:
        self.emit("post_error", **kwargs)

    # ------------------------------------------------------------------ introspection
    @property
    def registry(self) -> Registry:
        return self._registry

    @property
    def generation(self) -> int:
        return self._registry.generation

    @property
    def paths(self) -> list[Path]:
        return [Path(p) for p in self._paths]

    @property
    def closed(self) -> bool:
        return self._closed

    def hooks(self, event: str | None = None) -> list[Hook]:
        """Hooks in effective order, as ``hookrunner list`` shows them."""
        return self._registry.ordered(event)

    def describe(self, event: str | None = None) -> list[dict[str, Any]]:
        """The rows of ``hookrunner list --format json``: every hook in effective order."""
        return [h.describe() for h in self._registry.ordered(event)]

    def set_observer(self, observer: Callable[[EmitResult], None] | None) -> None:
        """Called with every EmitResult that ran hooks (the session store records them)."""
        self._state.observer = observer

    # ------------------------------------------------------------------ reload
    def reload(self, changed: Iterable[PathLike] = ()) -> RegistryDiff:
        """Load and validate the files again; swap the registry only if all is valid.

        ``changed`` names files known to have changed: project hook modules among them (and
        project modules importing them) are re-imported. Raises ``ValidationError`` and keeps
        the live registry when the new set is invalid.
        """
        from .diff import diff_registries
        from .modules import forget, project_modules

        with self._lock:
            old = self._registry
            changed = list(changed)
            modules = forget(changed, project_modules(self._project_dirs())) if changed else []
            manifest = load_manifests(self._paths, self._environ)
            self._attempted = manifest
            laid = applied(manifest, self._code.values(), self._switches)
            registry = build(laid, self._state, generation=old.generation + 1)
            self._files = manifest
            self._registry = registry
            self.swapped_at = perf_counter()  # serving from here; the diff is for the report
            _notify(_on_swap, self)
            return diff_registries(old, registry, modules)

    # ------------------------------------------------------------------ hooks from code
    def register(
        self,
        name: str,
        event: str | None,
        call: object,
        *,
        priority: int = DEFAULTS["priority"],
        when: Mapping[str, Any] | None = None,
        mode: str | None = None,
        on_error: str | None = None,
        error_handler: Callable[..., Any] | None = None,
        timeout: float | str | None = None,
        enabled: bool = DEFAULTS["enabled"],
        tryfirst: bool = DEFAULTS["tryfirst"],
        trylast: bool = DEFAULTS["trylast"],
    ) -> RegistryDiff:
        """Add ``call`` as hook ``name`` of ``event``, as a manifest entry would (a hooks
        object, a class or a module registers its methods named after events; ``event`` then
        limits it to one). A hook of that name, from a file or from code, is replaced in place.

        Checked as a manifest entry is: a ``ValidationError`` located at this call. Returns,
        once the new generation is live, what changed."""
        settings = {
            "priority": priority,
            "when": when,
            "mode": mode,
            "on_error": on_error,
            "timeout": timeout,
            "enabled": enabled,
            "tryfirst": tryfirst,
            "trylast": trylast,
        }
        return self._register(name, event, call, caller(), error_handler, settings)

    def hook(
        self, event: str | None = None, /, *, name: str | None = None, **settings: Any
    ) -> Callable[[T], T]:
        """``register`` as a decorator: ``@runner.hook("session_start", priority=10)`` on a
        function (or ``@runner.hook()`` on a hooks class); ``name`` defaults to its
        ``__name__``. The function is returned as it was."""
        at = caller()
        handler = settings.pop("error_handler", None)
        unknown = [k for k in settings if k not in _SETTINGS]
        if unknown:
            hint = did_you_mean(unknown[0], _SETTINGS)
            raise TypeError(
                f"hook() got an unexpected keyword argument {unknown[0]!r}"
                + (f" ({hint})" if hint else "")
            )

        def decorate(obj: T) -> T:
            label = name if name is not None else getattr(obj, "__name__", None)
            self._register(label, event, obj, at, handler, settings)
            return obj

        return decorate

    def unregister(self, name: str) -> RegistryDiff:
        """Remove the hook registered from code as ``name`` (a file's hook it replaced comes
        back); returns, once live, what changed."""
        with self._lock:
            if name not in self._code:
                raise self._unknown(name, registered=True)
            code = {k: d for k, d in self._code.items() if k != name}
            return self._lay(code, self._switches, name)

    def enable(self, name: str) -> RegistryDiff:
        """Switch hook ``name`` on (from a file or from code; it also re-arms a hook that
        ``on_error: disable`` switched off). The switch outlives reloads."""
        return self._switch(name, True)

    def disable(self, name: str) -> RegistryDiff:
        """Switch hook ``name`` off until ``enable``; the switch outlives reloads."""
        return self._switch(name, False)

    def _register(
        self,
        name: Any,
        event: Any,
        call: object,
        at: Caller,
        error_handler: Any,
        settings: dict[str, Any],
    ) -> RegistryDiff:
        decl = declare(name, event, call, at, error_handler, **settings)
        with self._lock:
            code = dict(self._code)
            code[decl.name] = decl  # a name registered before keeps its place
            switches = {k: v for k, v in self._switches.items() if k != decl.name}
            return self._lay(code, switches, decl.name)

    def _switch(self, name: str, enabled: bool) -> RegistryDiff:
        with self._lock:
            code, switches = self._code, self._switches
            if name in code:
                code = {**code, name: code[name].replace(enabled=enabled)}
            elif any(d.name == name for d in self._files.decls):
                switches = {**switches, name: enabled}
            else:
                raise self._unknown(name)
            if enabled:
                made = self._registry.compiled.get(name)
                self._state.disabled.difference_update(h.name for h in (made[1] if made else ()))
            return self._lay(code, switches, name)

    def _lay(
        self, code: dict[str, HookDecl], switches: dict[str, bool], touched: str
    ) -> RegistryDiff:
        """Compile the files' hooks with ``code`` and ``switches`` laid over them and make
        that generation live (nothing changes if it is invalid); ``touched`` names the one
        declaration the change is about. Called under the lock.

        When the last reload failed although its files were valid on their own (a registered
        hook did not fit them), those files are tried first: the change may have unblocked
        them (they were re-imported then, so nothing compiled before is carried over)."""
        from .diff import diff_registries

        old = self._registry
        bases = [self._files]
        pending = self._attempted
        if pending is not None and pending is not self._files and not pending.problems:
            bases.insert(0, pending)
        for i, files in enumerate(bases):
            laid = applied(files, code.values(), switches)
            reuse = old if files is self._files else None
            try:
                registry = build(laid, self._state, generation=old.generation + 1, reuse=reuse)
            except ValidationError:
                if i == len(bases) - 1:
                    raise
                continue
            break
        # The diff looks only at what the change is about, unless other files came in.
        changed = {touched} if files is self._files else None
        self._files = files
        self._code, self._switches = code, switches
        self._registry = registry
        _notify(_on_swap, self)
        with bulk():  # it makes thousands of objects that die at once
            return diff_registries(old, registry, names=changed)

    def overlay(self) -> Overlay:
        """What code laid over this runner's files (hooks registered, enable/disable
        switches): a pipeline run from this runner lays it over the pipeline's hooks too."""
        with self._lock:
            return Overlay(tuple(self._code.values()), dict(self._switches))

    def _unknown(self, name: str, registered: bool = False) -> UnknownHook:
        files = {d.name: d for d in self._files.decls}
        if registered and name in files:
            return UnknownHook(
                name,
                f"no hook registered from code is named {name!r}",
                f"{name!r} comes from {files[name].source}: disable({name!r}) switches it off",
            )
        known = list(self._code) if registered else list(files) + list(self._code)
        what = "registered from code " if registered else ""
        return UnknownHook(name, f"no hook {what}is named {name!r}", did_you_mean(name, known))

    def _project_dirs(self) -> set[str]:
        dirs = {os.path.dirname(os.path.realpath(p)) for p in self._paths}
        dirs.update(str(d.directory) for d in self._registry.manifest.files)
        return dirs

    def watched_files(self) -> set[Path]:
        """What hot reload watches: the manifests, their includes (found or not) and the
        source files of the project's imported hook modules."""
        from .reload import watch_list

        documents = list(self._registry.manifest.files)
        if self._attempted is not None:
            documents += self._attempted.files
        return watch_list(self._paths, documents)

    def watch(
        self,
        extra_paths: Iterable[PathLike] = (),
        on_reload: Callable[[Reload], None] | None = None,
    ) -> Watcher:
        """Start hot reload; ``close()`` stops it. ``extra_paths`` are watched too (a pipeline
        file): a change there reloads and is reported to ``on_reload`` like any other."""
        from .reload import Watcher

        watcher = Watcher(self, extra_paths=extra_paths, on_reload=on_reload)
        watcher.start()
        self._closers.append(watcher.stop)
        return watcher

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Stop watchers, then run what the layers above registered (drain delivery queues,
        stop filling the S3 client slot). Calling it again runs those again: what a hook
        queued after the first close (an ``after_command_run`` hook) is drained too."""
        while self._closers:
            self._closers.pop()()
        self._closed = True
        with _lock:
            _open[:] = [r for r in _open if r() is not None and r() is not self]
        _notify(_on_close, self)

    def __enter__(self) -> HookRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
