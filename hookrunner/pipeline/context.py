"""The objects of one pipeline run: what was asked (``RunOptions``), the ``command`` the
invocation hooks receive (``Invocation``), the run's context (``RunContext``, Kedro's
``KedroContext`` role) and its outcome (``RunResult``)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..host.project_metadata import package_name
from ..kernel.errors import HookrunnerError, Problem
from . import kedro_api
from .catalog import Catalog, flat_parameters
from .config_loader import make_config_loader, missing_config_types
from .graph import Pipeline

if TYPE_CHECKING:
    from ..host.runner import HookRunner
    from ..services.sessions.session import Session
    from ..services.sessions.store import Store
    from .failure import Failure
    from .runners import Job, Progress, Runner
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
    # Kedro's run environment (``conf/<env>``); ``--env`` on the command line wins.
    env: str | None = None

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
    the ``init_hook``/``run_hook`` slots see.

    It speaks ``KedroContext``'s API: ``project_path``, ``env``, ``params``, ``catalog``,
    ``config_loader`` (Kedro's ``OmegaConfigLoader`` over ``conf_source`` when Kedro is
    installed, made on first use), ``_package_name``, ``_hook_manager``, ``_runtime_params``,
    ``_get_config_credentials()``, ``_get_parameters()`` and ``_get_catalog()``; plugins may
    set attributes on it (kedro-mlflow stores ``context.mlflow``)."""

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
    hooks: HookRunner | None = None
    conf_source: str | None = None
    _package: str | None = field(default=None, repr=False)
    _runtime_params: dict[str, Any] = field(default_factory=dict)
    _config_loader: Any = field(default=None, repr=False)
    # Makes the config loader on first use (Kedro's import costs a fifth of a second).
    _config_factory: Callable[[], Any] | None = field(default=None, repr=False)

    @property
    def config_loader(self) -> Any:
        if self._config_loader is None:
            if self._config_factory is not None:
                self._config_loader = self._config_factory()
            else:
                self._config_loader = make_config_loader(
                    self._conf_folder(), self.env, self._runtime_params
                )
        return self._config_loader

    @config_loader.setter
    def config_loader(self, loader: Any) -> None:
        self._config_loader = loader

    @property
    def _package_name(self) -> str:
        """``[tool.kedro] package_name`` of the project folder, else the folder's name."""
        if self._package is None:
            self._package = package_name(self.project_path)
        return self._package

    @_package_name.setter
    def _package_name(self, name: str) -> None:
        self._package = name

    def _conf_folder(self) -> str:
        """``conf_source`` when set, else the pipeline file's (``conf_source:``, ``conf/``)."""
        if self.conf_source is None:
            self.conf_source = self.spec.conf_source
        return self.conf_source

    @property
    def _hook_manager(self) -> kedro_api.HookManager | None:
        return None if self.hooks is None else kedro_api.HookManager(self.hooks)

    def _get_config_credentials(self) -> dict[str, Any]:
        """``credentials*`` from the conf folder ({} when there is none, as Kedro)."""
        source = self._conf_folder()
        if self._config_loader is None and "://" not in source and not os.path.isdir(source):
            return {}  # what Kedro's loader would say, without importing it
        try:
            creds = self.config_loader["credentials"]
        except missing_config_types():
            return {}
        return dict(creds)

    def _get_parameters(self) -> dict[str, Any]:
        """The parameter entries Kedro adds to the catalog (``parameters``, ``params:a.b``)."""
        return flat_parameters(self.params)

    def _get_catalog(
        self,
        catalog_class: type | None = None,
        save_version: str | None = None,
        load_versions: dict[str, str] | None = None,
    ) -> Catalog:
        """A fresh catalog for this run's pipeline file; fires ``after_catalog_created`` as
        Kedro's does."""
        catalog = self.spec.make_catalog(self.params)
        if self.hooks is not None:
            self.hooks.emit(
                "after_catalog_created",
                catalog=catalog,
                conf_catalog=kedro_api.conf_catalog(self.spec.catalog_config, self.project_path),
                conf_creds=self._get_config_credentials(),
                parameters=self._get_parameters(),
                save_version=self.run_id if save_version is None else save_version,
                load_versions=load_versions if load_versions is not None else {},
            )
        return catalog


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
    # The run's span (``services.telemetry``'s ``RunSpan``) when the run is traced.
    trace: Any = None
    # The runner the run_hook chose (``run_params["runner"]`` renders it).
    runner: Runner | None = None
    # The pipeline as the config hook loaded it (failures point into its file).
    spec: PipelineSpec | None = None

    def run_params(self, context: RunContext, runner: Runner | None = None) -> dict[str, Any]:
        """Kedro's ``run_params`` (its 16 keys, types and formats, ``kedro_api.run_params``)
        plus hookrunner's own keys."""
        o = self.options
        if runner is None:
            runner = self.runner
        if runner is None:
            from .runner_choice import make_runner

            runner = make_runner(o.runner, o.workers, address=o.address)
        return kedro_api.run_params(
            run_id=context.run_id,
            project_path=context.project_path,
            env=context.env,
            runner=runner,
            options=o,
            pipeline_path=context.pipeline_path,
        )


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
    # Of duration_s: starting the runner's workers (the local cluster of --runner dask).
    startup_s: float = 0.0
    # What made it fail (its culprit, place and tracebacks), for the CLI and the session.
    failure: Failure | None = None
    # Hooks whose `when:` can never match in this pipeline (they are not errors).
    warnings: list[Problem] = field(default_factory=list)
    # What the user should know about the run (e.g. why --resume skipped nothing).
    notes: list[str] = field(default_factory=list)
    # The first failed hook calls (event, hook, error) of the session, for the summary.
    failed_calls: list[dict[str, Any]] = field(default_factory=list)
    # Sessions of this host found dead when this run began (now marked "crashed").
    crashed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == OK

    @property
    def hook_failures(self) -> int:
        return sum(int(s["failures"] or 0) for s in self.hook_stats)
