"""The manifest in ParallelRunner's worker processes (``settings.kedro.workers: true``).

Kedro runs each node in a worker process with a hook manager made there for that node; the
entry point registered in it is the manifest's worker hooks object (``entry``), made here:
the manifest is built again from the driver's files (read anew in the worker; manifests in an
archive or at a URL are found again through the project's config loader), once per worker
process, with the driver's switches, and its hooks run around Kedro's
as in the driver (``around``). Hook calls and node rows go to the run's session in the same
store, with the worker's name (``pid N``), written as each event ends: a worker process is
ended by its pool without running exit handlers.

Hooks objects are the worker's own (made in that process): state kept in them is not the
driver's, nor another worker's.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from ..kernel.runtime.results import CallRow, EmitResult, error_text
from ..services.sessions.store import NodeRun, Store
from .around import Around, function, plugin
from .handoff import Handoff
from .locate import Source, sources
from .manifests import load

_lock = threading.Lock()
_workers: dict[str, Worker] = {}


def worker_hooks(run: Handoff) -> Any:
    """The hooks object Kedro registers in this worker's hook manager for each node (the
    manifest is built on the first)."""
    with _lock:
        worker = _workers.get(run.text)
        if worker is None:
            worker = _workers[run.text] = Worker(run)
    return worker.hooks


class Worker:
    """This process's manifest, its record of hook calls and nodes, its implementations."""

    def __init__(self, run: Handoff):
        from kedro.framework.hooks import _create_hook_manager

        self.runner, _ = load(_sources(run), switched=run.switches)
        if _known_secrets():
            from .bridge import guard_output

            guard_output()
        self.run = run
        self.name = f"pid {os.getpid()}"
        self.store = Store(run.store)
        self._rows: list[CallRow] = []
        self._nodes: list[NodeRun] = []
        self._started: dict[str, float] = {}
        self.runner.set_observer(self._observe)
        plans = self.runner.registry.plans
        hooks = {
            "before_node_run": (self._node_started, None),
            "after_node_run": (None, self._node_finished),
            "on_node_error": (None, self._node_failed),
        }
        self.arounds = {
            event: Around(plans[event], *hooks.get(event, (None, self._flush)), raised=self._raised)
            for event in run.events
        }
        specs = _create_hook_manager().hook
        self.hooks = plugin(
            {
                event: function(event, around.run, getattr(specs, event).spec.argnames)
                for event, around in self.arounds.items()
            },
            f"worker {self.name}",
        )

    # ------------------------------------------------------------------ recording
    def _observe(self, result: EmitResult) -> None:
        rows = result.rows(time.time())
        self._rows.extend(r._replace(worker=self.name) for r in rows)

    def _node_started(self, kw: dict[str, Any]) -> None:
        self._started[kw["node"].name] = time.time()

    def _node_finished(self, kw: dict[str, Any]) -> None:
        self._node_ended(kw["node"].name, None)

    def _node_failed(self, kw: dict[str, Any]) -> None:
        self._node_ended(kw["node"].name, error_text(kw["error"]))

    def _node_ended(self, name: str, error: str | None) -> None:
        now = time.time()
        self._nodes.append(NodeRun(name, self._started.pop(name, now), now, self.name, error))
        self._flush({})

    def _raised(self, event: str, exc: BaseException, kw: dict[str, Any]) -> None:
        """The node's event raised: the node failed there (with its own error, for
        ``on_node_error``)."""
        name = getattr(kw.get("node"), "name", None)
        if name is not None and (name in self._started or event == "on_node_error"):
            self._node_ended(name, error_text(kw.get("error") or exc))
        else:
            self._flush({})

    def _flush(self, kw: dict[str, Any]) -> None:
        rows, self._rows = self._rows, []
        nodes, self._nodes = self._nodes, []
        if rows or nodes:
            self.store.flush(self.run.session, rows, [], nodes=nodes)


def _sources(run: Handoff) -> list[Source]:
    """The driver's manifest files, read again here; or, when they were not local files, the
    manifests found again through the project's config loader."""
    if run.files is not None:
        return [Source(path, "") for path in run.files]
    from kedro.framework.project import settings

    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=run.conf_source, env=run.env, **settings.CONFIG_LOADER_ARGS
    )
    return sources(loader)


def _known_secrets() -> bool:
    from ..kernel.secrets import known

    return known()
