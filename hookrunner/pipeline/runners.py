"""Runners: in which order and where nodes execute. What happens to one node is ``run_node``.

A runner only schedules; ``run_node(job, node)`` is the whole per-node protocol (load inputs
with their dataset hooks → ``before_node_run`` → call → ``after_node_run`` → save outputs with
their hooks → checkpoint). A distributed runner is one more ``Runner`` subclass that calls
``run_node`` where its workers are; register it in ``RUNNERS``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as encode_string
from time import perf_counter, time
from typing import TYPE_CHECKING, Any, ClassVar

from ..kernel.blame import Culprit, culprit
from ..kernel.errors import HookrunnerError
from ..kernel.events import CATALOGUE
from .catalog import Catalog
from .graph import Node, Pipeline

if TYPE_CHECKING:
    from ..kernel.registry import Registry
    from ..kernel.runtime.plan import Plan
    from ..services.sessions.session import Session
    from ..services.telemetry.tracer import NodeTrace

# progress(kind, node, seconds): kind is "plan" (node None, seconds = node count), "start",
# "done", "failed" or "skipped".
Progress = Callable[[str, Any, float], None]
# The node-level events: the pipeline events that carry a node (from the catalogue).
NODE_EVENTS = tuple(e.name for e in CATALOGUE if e.group == "pipeline" and "node" in e.args)


class NodeFailed(HookrunnerError):
    """A node (or one of its dataset loads/saves or pipeline hooks) failed; ``error`` is why.

    ``hook`` is the hook that raised it, when one did (read where the emit raised: the same
    thread); ``tracebacks()`` the short (project frames) and the full traceback, made on a
    worker when the node ran in another process."""

    def __init__(
        self,
        node: Node,
        error: BaseException,
        hook: Culprit | None = None,
        tracebacks: tuple[str, str] | None = None,
    ):
        super().__init__(f"node {node.name!r} failed: {type(error).__name__}: {error}")
        self.node = node
        self.error = error
        self.hook = hook if hook is not None else culprit(error)
        self._tracebacks = tracebacks

    def tracebacks(self) -> tuple[str, str]:
        if self._tracebacks is not None:
            return self._tracebacks
        from ..kernel.frames import full_traceback, short_traceback  # only a failure needs it

        return short_traceback(self.error), full_traceback(self.error)


@dataclass
class Job:
    """Everything a worker needs to run nodes of one pipeline run.

    ``plans`` is the registry snapshot taken when the run starts: a reload during the run
    does not change the hooks halfway through a node. ``trace`` is set when the run is
    traced (each node a span, its dataset accesses too), None otherwise.
    """

    pipeline: Pipeline
    catalog: Catalog
    plans: dict[str, Plan]
    run_id: str
    session: Session | None = None
    progress: Progress | None = None
    done: list[str] = field(default_factory=list)
    trace: NodeTrace | None = None
    # Seconds the runner spent starting its workers before the nodes (a local Dask cluster).
    startup_s: float = 0.0


def _checkpoint_json(node: Node) -> str:
    """``json.dumps({"node": name, "outputs": outputs})``, the same text at a sixth of the
    cost (the per-node checkpoint is on the hot path of a run)."""
    outputs = ", ".join(map(encode_string, node.outputs))
    return f'{{"node": {encode_string(node.name)}, "outputs": [{outputs}]}}'


def run_node(job: Job, node: Node) -> None:
    """Run one node with its hooks; raise NodeFailed. Safe to call from several threads."""
    if job.trace is None:
        _run_node(job, node, job.catalog.load, job.catalog.save)
        return
    span = job.trace.node(node.name, job.catalog)
    try:
        _run_node(job, node, span.load, span.save)
    except NodeFailed as exc:
        span.end(exc.error)
        raise
    except BaseException as exc:
        span.end(exc)
        raise
    span.end(None)


def _run_node(
    job: Job, node: Node, load: Callable[[str], Any], save: Callable[[str, Any], None]
) -> None:
    """The per-node protocol, loading and saving through ``load`` and ``save``."""
    plans = job.plans
    catalog = job.catalog
    progress = job.progress
    started = time()
    t0 = perf_counter()
    if progress is not None:
        progress("start", node, 0.0)
    try:
        before_load = plans["before_dataset_loaded"]
        after_load = plans["after_dataset_loaded"]
        inputs: dict[str, Any] = {}
        for name in node.inputs:
            if before_load.hooks:
                before_load.emit({"dataset_name": name, "node": node})
            data = load(name)
            inputs[name] = data
            if after_load.hooks:
                after_load.emit({"dataset_name": name, "data": data, "node": node})
        before = plans["before_node_run"]
        if before.hooks:
            result = before.emit(
                {
                    "node": node,
                    "catalog": catalog,
                    "inputs": dict(inputs),
                    "is_async": False,
                    "run_id": job.run_id,
                }
            )
            if result.changes:
                inputs.update(result.changes)
        try:
            outputs = node.run(inputs)
        except Exception as exc:
            on_error = plans["on_node_error"]
            if on_error.hooks:
                on_error.emit(
                    {
                        "error": exc,
                        "node": node,
                        "catalog": catalog,
                        "inputs": inputs,
                        "is_async": False,
                        "run_id": job.run_id,
                    }
                )
            raise
        after = plans["after_node_run"]
        if after.hooks:
            after.emit(
                {
                    "node": node,
                    "catalog": catalog,
                    "inputs": inputs,
                    "outputs": outputs,
                    "is_async": False,
                    "run_id": job.run_id,
                }
            )
        before_save = plans["before_dataset_saved"]
        after_save = plans["after_dataset_saved"]
        for name, data in outputs.items():
            if before_save.hooks:
                before_save.emit({"dataset_name": name, "data": data, "node": node})
            save(name, data)
            if after_save.hooks:
                after_save.emit({"dataset_name": name, "data": data, "node": node})
        checkpoint(job, node)
    except Exception as exc:
        if job.session is not None:
            job.session.record_node(
                node.name, started, time(), job.session.lane(), f"{type(exc).__name__}: {exc}"
            )
        if progress is not None:
            progress("failed", node, perf_counter() - t0)
        raise NodeFailed(node, exc) from exc
    if job.session is not None:
        job.session.record_node(node.name, started, time(), job.session.lane())
    node_done(job, node, perf_counter() - t0)


def checkpoint(job: Job, node: Node) -> None:
    """The checkpoint of a node whose outputs are saved (when the run has a session).

    One that ``--resume`` can use (every output persistent) is written at once instead of
    with the next batch: a crash after it must not make the resumed run redo the node."""
    session = job.session
    if session is not None:
        data = {"node": node.name, "outputs": node.outputs}
        stored = session.checkpoint(data, node=node.name, encoded=_checkpoint_json(node))
        if stored and all(map(job.catalog.persistent, node.outputs)):
            session.flush()


def node_done(job: Job, node: Node, seconds: float) -> None:
    """Record a node as finished (after its checkpoint) and report its progress."""
    job.done.append(node.name)
    if job.progress is not None:
        job.progress("done", node, seconds)


class Runner(ABC):
    """Schedules the nodes of ``job.pipeline`` (already in dependency order)."""

    name: ClassVar[str] = ""

    def __init__(self, workers: int | None = None, **options: Any):
        self.workers = workers
        self.options = options

    @classmethod
    def unavailable(cls) -> str | None:
        """Why this runner cannot run here (an optional dependency is missing), or None."""
        return None

    @abstractmethod
    def run(self, job: Job) -> None:
        """Run every node after its upstream nodes; raise the first NodeFailed."""


class SequentialRunner(Runner):
    """One node at a time, in dependency order (ties keep file order)."""

    name = "sequential"

    def run(self, job: Job) -> None:
        for node in job.pipeline.nodes:
            run_node(job, node)


class ThreadRunner(Runner):
    """Independent nodes in parallel on a thread pool; each node's own events stay in order.

    After a failure no new node starts; nodes already running finish, then the first failure
    is raised. Ctrl-C cancels everything not yet started.
    """

    name = "thread"

    def run(self, job: Job) -> None:
        pipeline = job.pipeline
        selected = {n.name for n in pipeline.nodes}
        waiting = {
            n.name: {u for u in pipeline.upstream[n.name] if u in selected} for n in pipeline.nodes
        }
        ready = [n for n in pipeline.nodes if not waiting[n.name]]
        running: dict[Future[None], Node] = {}
        failure: NodeFailed | None = None
        pool = ThreadPoolExecutor(
            max_workers=self.workers or min(8, len(selected) or 1),
            thread_name_prefix="hookrunner-node",
        )
        try:
            while ready or running:
                while ready and failure is None:
                    node = ready.pop(0)
                    running[pool.submit(run_node, job, node)] = node
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    node = running.pop(fut)
                    exc = fut.exception()
                    if exc is not None:
                        if failure is None:
                            failure = exc if isinstance(exc, NodeFailed) else NodeFailed(node, exc)
                        continue
                    for child in pipeline.downstream[node.name]:
                        if child in waiting:
                            waiting[child].discard(node.name)
                            if not waiting[child]:
                                ready.append(pipeline[child])
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        if failure is not None:
            raise failure


def job_plans(registry: Registry) -> dict[str, Plan]:
    """The pipeline events' plans from one registry snapshot."""
    return {name: registry.plans[name] for name in NODE_EVENTS}
