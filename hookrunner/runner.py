"""``HookRunner``: the Python API host applications use to load manifests and emit events."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import hooks as s3_slot
from .dispatch import EmitResult
from .manifest import Manifest, load_manifests
from .registry import Hook, Plan, Registry, State, build

if TYPE_CHECKING:
    from .diff import RegistryDiff
    from .pipeline.lifecycle import RunResult
    from .reload import Reload, Watcher
    from .session import Session

PathLike = str | os.PathLike[str]


def _drain_deliveries() -> None:
    """Wait (bounded) for queued AWS notifications, if anything ever queued one."""
    delivery = sys.modules.get("hookrunner.delivery")
    if delivery is not None:
        delivery.drain()


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
        paths: list[PathLike] | None = None,
        environ: dict[str, str] | None = None,
    ):
        self._registry = registry
        self._paths = list(paths or [])
        self._environ = environ
        self._state = registry.state
        self._state.post_error = self._post_error
        self._lock = threading.RLock()
        self._closers: list[Callable[[], None]] = []
        # Closers run last-in first-out: watchers stop, then deliveries drain, then the
        # runner stops filling the process's S3 client slot.
        s3_slot.attach(self)
        self._closers.append(lambda: s3_slot.detach(self))
        self._closers.append(_drain_deliveries)
        # The manifest set the last reload read, valid or not (hot reload watches its files).
        self._attempted: Manifest | None = None

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
        return cls(build(manifest, State(lean=lean)), manifest.paths)

    # ------------------------------------------------------------------ emitting
    def emit(self, event: str, /, **kwargs: Any) -> EmitResult:
        """Run ``event``'s hooks with ``kwargs`` as the event arguments."""
        try:
            plan = self._registry.plans[event]
        except KeyError:
            raise self._registry.unknown_event(event) from None
        return plan.emit(kwargs)

    async def aemit(self, event: str, /, **kwargs: Any) -> EmitResult:
        """``emit`` for async code: async hooks are awaited on the caller's loop."""
        return await self._plan(event).aemit(kwargs)

    def wrap(self, event: str, operation: Callable[..., Any], /, **kwargs: Any) -> EmitResult:
        """Run a wrap event's hooks around ``operation`` (called with the event arguments)."""
        return self._plan(event).emit(kwargs, operation)

    def _plan(self, event: str) -> Plan:
        # emit() inlines this lookup: it is the hot path, one call frame matters there.
        try:
            return self._registry.plans[event]
        except KeyError:
            raise self._registry.unknown_event(event) from None

    def _post_error(self, **kwargs: Any) -> None:
        self.emit("post_error", **kwargs)

    # ------------------------------------------------------------------ sessions, pipelines
    def session(
        self,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        store: PathLike | None = None,
    ) -> Session:
        """A session recorded in SQLite (``store``, default ``.hookrunner/sessions.db`` beside
        the first manifest); as a context manager it fires session_start and session_end."""
        from .session import Session, open_store

        base = Path(self._paths[0]).resolve().parent if self._paths else None
        return Session(self, open_store(store, base), session_id, metadata, owns_store=True)

    def run_pipeline(
        self,
        pipeline: PathLike,
        runner: str = "sequential",
        params: dict[str, Any] | None = None,
        **options: Any,
    ) -> RunResult:
        """Run a pipeline file with this runner's manifests plus the pipeline's own hooks."""
        from .pipeline.lifecycle import run_pipeline

        return run_pipeline(pipeline, runner, params, base_hooks=self.paths, **options)

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
            s3_slot.prune()  # drop S3 clients the old registry's build_s3_client plan built
            return diff_registries(old, registry, modules)

    def _project_dirs(self) -> set[str]:
        dirs = {str(Path(p).resolve().parent) for p in self._paths}
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
        """Stop watchers and drain delivery queues."""
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> HookRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
