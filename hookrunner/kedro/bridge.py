"""The manifest registered in a Kedro session's hook manager (the driver's side).

``attach`` runs in the entry point's ``after_context_created`` once ``locate`` found
manifests: it loads and checks them, and registers one hooks object under the plugin name
``hookrunner-manifest`` in ``context._hook_manager`` (Kedro's pluggy manager, the one every
runner and plugin calls through), with a wrapper for each Kedro event the manifest or the
run's record needs (``around``). A context made again on the same manager (a notebook's
reload, the next run of a service session) replaces it.

An invalid manifest must not break what only reads the project (``kedro viz``, ``kedro
jupyter``): then the registered object only refuses the run, at ``before_pipeline_run``
before any other hook and any node, with the located problems (``KedroManifestError``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..kernel import secrets
from ..kernel.errors import Problem
from ..services.sessions.store import Store, StoreError
from .around import Around, function, plugin
from .errors import KedroManifestError
from .locate import Source
from .manifests import load
from .order import KEDRO_EVENTS, WORKER_EVENTS
from .record import RunRecord, store_path

PLUGIN = "hookrunner-manifest"


def attach(context: Any, sources: list[Source]) -> Around | None:
    """Register the manifests found for ``context``; return what runs around the current
    ``after_context_created`` (None when they are invalid: the run will be refused)."""
    manager = context._hook_manager
    if manager.get_plugin(PLUGIN) is not None:
        manager.unregister(name=PLUGIN)
    try:
        runner, switched = load(sources)
        check_store(runner, Path(context.project_path))
    except KedroManifestError as exc:
        manager.register(_refusal(exc, manager), name=PLUGIN)
        return None
    if secrets.known():
        guard_output()
    bridge = Bridge(runner, switched, sources, context)
    manager.register(bridge.hooks(manager), name=PLUGIN)
    return bridge.arounds["after_context_created"]


def check_store(runner: Any, project: Path) -> None:
    """``KedroManifestError`` at ``settings.kedro.store`` when the run could not record into
    it (a folder, a file that is no store, a path under a file). A store already there is
    opened; a new one is only checked (a context that never runs writes nothing)."""
    settings = runner.registry.manifest.settings
    path = store_path(project, settings.kedro or {})
    try:
        if os.path.lexists(path):
            Store(path).connect().close()
        else:
            folder = path.parent
            while not os.path.lexists(folder) and folder != folder.parent:
                folder = folder.parent
            if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                raise StoreError(
                    f"cannot create session store {path}: {folder} is not a writable folder"
                )
    except StoreError as exc:
        hint = "a file path relative to the project's folder, e.g. .hookrunner/sessions.db"
        at = settings.kedro_at.get("store")
        if at is None:  # the default path
            raise KedroManifestError(
                [
                    Problem(
                        str(path), 0, 0, (), str(exc), "move it away, or set settings.kedro.store"
                    )
                ]
            ) from None
        doc, where = at
        raise KedroManifestError([doc.problem(where, str(exc), hint)]) from None


class Bridge:
    """The manifest's runner, the run's record and one ``Around`` per Kedro event."""

    def __init__(self, runner: Any, switched: dict[str, bool], sources: list[Source], context: Any):
        self.runner = runner
        settings = runner.registry.manifest.settings.kedro or {}
        project = Path(context.project_path)
        loader = context.config_loader
        handoff = None
        if settings.get("workers"):
            events = [e for e in WORKER_EVENTS if runner.registry.plans[e].hooks]
            local = all(s.text is None for s in sources)
            handoff = {
                "files": [s.file for s in sources] if local else None,
                "conf_source": str(loader.conf_source),
                "env": getattr(loader, "env", None),
                "switches": switched,
                # The node events record the node rows in the worker too.
                "events": sorted(
                    set(events) | {"before_node_run", "after_node_run", "on_node_error"}
                ),
            }
        self.record = record = RunRecord(
            runner,
            store_path(project, settings),
            {
                "project": str(project),
                "env": context.env or getattr(loader, "default_run_env", None),
                "manifests": [s.file for s in sources],
            },
            handoff,
        )
        hooks = {
            "after_catalog_created": (record.catalog_created, None),
            "before_pipeline_run": (record.run_starting, record.run_started),
            "after_pipeline_run": (None, record.run_finished),
            "on_pipeline_error": (None, record.run_failed),
            "before_node_run": (record.node_started, None),
            "after_node_run": (None, record.node_finished),
            "on_node_error": (None, record.node_failed),
        }
        plans = runner.registry.plans
        self.arounds = {
            event: Around(plans[event], *hooks.get(event, (None, None)), raised=record.raised)
            for event in KEDRO_EVENTS
        }

    def hooks(self, manager: Any) -> Any:
        """The hooks object for ``manager``: a wrapper per event that has manifest hooks or
        something to record (``after_context_created`` is the entry point's own)."""
        functions = {}
        for event, around in self.arounds.items():
            caller = getattr(manager.hook, event, None)
            if event == "after_context_created" or caller is None or caller.spec is None:
                continue
            if around.has_hooks or around.pre is not None or around.post is not None:
                functions[event] = function(around.event, around.run, caller.spec.argnames)
        return plugin(functions, ", ".join(self.record.metadata["manifests"]))


def _refusal(error: KedroManifestError, manager: Any) -> Any:
    """A hooks object that stops the run before anything else runs."""

    def refuse(kw: dict[str, Any]) -> Any:
        raise error
        yield  # a generator: pluggy's wrappers are  # noqa: B901

    spec = manager.hook.before_pipeline_run.spec
    return plugin(
        {"before_pipeline_run": function("before_pipeline_run", refuse, spec.argnames)},
        "invalid manifest",
    )


def guard_output() -> None:
    """Values from ``${env:}`` never leave the process: stdout and stderr go through the
    scrubber, and so do the records every handler of the root logger (Kedro's console and
    file handlers) formats."""
    import logging

    secrets.guard_streams()
    flt = secrets.ScrubFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, secrets.ScrubFilter) for f in handler.filters):
            handler.addFilter(flt)
