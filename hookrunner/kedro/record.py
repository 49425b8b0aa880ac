"""A ``kedro run`` as a hookrunner session: its hook calls, nodes and outcome in the store.

Kedro names its run only when it builds the run's catalog (``after_catalog_created``'s
``save_version`` is the session id, ``before_pipeline_run``'s ``run_id``): the session starts
there, with that id, and ``session_start`` fires before the manifest's hooks of that event.
Hook calls made before (``after_context_created``'s) are kept and stored with it. A node is
recorded from ``before_node_run`` to ``after_node_run`` (or ``on_node_error``), on the
thread that ran it, and checkpointed after ``after_node_run``'s hooks (``pre_checkpoint`` may
veto, then ``post_checkpoint``). ``after_pipeline_run`` ends the session ``ok``;
``on_pipeline_error`` fires ``post_error`` and ends it ``failed``; anything raised out of a
pipeline-level event ends it ``failed`` (``interrupted`` for Ctrl-C), and a run the process
left without either ends ``interrupted`` when the process exits. A context that never runs
(``kedro viz``, a notebook) writes nothing.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..host.runner import HookRunner
from ..kernel.runtime.results import error_info, error_text
from ..kernel.secrets import logger
from ..services.sessions.session import Session
from ..services.sessions.store import DEFAULT_STORE, Store, new_session_id
from . import handoff
from .order import WORKER_EVENTS

_PIPELINE_LEVEL = frozenset(
    {
        "after_context_created",
        "after_catalog_created",
        "before_pipeline_run",
        "after_pipeline_run",
        "on_pipeline_error",
    }
)
_log = logger("hookrunner.kedro")


def store_path(project: Path, settings: dict[str, Any]) -> Path:
    """``settings.kedro.store`` relative to the project's folder, else the default."""
    return project / str(settings.get("store") or DEFAULT_STORE)


def runner_name(run_params: dict[str, Any]) -> str:
    """``<kedro.runner.parallel_runner.ParallelRunner object at 0x...>`` → ParallelRunner."""
    text = str(run_params.get("runner") or "")
    return text.strip("<>").split(" ", 1)[0].rsplit(".", 1)[-1] or text


class RunRecord:
    """The session of the run the bridge serves (a new one for each run of a long-lived
    session: Kedro's service sessions run many)."""

    def __init__(
        self,
        runner: HookRunner,
        store: Path,
        metadata: dict[str, Any],
        handoff_fields: dict[str, Any] | None,
    ):
        self.runner = runner
        self.store = store
        self.metadata = metadata
        # The worker handoff (conf source, env, switches), when the manifest runs its node
        # and dataset hooks in ParallelRunner's workers; None: it does not.
        self.handoff_fields = handoff_fields
        self._lock = threading.Lock()
        self._handed_off = False
        self.session = self._new_session()
        self._reset()
        atexit.register(self.close)

    def _new_session(self) -> Session:
        session = Session(
            self.runner,
            Store(self.store),
            kind="kedro",
            source=str(self.metadata.get("project")),
            metadata=dict(self.metadata),
            owns_store=True,
        )
        session.start_recording()  # calls before the run's id is known are kept for it
        return session

    def _reset(self) -> None:
        self._unseen = False
        self.started: dict[str, float] = {}
        self.nodes_run: list[str] = []
        self.nodes_failed: list[str] = []
        self.nodes_total = 0

    # ------------------------------------------------------------------ the run
    def _start(self, run_id: str | None) -> None:
        with self._lock:
            session = self.session
            if session.status not in ("new", "running"):  # the next run of the same context
                session = self.session = self._new_session()
                self._reset()
            if session.status == "new":
                session.id = run_id or new_session_id()
                session.start()

    def catalog_created(self, kw: dict[str, Any]) -> None:
        if kw.get("save_version"):
            self._start(str(kw["save_version"]))

    def run_starting(self, kw: dict[str, Any]) -> None:
        run_params = kw.get("run_params") or {}
        self._start(run_params.get("run_id"))
        pipeline = kw.get("pipeline")
        self.nodes_total = len(getattr(pipeline, "nodes", ()) or ())
        runner = runner_name(run_params)
        self.session.update_metadata(
            {
                "runner": runner,
                "pipelines": list(run_params.get("pipeline_names") or ["__default__"]),
                "kedro_version": run_params.get("kedro_version"),
            }
        )
        if _in_processes(kw.get("catalog")):
            self._hand_off(runner)

    def _hand_off(self, runner: str) -> None:
        """ParallelRunner: tell the workers how to rebuild the manifest, or say what will not
        run there."""
        if self.handoff_fields is not None:
            os.environ[handoff.VARIABLE] = handoff.encode(
                **self.handoff_fields, session=self.session.id, store=str(self.store)
            )
            self._handed_off = True
            return
        self._unseen = True  # the driver never sees a node: how many ran is not known
        plans = self.runner.registry.plans
        names = sorted({h.name for e in WORKER_EVENTS for h in plans[e].hooks})
        if names:
            _log.warning(
                "manifest hooks not run by %s: %s (its nodes run in worker processes; "
                "settings.kedro.workers: true runs node and dataset hooks there)",
                runner,
                ", ".join(names),
            )

    def run_started(self, kw: dict[str, Any]) -> None:
        """After before_pipeline_run's hooks: a run handed to workers stores what the driver
        did so far now, so the store lists it before the workers' rows."""
        if self._handed_off:
            self.session.flush()

    def node_started(self, kw: dict[str, Any]) -> None:
        self.started[kw["node"].name] = time.time()

    def node_finished(self, kw: dict[str, Any]) -> None:
        node = kw["node"]
        session = self.session
        now = time.time()
        session.record_node(node.name, self.started.pop(node.name, now), now, session.lane())
        self.nodes_run.append(node.name)
        session.checkpoint({"node": node.name, "outputs": list(node.outputs)}, node=node.name)

    def node_failed(self, kw: dict[str, Any]) -> None:
        node = kw["node"]
        session = self.session
        now = time.time()
        started = self.started.pop(node.name, now)
        session.record_node(node.name, started, now, session.lane(), error_text(kw["error"]))
        self.nodes_failed.append(node.name)

    def run_finished(self, kw: dict[str, Any]) -> None:
        self.end("ok")

    def run_failed(self, kw: dict[str, Any]) -> None:
        error = kw["error"]
        info = error_info(error)
        if self.nodes_failed:
            info["node"] = self.nodes_failed[-1]
        if self.session.status == "running":
            self.session.emit("post_error", error_info=info, error=error)
        self.end("failed", error_text(error))

    def raised(self, event: str, exc: BaseException, kw: dict[str, Any]) -> None:
        """Something raised out of ``event`` (a hook with ``on_error: raise``, Kedro's own
        hooks, Ctrl-C): a pipeline-level event does not come back, so the run ends here; a
        node's event means the node failed (its own error, for ``on_node_error``)."""
        if event in _PIPELINE_LEVEL:
            interrupted = isinstance(exc, KeyboardInterrupt)
            self.end("interrupted" if interrupted else "failed", error_text(exc))
            return
        node = kw.get("node")
        name = getattr(node, "name", None)
        if name is not None and (name in self.started or event == "on_node_error"):
            self.node_failed({"node": node, "error": kw.get("error") or exc})

    def end(self, status: str, error: str | None = None) -> None:
        with self._lock:
            session = self.session
            if session.status != "running":
                return
            code = {"ok": 0, "interrupted": 130}.get(status, 1)
            nodes_run: int | None = len(self.nodes_run)
            failed = list(self.nodes_failed)
            if self._handed_off:  # the workers recorded the nodes
                os.environ.pop(handoff.VARIABLE, None)
                self._handed_off = False
                session.flush()
                nodes = session.store.nodes(session.id)
                nodes_run = sum(1 for n in nodes if n["ok"])
                failed = [n["node"] for n in nodes if not n["ok"]]
            elif self._unseen:
                nodes_run = None
            summary = {
                "exit_code": code,
                "nodes_total": self.nodes_total,
                "nodes_run": nodes_run,
                "nodes_failed": failed,
                "error": error,
            }
            outcome = {"status": status, "exit_code": code, "nodes_run": nodes_run}
            session.end(status, summary, metadata=outcome)

    def close(self) -> None:
        """At exit: a run still open did not reach after_pipeline_run or on_pipeline_error."""
        self.end("interrupted", "the run stopped before after_pipeline_run (Ctrl-C or exit)")


def _in_processes(catalog: Any) -> bool:
    """Whether the run's nodes run in other processes: Kedro gives ParallelRunner (and the
    runners made from it) a ``SharedMemoryDataCatalog``."""
    return any(c.__name__ == "SharedMemoryDataCatalog" for c in type(catalog).__mro__)
