"""The objects of one pipeline run: what was asked (``RunOptions``), the ``command`` the
invocation hooks receive (``Invocation``), the run's context (``RunContext``, Kedro's
``KedroContext`` role) and its outcome (``RunResult``)."""

from __future__ import annotations

import argparse
import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..kernel.errors import HookrunnerError, Problem
from ..kernel.version import __version__
from .catalog import Catalog
from .graph import Pipeline

if TYPE_CHECKING:
    from ..host.runner import HookRunner
    from ..services.sessions.session import Session
    from ..services.sessions.store import Store
    from .runners import Job, Progress
    from .spec import PipelineSpec

OK, FAILED, INVALID, INTERRUPTED = 0, 1, 2, 130


class UsageError(HookrunnerError):
    """A command-line mistake found while preparing the run (exit 2, no traceback)."""


@dataclass
class RunOptions:
    """What ``hookrunner run`` was asked to do (also the Python API's arguments)."""

    pipeline: Path
    runner: str = "sequential"
    workers: int | None = None
    tags: list[str] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    from_nodes: list[str] = field(default_factory=list)
    to_nodes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    resume: str | None = None
    store: Path | None = None
    hooks: list[Path] = field(default_factory=list)
    extra_args: list[str] = field(default_factory=list)
    # --params-new: overrides may add parameters the pipeline file does not have.
    params_new: bool = False
    session_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # --address: the Dask scheduler of --runner dask (None: a local cluster for the run).
    address: str | None = None
    # The command line the CLI hooks report (the console's; None: ``run PIPELINE ...``).
    command_args: list[str] | None = None

    def as_cli_args(self) -> dict[str, Any]:
        d = asdict(self)
        del d["command_args"]
        for k in ("pipeline", "store"):
            d[k] = None if d[k] is None else str(d[k])
        d["hooks"] = [str(h) for h in self.hooks]
        return d


@dataclass
class RunContext:
    """The run's context (Kedro's ``KedroContext`` role): what ``after_context_created`` and
    the ``init_hook``/``run_hook`` slots see."""

    project_path: Path
    pipeline_path: Path
    params: dict[str, Any]
    catalog: Catalog
    pipeline: Pipeline
    to_run: Pipeline
    skipped: list[str]
    spec: PipelineSpec
    session: Session
    run_id: str
    config: dict[str, Any]
    env: str | None = None


@dataclass
class Invocation:
    """The ``command`` argument of the invocation hooks: one ``hookrunner run``."""

    name: str
    options: RunOptions
    hooks: HookRunner
    session: Session
    store: Store
    progress: Progress | None = None
    extra: argparse.Namespace | None = None
    resumed_nodes: set[str] = field(default_factory=set)
    job: Job | None = None
    # The pipeline file as already parsed and schema-checked (default_config reuses it).
    document: Any = None
    # Whether the run froze the loaded objects (``heap.freeze``); thawed when it ends.
    frozen: bool = False

    def run_params(self, context: RunContext) -> dict[str, Any]:
        """Kedro's ``run_params``: the run's settings plus ``run_id``/``session_id``."""
        o = self.options
        return {
            "session_id": context.session.id,
            "run_id": context.run_id,
            "project_path": str(context.project_path),
            "pipeline_path": str(context.pipeline_path),
            "runner": o.runner,
            "workers": o.workers,
            "tags": list(o.tags),
            "node_names": list(o.nodes),
            "from_nodes": list(o.from_nodes),
            "to_nodes": list(o.to_nodes),
            "extra_params": copy.deepcopy(o.params) if o.params else {},
            "resume": o.resume,
            "env": getattr(self.extra, "env", None),
            "hookrunner_version": __version__,
        }


@dataclass
class RunResult:
    """The outcome of one run, for the CLI summary and the Python API."""

    exit_code: int
    status: str
    session_id: str | None = None
    store: str | None = None
    nodes_total: int = 0
    nodes_run: list[str] = field(default_factory=list)
    nodes_failed: list[str] = field(default_factory=list)
    nodes_skipped: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)
    hook_stats: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0
    # Sessions of this host found dead when this run began (now marked "crashed").
    crashed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == OK

    @property
    def hook_failures(self) -> int:
        return sum(int(s["failures"] or 0) for s in self.hook_stats)
