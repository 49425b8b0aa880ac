"""``hookrunner.HookRunner``: the host's runner with sessions and pipeline runs.

The host layer's ``HookRunner`` loads manifests, emits, hot-reloads and closes; sessions
(services) and pipeline runs (pipeline) live in the layers above it, so the class users
import adds them here, on top of all three.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .host import runner as host
from .pipeline.context import RunResult
from .pipeline.lifecycle import run_pipeline
from .services import telemetry  # noqa: F401 - traces a runner whose settings ask for it
from .services.sessions.session import Session
from .services.sessions.store import open_store

PathLike = str | os.PathLike[str]


class HookRunner(host.HookRunner):
    """Load manifests, emit events, hot-reload; open sessions and run pipelines."""

    def session(
        self,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        store: PathLike | None = None,
    ) -> Session:
        """A session recorded in SQLite (``store``, default ``.hookrunner/sessions.db`` beside
        the first manifest); as a context manager it fires session_start and session_end."""
        base = Path(self._paths[0]).resolve().parent if self._paths else None
        return Session(self, open_store(store, base), session_id, metadata, owns_store=True)

    def run_pipeline(
        self,
        pipeline: PathLike,
        runner: str = "sequential",
        params: dict[str, Any] | None = None,
        **options: Any,
    ) -> RunResult:
        """Run a pipeline file with this runner's manifests plus the pipeline's own hooks,
        and the hooks registered on this runner from code laid over them (``register``)."""
        return run_pipeline(
            pipeline, runner, params, base_hooks=self.paths, overlay=self.overlay(), **options
        )
