"""``--runner dask``: nodes run on a Dask cluster, each with its own hooks where it runs.

The driver (the ``hookrunner run`` process) schedules like the thread runner: a node is
submitted once its upstream nodes finished, at most as many at a time as the cluster has
worker threads, so that after a failure nothing new starts and the nodes still running
finish. Scheduling stays in the driver, the data does not: a memory dataset is a Dask future
that lives on the worker that made it and goes straight to the worker that needs it; file and
``s3://`` datasets are loaded and saved by the worker itself. The driver receives per node only
a ``NodeReport`` (hook calls, failures, the arguments its ``where: driver`` hooks need), and
at the end the free outputs kept in memory (the run result).

Node and dataset hooks run on the worker from a registry rebuilt there (``remote``); pipeline
and session events (``before_pipeline_run``, checkpoints, ``on_pipeline_error``…) fire in the
driver. ``dask.distributed`` is imported only when this runner runs (``hookrunner[dask]``).
Everything sent to the cluster is sealed (``sealed``): a value from ``${env:...}`` travels as
that text and each worker reads it from its own environment.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import time
from contextlib import nullcontext
from time import perf_counter
from typing import Any, ClassVar

from ..kernel.errors import raised
from ..kernel.runtime.command import kill_running
from ..kernel.secrets import scrub
from ..services.telemetry import remote as telemetry_remote
from .datasets import MemoryDataset
from .graph import Node
from .remote import (
    NODE_EVENTS,
    NodeFailedRemotely,
    NodeReport,
    NotStarted,
    RunPayload,
    RunSource,
    add_paths,
    pick,
    report_of,
    run_remote,
    stop,
)
from .runners import Job, NodeFailed, Runner, checkpoint, node_done
from .sealed import seal, unseal

EXTRA_HINT = "install it with: pip install 'hookrunner[dask]'"
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$")
_run_ids = itertools.count()


def missing() -> str | None:
    """Why the Dask runner cannot run here (``dask.distributed`` not installed), or None."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        return f"--runner dask needs dask.distributed ({exc}); {EXTRA_HINT}"
    return None


def check_address(address: str | None) -> str | None:
    """A problem with ``--address``, or None."""
    if address is not None and not _ADDRESS.match(address):
        return (
            f"--address {address!r}: expected a scheduler address such as tcp://HOST:8786 "
            "(the address `dask scheduler` prints)"
        )
    return None


class DaskRunner(Runner):
    """Nodes on a Dask cluster: ``address`` (an existing scheduler) or a ``LocalCluster`` of
    ``workers`` processes (one thread each) started and shut down by the run."""

    name: ClassVar[str] = "dask"
    # Nodes in flight per worker thread: one running and one queued behind it.
    in_flight: ClassVar[int] = 2

    def __init__(self, workers: int | None = None, address: str | None = None, **options: Any):
        super().__init__(workers=workers, **options)
        self.address = address

    @classmethod
    def unavailable(cls) -> str | None:
        return missing()

    # ------------------------------------------------------------------ cluster
    def _connect(self) -> tuple[Any, Any]:
        problem = missing()
        if problem:
            raise RuntimeError(problem)
        from distributed import Client, LocalCluster

        if self.address is not None:
            try:
                return Client(self.address, timeout="10s"), None
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"cannot reach the Dask scheduler at {self.address}: {exc}"
                ) from None
        n = self.workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.WARNING,
        )
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise

    # ------------------------------------------------------------------ the run
    def run(self, job: Job) -> None:
        payload, driver_plans = self._prepare(job)
        started = perf_counter()
        client, cluster = self._connect()
        if cluster is not None:  # a cluster of our own: its start is reported on its own
            job.startup_s = perf_counter() - started
        try:
            # The project's folders on every worker's import path (same machine or shared
            # filesystem; on a real cluster install the project there instead).
            client.run(add_paths, payload.paths)
            self._schedule(job, client, payload, driver_plans, seal(payload))
        except BaseException:
            if cluster is not None:  # its workers end with the run: so do their commands
                _kill_commands(client)
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()

    def _prepare(self, job: Job) -> tuple[RunPayload, dict[str, Any]]:
        from ..kernel.runtime.plan import Plan

        session = job.session
        runner = getattr(session, "runner", None)
        if runner is None:
            raise RuntimeError(
                "the dask runner rebuilds the hooks on its workers from the run's files: "
                "start it with `hookrunner run` or `run_pipeline`"
            )
        registry = runner.registry
        source = RunSource.of(registry)
        driver_plans: dict[str, Any] = {}
        for name in NODE_EVENTS:
            plan = job.plans[name]
            mine = tuple(h for h in plan.hooks if h.where == "driver")
            if mine:
                driver_plans[name] = Plan(plan.spec, mine, plan.generation, plan.state, plan.exact)
        catalog = job.catalog
        datasets = {
            name: ds
            for name in catalog.keys()
            if not isinstance(ds := catalog.dataset(name), MemoryDataset)
            and not name.startswith("params:")
            and name != "parameters"
        }
        dirs = {os.path.dirname(p) for p, _ in source.texts}
        dirs |= {root for node in job.pipeline.nodes if (root := _import_root(node.func))}
        payload = RunPayload(
            source=source,
            run_id=job.run_id,
            params=dict(catalog.params),
            datasets=datasets,
            driver_events=frozenset(driver_plans),
            paths=tuple(sorted(dirs)),
            tag=f"{os.getpid()}-{next(_run_ids)}-{job.run_id}",
            trace=telemetry_remote.request(job.trace) if job.trace is not None else None,
        )
        return payload, driver_plans

    def _schedule(
        self, job: Job, client: Any, payload: RunPayload, driver: dict, sealed: Any
    ) -> None:
        """``sealed`` is ``payload`` as the tasks carry it (``seal``)."""
        from distributed import as_completed

        pipeline = job.pipeline
        catalog = job.catalog
        selected = {n.name for n in pipeline.nodes}
        waiting = {
            n.name: {u for u in pipeline.upstream[n.name] if u in selected} for n in pipeline.nodes
        }
        ready = [n for n in pipeline.nodes if not waiting[n.name]]
        consumers: dict[str, int] = {}
        for n in pipeline.nodes:
            for name in n.inputs:
                consumers[name] = consumers.get(name, 0) + 1
        free = pipeline.outputs()
        in_memory = {
            name
            for n in pipeline.nodes
            for name in (*n.inputs, *n.outputs)
            if isinstance(catalog.dataset(name), MemoryDataset)
        }
        produced = {o for n in pipeline.nodes for o in n.outputs}
        # In-memory inputs this run does not produce but the driver holds (a hook put them
        # in the catalog): sent once to the cluster.
        futures: dict[str, Any] = {}
        preset = {
            name: catalog.load(name)
            for name in in_memory
            if name not in produced and consumers.get(name) and catalog.exists(name)
        }
        if preset:
            futures.update(client.scatter({k: seal(v) for k, v in preset.items()}))
        # Up to two nodes per worker thread in flight: one running, one queued behind it so
        # the thread never waits for the driver. After a failure the queued ones are stopped.
        capacity = self.in_flight * max(1, sum(client.nthreads().values()))
        tag = payload.tag
        running: dict[Any, Node] = {}
        # Reports are fetched as they finish, in the background (not one round trip each).
        done = as_completed(with_results=True, raise_errors=False)
        failure: NodeFailed | None = None
        try:
            while ready or running:
                while ready and failure is None and len(running) < capacity:
                    node = ready.pop(0)
                    memory = {i: futures[i] for i in node.inputs if i in futures}
                    key = f"hookrunner-{scrub(node.name)}-{tag}"
                    task = client.submit(
                        run_remote, sealed, seal(node), memory, key=key, pure=False, retries=0
                    )
                    for out in node.outputs:
                        if out in in_memory:
                            futures[out] = client.submit(pick, task, out, key=f"{key}-{out}")
                    report = client.submit(report_of, task, key=f"{key}-report")
                    running[report] = node
                    done.add(report)
                    if job.progress is not None:
                        job.progress("start", node, 0.0)
                if not running:
                    break
                fut, outcome = next(done)
                node = running.pop(fut)
                if _not_started(outcome):
                    continue  # queued when the run stopped: never started, nothing to record
                try:
                    self._finished(job, node, fut, outcome, driver)
                except NodeFailed as exc:
                    if failure is None:
                        failure = exc
                        _stop(client, tag)  # what is queued on the workers must not start
                    continue
                finally:
                    for name in node.inputs:
                        consumers[name] -= 1
                        if not consumers[name] and name not in free:
                            futures.pop(name, None)  # the workers may drop it now
                for child in pipeline.downstream[node.name]:
                    if child in waiting:
                        waiting[child].discard(node.name)
                        if not waiting[child]:
                            ready.append(pipeline[child])
            if failure is not None:
                raise failure
            keep = {name: futures[name] for name in free if name in futures}
            for name, data in client.gather(keep).items():
                catalog.dataset(name).save(data)  # hooks fired where it was saved
        except BaseException:
            _stop(client, tag)
            client.cancel(list(running) + list(futures.values()), force=True)
            raise

    def _finished(self, job: Job, node: Node, fut: Any, outcome: Any, driver: dict) -> None:
        """Record a node's report in the driver; fire its driver-side hooks and checkpoint.

        ``outcome`` is the report, or the exception the task raised."""
        session = job.session
        outcome = unseal(outcome, missing="mask")  # a variable the driver lacks stays masked
        if fut.status == "finished" and isinstance(outcome, NodeReport):
            report: NodeReport | None = outcome
            error: BaseException | None = None
        else:
            if isinstance(outcome, tuple) and len(outcome) == 3:  # (type, error, traceback)
                outcome = outcome[1]
            exc = outcome if isinstance(outcome, BaseException) else RuntimeError(str(outcome))
            if isinstance(exc, NodeFailedRemotely) and isinstance(exc.report, NodeReport):
                report, error = exc.report, exc.error
            else:  # the worker died, the task could not be sent or was cancelled
                report, error = None, exc
        now = time.time()
        started, ended = (report.started, report.ended) if report is not None else (now, now)
        worker = report.worker if report is not None else None
        if report is not None:
            if session is not None:
                session.record_remote(report.calls, report.worker)
                for info, err in report.post_errors:
                    session.emit("post_error", error_info=info, error=err)
        seconds = ended - started
        # A traced run: the node's spans from the worker, with the driver's hooks inside.
        scope: Any = nullcontext()
        if job.trace is not None:
            scope = telemetry_remote.adopt(
                job.trace,
                report.spans if report is not None else None,
                {
                    "node": node.name,
                    "worker": worker,
                    "started": started,
                    "ended": ended,
                    "error": error,
                },
            )
        try:
            with scope:
                self._driver_side(job, node, report, error, driver, seconds)
        except NodeFailed as exc:
            if session is not None:
                failed = raised(exc.error)
                session.record_node(node.name, started, ended, worker, failed)
            raise
        if session is not None:
            session.record_node(node.name, started, ended, worker)

    def _driver_side(
        self,
        job: Job,
        node: Node,
        report: NodeReport | None,
        error: BaseException | None,
        driver: dict,
        seconds: float,
    ) -> None:
        """The node's hooks that run in the driver, then its checkpoint."""
        try:
            if report is not None:
                for event, kw in report.trace:
                    plan = driver.get(event)
                    if plan is not None:
                        # The worker sent the arguments but the node (and the catalog,
                        # for the events that take one): the driver's own objects.
                        local: dict[str, Any] = {"node": node}
                        if "catalog" in plan.defaults:
                            local["catalog"] = job.catalog
                        plan.emit({**kw, **local})
            elif job.plans["on_node_error"].hooks:
                # The node never reported: its worker-side hooks could not run, so every
                # on_node_error hook hears of it here.
                job.plans["on_node_error"].emit(
                    {
                        "error": error,
                        "node": node,
                        "catalog": job.catalog,
                        "inputs": {},
                        "is_async": False,
                        "run_id": job.run_id,
                    }
                )
            if error is not None:
                raise error
            checkpoint(job, node)
        except Exception as exc:
            if job.progress is not None:
                job.progress("failed", node, seconds)
            if report is not None and exc is error:  # the worker knew who and where
                raise NodeFailed(node, exc, report.culprit, report.tracebacks) from exc
            raise NodeFailed(node, exc) from exc
        node_done(job, node, seconds)


def _stop(client: Any, tag: str) -> None:
    """Tell every worker to start no more nodes of this run (a lost worker is no reason to
    hide the failure being handled)."""
    try:
        client.run(stop, tag)
    except Exception as exc:  # noqa: BLE001
        logging.getLogger("hookrunner").warning("could not stop queued nodes: %s", exc)


def _kill_commands(client: Any) -> None:
    """Kill the command hooks still running on the workers (a cancelled node's thread goes
    on; a command there would outlive the worker)."""
    try:
        client.run(kill_running)
    except Exception as exc:  # noqa: BLE001
        logging.getLogger("hookrunner").warning("could not stop running commands: %s", exc)


def _not_started(outcome: Any) -> bool:
    if isinstance(outcome, tuple) and len(outcome) == 3:
        outcome = outcome[1]
    return isinstance(outcome, NotStarted)


def _import_root(func: Any) -> str | None:
    """The folder ``func``'s module is imported from (``/x`` for ``/x/pkg/mod.py``)."""
    import sys

    name = getattr(func, "__module__", None) or ""
    file = getattr(sys.modules.get(name), "__file__", None)
    if not name or not isinstance(file, str):
        return None
    path = os.path.dirname(os.path.abspath(file))
    depth = name.count(".") + (os.path.basename(file) == "__init__.py")
    for _ in range(depth):
        path = os.path.dirname(path)
    return path
