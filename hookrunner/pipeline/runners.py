"""Runners: in which order and where nodes execute. What happens to one node is ``run_node``.

A runner only schedules; ``run_node(job, node)`` is the whole per-node protocol (load inputs
with their dataset hooks → ``before_node_run`` → call → ``after_node_run`` → save outputs with
their hooks → checkpoint). A distributed runner is one more ``Runner`` subclass that calls
``run_node`` where its workers are; register it in ``RUNNERS``.
"""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as encode_string
from time import monotonic, perf_counter, time
from typing import TYPE_CHECKING, Any, ClassVar

from ..kernel.blame import Culprit, culprit
from ..kernel.errors import HookrunnerError, raised
from ..kernel.events import CATALOGUE
from ..kernel.runtime.command import kill_running
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
        super().__init__(f"node {node.name!r} failed: {raised(error)}")
        self.node = node
        self.error = error
        self.hook = hook if hook is not None else culprit(error)
        self._tracebacks = tracebacks

    def tracebacks(self) -> tuple[str, str]:
        if self._tracebacks is not None:
            return self._tracebacks
        from ..kernel.frames import full_traceback, short_traceback  # only a failure needs it

        return short_traceback(self.error), full_traceback(self.error)


class NodeStopped(HookrunnerError):
    """The run is stopping (Ctrl-C): this node goes no further (raised in its thread)."""


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
    # Set when the run stops (Ctrl-C under a threaded runner): a node checks it between its
    # steps, so nothing of it runs once the run's session is closed.
    stopping: bool = False
    # The nodes whose own function is running now (the rest are in a hook or dataset step).
    in_function: set[str] = field(default_factory=set)


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
    if job.stopping:  # taken off the queue as the run stopped: it never starts
        raise NodeStopped
    started = time()
    t0 = perf_counter()
    if progress is not None:
        progress("start", node, 0.0)
    try:
        before_load = plans["before_dataset_loaded"]
        after_load = plans["after_dataset_loaded"]
        inputs: dict[str, Any] = {}
        for name in node.inputs:
            if job.stopping:
                raise NodeStopped
            if before_load.hooks:
                before_load.emit({"dataset_name": name, "node": node})
            data = load(name)
            inputs[name] = data
            if job.stopping:
                raise NodeStopped
            if after_load.hooks:
                after_load.emit({"dataset_name": name, "data": data, "node": node})
        if job.stopping:
            raise NodeStopped
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
        if job.stopping:
            raise NodeStopped
        job.in_function.add(node.name)
        try:
            outputs = node.run(inputs)
        except BaseException as exc:  # sys.exit() in a node fails the node, Ctrl-C stops
            job.in_function.discard(node.name)
            if isinstance(exc, KeyboardInterrupt):
                raise
            if job.stopping:
                raise NodeStopped from None
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
            if not isinstance(exc, Exception):
                raise NodeFailed(node, exc) from exc
            raise
        job.in_function.discard(node.name)
        if job.stopping:
            raise NodeStopped
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
            if job.stopping:
                raise NodeStopped
            if before_save.hooks:
                before_save.emit({"dataset_name": name, "data": data, "node": node})
            save(name, data)
            if job.stopping:
                raise NodeStopped
            if after_save.hooks:
                after_save.emit({"dataset_name": name, "data": data, "node": node})
        if job.stopping:
            raise NodeStopped
        checkpoint(job, node)
    except NodeStopped:
        raise
    except Exception as exc:
        if job.session is not None:
            cause = exc.error if isinstance(exc, NodeFailed) and exc.node is node else exc
            job.session.record_node(node.name, started, time(), job.session.lane(), raised(cause))
        if progress is not None:
            progress("failed", node, perf_counter() - t0)
        if isinstance(exc, NodeFailed) and exc.node is node:
            raise
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
    """Independent nodes in parallel on worker threads; each node's own events stay in order.

    After a failure no new node starts; nodes already running finish, then the first failure
    is raised. On Ctrl-C nothing new starts, not even the next step of a running node (nor a
    node queued for a busy worker); hooks and dataset steps in progress get up to
    ``STOP_GRACE`` seconds to finish (so that the session records them), and a node function
    still running is abandoned at once: its thread is a
    daemon, and when the function returns nothing after it runs (no ``after_node_run``, no
    save). The interrupt then goes on up, and the process does not wait for those threads.
    """

    name = "thread"
    STOP_GRACE = 2.0

    def run(self, job: Job) -> None:
        pipeline = job.pipeline
        selected = {n.name for n in pipeline.nodes}
        waiting = {
            n.name: {u for u in pipeline.upstream[n.name] if u in selected} for n in pipeline.nodes
        }
        ready = [n for n in pipeline.nodes if not waiting[n.name]]
        running: set[str] = set()
        failure: NodeFailed | None = None
        size = self.workers or min(8, len(selected) or 1)
        todo: queue.SimpleQueue[Node | None] = queue.SimpleQueue()
        finished: queue.SimpleQueue[tuple[Node, BaseException | None]] = queue.SimpleQueue()
        threads: list[threading.Thread] = []

        def work() -> None:
            while True:
                node = todo.get()
                if node is None:
                    return
                try:
                    run_node(job, node)
                except BaseException as exc:  # noqa: BLE001 - handed to the scheduler
                    finished.put((node, exc))
                else:
                    finished.put((node, None))

        try:
            while ready or running:
                while ready and failure is None:
                    node = ready.pop(0)
                    running.add(node.name)
                    if len(threads) < min(size, len(running)):
                        threads.append(
                            threading.Thread(
                                target=work, name=f"hookrunner-node-{len(threads)}", daemon=True
                            )
                        )
                        threads[-1].start()
                    todo.put(node)
                if not running:
                    break
                node, exc = finished.get()
                running.discard(node.name)
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
            job.stopping = True
            # Command hooks run in process groups of their own, which the terminal's Ctrl-C
            # does not reach; on the node threads nothing else stops them.
            kill_running()
            self._let_steps_finish(job, running, todo, finished)
            raise
        finally:
            for _ in threads:
                todo.put(None)
        if failure is not None:
            raise failure

    def _let_steps_finish(
        self,
        job: Job,
        running: set[str],
        todo: queue.SimpleQueue[Node | None],
        finished: queue.SimpleQueue[tuple[Node, BaseException | None]],
    ) -> None:
        """Wait (at most ``STOP_GRACE``) for the running nodes that are inside a hook or a
        dataset step; those inside their own function are not waited for, and those still
        queued (every worker busy) are taken off the queue: they never start."""
        while True:
            try:
                queued = todo.get_nowait()
            except queue.Empty:
                break
            if queued is not None:
                running.discard(queued.name)
        deadline = monotonic() + self.STOP_GRACE
        while running - job.in_function:
            left = deadline - monotonic()
            if left <= 0:
                return
            try:
                node, _ = finished.get(timeout=min(left, 0.01))
            except queue.Empty:
                continue
            running.discard(node.name)


def job_plans(registry: Registry) -> dict[str, Plan]:
    """The pipeline events' plans from one registry snapshot."""
    return {name: registry.plans[name] for name in NODE_EVENTS}
