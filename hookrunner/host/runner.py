"""The host of a live registry: load manifests, emit events, hot-reload, close.

``HookRunner`` here holds the registry reference; ``emit`` runs an event's call plan on the
current snapshot, and a reload replaces the reference whole, so an emit in flight finishes
on the snapshot it started with. Sessions and pipeline runs are added by the layers above
(``hookrunner.HookRunner`` is this class with ``session()`` and ``run_pipeline()``).

The layers above also need to know about runners without this module knowing about them:
the S3 client slot asks ``open_runners()`` for the manifests that fill it, and what must
happen after each registry swap or close (pruning S3 clients, draining the delivery queue)
is registered with ``on_swap`` and ``on_close``.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel.manifest import Manifest, load_manifests
from ..kernel.registry import Registry, build
from ..kernel.runtime.hook import Hook, State
from ..kernel.runtime.plan import Plan
from ..kernel.runtime.results import EmitResult

if TYPE_CHECKING:
    from .diff import RegistryDiff
    from .reload import Reload, Watcher

PathLike = str | os.PathLike[str]

_lock = threading.Lock()
_open: list[weakref.ReferenceType[HookRunner]] = []  # open runners, oldest first
_on_swap: list[Callable[[HookRunner], None]] = []
_on_close: list[Callable[[HookRunner], None]] = []


def open_runners() -> list[HookRunner]:
    """The runners not closed yet, oldest first."""
    with _lock:
        runners = [r() for r in _open]
    return [r for r in runners if r is not None]


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
        """``emit`` for async code: async hooks are awaited on the caller's loop."""
        result: EmitResult = await self._plan(event).aemit(kwargs)
        return result

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
            registry = build(manifest, self._state, generation=old.generation + 1)
            self._registry = registry
            _notify(_on_swap, self)
            return diff_registries(old, registry, modules)

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
