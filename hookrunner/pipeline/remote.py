"""Running one node in another process: the run shipped as text, hooks rebuilt where the node runs.

A distributed runner cannot send a registry (it holds imported functions and per-process
state), but it can send what the registry was built from. ``RunSource`` carries the text of
every manifest and of the pipeline file, the order they were loaded in and the driver's
registry generation; a worker rebuilds the same registry from it once and caches it under a
digest of that content. ``run_remote`` then runs the node with the ordinary per-node protocol
(``run_node``) and returns a ``NodeReport``: every hook call made on the worker, the failures
that must become ``post_error`` in the driver, and the arguments of the events that also have
``where: driver`` hooks, so that the driver can fire those in the node's own order.

Nothing here imports Dask: any executor that can call a function in another process with
picklable arguments can use it. What crosses between processes is sealed (``sealed``): the
values of ``${env:...}`` travel as that text and are read from the receiver's environment.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import socket
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kernel import schema, secrets
from ..kernel.blame import Culprit
from ..kernel.document import Document, interpolate_env, load_text, read_text
from ..kernel.errors import HookrunnerError, ValidationError
from ..kernel.manifest import Loader
from ..kernel.plugins import discover, manifest_file
from ..kernel.registry import Registry, build
from ..kernel.runtime.hook import State
from ..kernel.runtime.plan import Plan
from ..kernel.runtime.results import CallRow, EmitResult
from ..services.aws import slot as s3_slot
from .catalog import Catalog
from .datasets import MemoryDataset
from .runners import NODE_EVENTS, Job, NodeFailed, run_node
from .sealed import seal, unseal
from .spec import hook_manifest

# Node and dataset events fire where the node runs, unless a hook says ``where: driver``.


class RemoteError(HookrunnerError):
    """An exception from a worker that could not travel back as itself (not picklable)."""


@dataclass(frozen=True)
class RunSource:
    """The hooks of a run as text: enough to rebuild its registry in another process.

    ``manifests`` are the project's top-level manifest files in load order (includes are found
    through their includers; installed plugins are discovered again where it runs); ``texts`` maps every file read, the pipeline file too, to its content.
    All paths are absolute, so a worker with another working directory reads the same files.
    """

    pipeline: str
    manifests: tuple[str, ...]
    texts: tuple[tuple[str, str], ...]
    generation: int
    key: str = ""

    @classmethod
    def of(cls, registry: Registry) -> RunSource:
        """The source of a pipeline run's registry (its last file is the pipeline file)."""
        files: list[Document] = list(registry.manifest.files)
        if not files:
            raise ValueError("the registry was not loaded from files")
        tops = _top_level(files)
        pipeline = str(Path(tops[-1].file).resolve())
        texts = []
        for doc in files:
            real = str(Path(doc.file).resolve())
            # The text that was loaded, when the document kept it; else read again with
            # the loader's guards (a regular file, the size limit).
            texts.append((real, doc.text if doc.text is not None else read_text(real)))
        manifests = [str(Path(d.file).resolve()) for d in tops[:-1]]
        if registry.manifest.discover_plugins:
            # Plugin manifests come after the project's; a worker discovers them itself.
            plugged = _plugin_manifests()
            while manifests and manifests[-1] in plugged:
                manifests.pop()
        digest = hashlib.sha256()
        for part in (pipeline, *manifests, *(p + "\0" + t for p, t in texts)):
            digest.update(part.encode() + b"\0")
        digest.update(str(registry.generation).encode())
        return cls(
            pipeline, tuple(manifests), tuple(texts), registry.generation, digest.hexdigest()
        )


def _plugin_manifests() -> set[str]:
    """The manifest files installed plugins name (``package:hooks.yaml``), resolved."""
    found = (manifest_file(p) for p in discover() if p.is_manifest)
    return {str(path.resolve()) for path in found if path is not None}


def _top_level(files: list[Document]) -> list[Document]:
    """The files loaded directly, in order: a loader appends a file, then its includes."""
    i = 0
    tops: list[Document] = []

    def take() -> Document:
        nonlocal i
        doc = files[i]
        i += 1
        includes = doc.data.get("include") if isinstance(doc.data, dict) else None
        for inc in includes if isinstance(includes, list) else []:
            target = (doc.directory / str(inc)).resolve()
            if i < len(files) and Path(files[i].file).resolve() == target:
                take()
        return doc

    while i < len(files):
        tops.append(take())
    return tops


@dataclass
class RunPayload:
    """What every node task of one run receives (small: datasets are configured objects)."""

    source: RunSource
    run_id: str
    params: dict[str, Any]
    # Datasets that are not in memory, as the driver's catalog holds them; each worker loads
    # and saves through its own copy.
    datasets: dict[str, Any]
    # Node/dataset events that also have `where: driver` hooks: their arguments come back.
    driver_events: frozenset[str] = frozenset()
    paths: tuple[str, ...] = ()
    # Names this run for ``stop``: its nodes queued on a worker then never start.
    tag: str = ""
    # When the run is traced: the run span's context and how hook calls are recorded
    # (``services.telemetry``'s ``TraceRequest``).
    trace: Any = None


@dataclass
class NodeReport:
    """What happened to one node on a worker."""

    node: str
    worker: str
    started: float = 0.0
    ended: float = 0.0
    # Every hook call made on the worker (the worker's name is added by the driver).
    calls: list[CallRow] = field(default_factory=list)
    # (error_info, error) for each hook failure absorbed by its `continue` policy.
    post_errors: list[tuple[dict[str, Any], BaseException]] = field(default_factory=list)
    # (event, arguments without node and catalog) for events with driver-side hooks.
    trace: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # A traced run's spans made here for the node (plain data; None: not traced here).
    spans: list[dict[str, Any]] | None = None
    # When the node failed: the hook that raised (if one did) and the short and full
    # tracebacks, made here (a traceback does not travel between processes).
    culprit: Culprit | None = None
    tracebacks: tuple[str, str] | None = None


class NotStarted(HookrunnerError):
    """A queued node task saw its run stopped (an earlier node failed) and did nothing."""


class NodeFailedRemotely(HookrunnerError):
    """Raised by a node task so that the executor marks it failed (and never starts what
    depends on it); carries the report and the node's own error back to the driver, sealed
    (the executor logs and stores the exception: its text is scrubbed, its args empty)."""

    def __init__(self, report: Any, error: Any):
        super().__init__()
        self._open: tuple[Any, Any] | None = (report, error)
        self._sealed: Any = None

    @property
    def report(self) -> Any:
        return self._opened()[0]

    @property
    def error(self) -> Any:
        return self._opened()[1]

    def _opened(self) -> tuple[Any, Any]:
        if self._open is None:  # revived in the driver: read on first use
            self._open = unseal(self._sealed, missing="mask")
        return self._open

    def __reduce__(self) -> tuple[Any, ...]:
        return (_revive_failure, (seal(self._opened()),))

    def __str__(self) -> str:
        node = getattr(self.report, "node", "?")
        return secrets.scrub(f"node {node!r} failed: {type(self.error).__name__}: {self.error}")

    def __repr__(self) -> str:
        return f"NodeFailedRemotely({str(self)!r})"


def _revive_failure(sealed: Any) -> NodeFailedRemotely:
    failure = NodeFailedRemotely(None, None)
    failure._open, failure._sealed = None, sealed
    return failure


# --------------------------------------------------------------------------- worker side


class _Context:
    """One rebuilt registry on a worker, cached by the content it was built from.

    While cached it also fills this process's S3 client slot when the manifests do (the
    slot looks for ``.registry`` on attached objects), so datasets on the worker use it."""

    def __init__(self, registry: Registry, plans: dict[str, Plan]):
        self.registry = registry
        self.plans = plans


_cache: OrderedDict[str, _Context] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 4
_local = threading.local()
_stopped: set[str] = set()


def stop(tag: str) -> None:
    """Stop a run here: its node tasks that have not started yet will not start. Runs on the
    worker's event loop, so it takes effect even while the worker's threads are busy."""
    _stopped.add(tag)


def add_paths(paths: tuple[str, ...] | list[str]) -> None:
    """Make the project importable here (folders that do not exist here are skipped)."""
    for p in reversed(list(paths)):
        if p not in sys.path and os.path.isdir(p):
            sys.path.insert(0, p)


class _ShippedLoader(Loader):
    """A manifest loader that reads the shipped texts before the local disk."""

    def __init__(self, texts: dict[str, str]):
        super().__init__()
        self.texts = texts

    def add_file(
        self,
        path: str | os.PathLike[str],
        stack: tuple[str, ...] = (),
        origin: tuple[Document, tuple[str | int, ...], str] | None = None,
    ) -> None:
        real = os.path.realpath(path)
        text = self.texts.get(real)
        if text is None:
            super().add_file(path, stack, origin)
            return
        try:
            doc = load_text(text, real)
        except ValidationError as exc:
            self.m.problems.extend(exc.problems)
            return
        self.add_document(doc, stack + (real,))


def _observe(result: Any) -> None:
    calls = getattr(_local, "calls", None)
    if calls is not None:
        calls.append((time.time(), result))


def _post_error(**kw: Any) -> None:
    errors = getattr(_local, "post_errors", None)
    if errors is not None:
        errors.append((kw.get("error_info") or {}, _portable(kw.get("error"))))


def build_plans(source: RunSource) -> tuple[Registry, dict[str, Plan]]:
    """``source``'s registry, and its node and dataset plans without ``where: driver`` hooks."""
    texts = dict(source.texts)
    doc = load_text(texts[source.pipeline], source.pipeline)
    shape = interpolate_env(doc) + schema.check(doc, "pipeline")
    manifest = hook_manifest(doc, list(source.manifests), shape, loader=_ShippedLoader(texts))
    if shape:
        manifest.problems.extend(p for p in shape if p not in manifest.problems)
    state = State(observer=_observe, post_error=_post_error)
    registry = build(manifest, state, generation=source.generation)
    return registry, {
        name: Plan(
            registry.plans[name].spec,
            tuple(h for h in registry.plans[name].hooks if h.where != "driver"),
            registry.generation,
            state,
            registry.plans[name].exact,
        )
        for name in NODE_EVENTS
    }


def context_for(source: RunSource) -> _Context:
    """The cached context for ``source`` on this worker, rebuilt when its content changed."""
    with _cache_lock:
        ctx = _cache.get(source.key)
        if ctx is not None:
            _cache.move_to_end(source.key)
            return ctx
        ctx = _Context(*build_plans(source))
        _cache[source.key] = ctx
        s3_slot.attach(ctx)
        while len(_cache) > _CACHE_SIZE:
            s3_slot.detach(_cache.popitem(last=False)[1])
        return ctx


class _Tee:
    """A plan stand-in that also records the event's arguments for the driver's hooks."""

    def __init__(self, plan: Any, trace: list[tuple[str, dict[str, Any]]], hooks: tuple):
        self.plan = plan
        self.trace = trace
        self.name = plan.spec.name
        # Every hook of the event, the driver's too: a runner emits when there are any.
        self.hooks = hooks

    def emit(self, kw: dict[str, Any], operation: Any = None) -> Any:
        self.trace.append(
            (self.name, {k: v for k, v in kw.items() if k not in ("node", "catalog")})
        )
        if self.plan.hooks:
            return self.plan.emit(kw)
        return self.plan.empty


def _portable(error: Any) -> BaseException:
    """``error`` if it survives pickling, else a RemoteError with its type and message."""
    if not isinstance(error, BaseException):
        return RemoteError(str(error))
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RemoteError(f"{type(error).__name__}: {error}")


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except Exception:  # not inside a Dask worker (another executor, or a test)
        return f"{socket.gethostname()}:{os.getpid()}"


def _rows(calls: list[tuple[float, EmitResult]]) -> list[CallRow]:
    return [row for ts, result in calls for row in result.rows(ts)]


def run_remote(payload: Any, node: Any, memory: dict[str, Any]) -> dict[str, Any]:
    """Run ``node`` here with its node and dataset hooks; return its outputs kept in memory.

    ``payload`` (a ``RunPayload``), ``node`` and the in-memory inputs in ``memory`` (the
    executor resolved them) may come sealed. The report goes back, sealed, through
    ``report_of``: on failure, ``NodeFailedRemotely`` carries it.
    """
    failure: NodeFailedRemotely | None = None
    try:
        payload, node = unseal(payload), unseal(node)
    except Exception as exc:  # a variable of the run is not set here
        failure = NodeFailedRemotely(NodeReport("?", _worker_name()), RemoteError(str(exc)))
    if failure is not None:
        raise failure  # outside the handler: no secret rides along as __context__
    if payload.tag in _stopped:
        raise NotStarted(secrets.scrub(node.name))
    add_paths(payload.paths)
    report = NodeReport(node.name, _worker_name(), started=time.time())
    _local.calls = []
    _local.post_errors = []
    _local.trace = None
    try:
        ctx = context_for(payload.source)
        if payload.trace is not None:
            from ..services.telemetry.remote import worker_trace

            _local.trace = worker_trace(payload.trace, ctx.registry, report.worker)
        datasets: dict[str, Any] = dict(payload.datasets)
        for name, data in memory.items():
            datasets[name] = MemoryDataset(unseal(data))
        catalog = Catalog(datasets, payload.params)
        plans = {
            name: _Tee(plan, report.trace, ctx.registry.plans[name].hooks)
            if name in payload.driver_events
            else plan
            for name, plan in ctx.plans.items()
        }
        job = Job(
            pipeline=None,  # type: ignore[arg-type]
            catalog=catalog,
            plans=plans,  # type: ignore[arg-type]
            run_id=payload.run_id,
            trace=_local.trace,
        )
        run_node(job, node)
        outputs = {}
        for name in node.outputs:
            ds = catalog.dataset(name)
            if isinstance(ds, MemoryDataset):
                outputs[name] = ds.load()
        return {"outputs": outputs, "report": seal(_finish(report))}
    except Exception as exc:  # the node failed, or its hooks could not be rebuilt here
        error: BaseException = exc
        if isinstance(exc, NodeFailed):
            error = exc.error
            report.culprit, report.tracebacks = exc.hook, exc.tracebacks()
        elif isinstance(exc, ValidationError):  # only context_for raises it
            error = RemoteError(
                "the hooks could not be rebuilt on this worker (do the manifests or the "
                f"environment differ from the driver's?):\n{exc}"
            )
        failure = NodeFailedRemotely(_finish(report), _portable(error))
    finally:
        _local.calls = None
        _local.post_errors = None
        _local.trace = None
    raise failure  # outside the handler: no secret rides along as __context__


def _finish(report: NodeReport) -> NodeReport:
    report.ended = time.time()
    calls = getattr(_local, "calls", None) or []
    report.calls = _rows(calls)
    trace = getattr(_local, "trace", None)
    if trace is not None:
        from ..services.telemetry.remote import collect

        report.spans = collect(trace, calls)
    report.post_errors = list(getattr(_local, "post_errors", None) or [])
    report.trace = [(e, {k: _keep(v) for k, v in kw.items()}) for e, kw in report.trace]
    return report


def _keep(value: Any) -> Any:
    """Exceptions in traced arguments (``on_node_error``'s ``error``) must travel back."""
    return _portable(value) if isinstance(value, BaseException) else value


def pick(result: dict[str, Any], name: str) -> Any:
    """One in-memory output of a finished node (runs beside the data)."""
    return result["outputs"][name]


def report_of(result: dict[str, Any]) -> Any:
    """The report of a finished node, sealed (small: the only thing the driver waits for)."""
    return result["report"]
