"""``hookrunner list --kedro PROJECT``: every hook ``kedro run`` calls, in the order it calls
them, and where each one runs under ParallelRunner.

The project is set up as ``kedro run`` sets it up (``bootstrap_project``: its ``settings.py``
runs, its package is importable), its manifests found through its config loader and built
with the switches in the environment, and Kedro's side comes from a hook manager made as a
session makes it (``settings.HOOKS``, then the installed plugins, minus
``DISABLE_HOOKS_FOR_PLUGINS``), so the rows show pluggy's own order for Kedro's hooks, with the
manifest's before and after them (``order``). No hook is called.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from ..kernel.errors import HookrunnerError, raised, shown_path
from ..kernel.events import BUILTIN
from ..kernel.runtime.hook import ORDERS, Hook
from .locate import Source, sources
from .manifests import load
from .order import KEDRO_EVENTS, WORKER_EVENTS, before_kedro

# The session events a kedro run fires (record): the rest of the catalogue never fires there.
SESSION_EVENTS = (
    "session_start",
    "session_metadata",
    "pre_checkpoint",
    "post_checkpoint",
    "post_error",
    "pre_session_end",
    "session_end",
)


class Listing(NamedTuple):
    project: Path
    env: str | None
    settings_file: str | None
    manifests: list[Source]
    rows: list[dict[str, Any]]


class KedroMissing(HookrunnerError):
    """Kedro is not installed here (``hookrunner[kedro]`` installs it)."""


class SettingsFailed(HookrunnerError):
    """Importing the project's ``settings.py`` raised: said at the line that raised."""


def kedro_listing(project: Path, env: str | None = None) -> Listing:
    """The rows of ``hookrunner list --kedro``; raises ``KedroManifestError`` for invalid
    manifests, ``RuntimeError`` when ``project`` is no Kedro project, ``KedroMissing``
    without Kedro, ``SettingsFailed`` when the project's settings.py raises."""
    try:
        from kedro.framework.hooks.manager import (
            _create_hook_manager,
            _register_hooks,
            _register_hooks_entry_points,
        )
        from kedro.framework.project import settings
        from kedro.framework.startup import _get_project_metadata, bootstrap_project
    except ImportError as exc:
        raise KedroMissing(str(exc)) from None

    project = project.resolve()
    env = env or os.environ.get("KEDRO_ENV") or None
    # Kedro logs to stdout while it sets the project up; --format json must stay readable.
    with contextlib.redirect_stdout(sys.stderr):
        package = _get_project_metadata(project).package_name
        try:
            metadata = bootstrap_project(project)  # settings.py runs here
            loader = settings.CONFIG_LOADER_CLASS(
                conf_source=str(project / settings.CONF_SOURCE),
                env=env,
                **settings.CONFIG_LOADER_ARGS,
            )
            hooks = list(settings.HOOKS)
            disabled = settings.DISABLE_HOOKS_FOR_PLUGINS
        except Exception as exc:
            raise _settings_failed(exc, package) from None
        found = sources(loader)
        runner = load(found)[0] if found else None
        manager = _create_hook_manager()
        _register_hooks(manager, hooks)
        _register_hooks_entry_points(manager, disabled)
    workers = bool(runner and (runner.registry.manifest.settings.kedro or {}).get("workers"))
    rows: list[dict[str, Any]] = []
    for event in KEDRO_EVENTS:
        ours = runner.registry.ordered(event) if runner is not None else []
        in_worker = event in WORKER_EVENTS
        where = ("worker" if workers else "not run") if in_worker else "driver"
        rows += [_ours(h, "before", where, project) for h in ours if before_kedro(h)]
        rows += _kedro(manager, event, hooks, "worker" if in_worker else "driver")
        rows += [_ours(h, "after", where, project) for h in ours if not before_kedro(h)]
    if runner is not None:
        for event in SESSION_EVENTS:
            rows += [_ours(h, None, "driver", project) for h in runner.registry.ordered(event)]
        fired = set(KEDRO_EVENTS) | set(SESSION_EVENTS)
        for event in runner.registry.events:
            if event not in fired:
                rows += [
                    _ours(h, None, "not fired", project) for h in runner.registry.ordered(event)
                ]
    return Listing(project, env, _settings_file(metadata.package_name), found, rows)


def _ours(hook: Hook, side: str | None, parallel: str, project: Path) -> dict[str, Any]:
    row = hook.describe()
    row.pop("where", None)  # hookrunner's Dask runner's; ParallelRunner's is ``parallel``
    prefix = str(project) + os.sep
    for key in ("source", "overrides"):  # conf/base/hooks.yaml:12, as Kedro users read it
        if isinstance(row[key], str) and row[key].startswith(prefix):
            row[key] = row[key][len(prefix) :]
    row.update(origin="hookrunner", kedro=side, parallel=parallel)
    if parallel == "not fired":
        row["parallel"] = None
        row["fired"] = False
    else:
        row["fired"] = True
    return row


def _kedro(manager: Any, event: str, hooks: list[Any], parallel: str) -> list[dict[str, Any]]:
    """Kedro's implementations of ``event`` in the order pluggy calls them (wrappers first:
    they enter before the others and leave after them)."""
    from .entry import ENTRY

    caller = getattr(manager.hook, event, None)
    if caller is None:
        return []
    dists = {id(p): d for p, d in manager.list_plugin_distinfo()}
    rows = []
    for impl in reversed(caller.get_hookimpls()):
        plugin = impl.plugin
        if plugin is ENTRY:
            continue  # hookrunner itself: the manifest's rows are around these
        if any(plugin is h for h in hooks):
            index = next(i for i, h in enumerate(hooks) if h is plugin)
            label = getattr(type(plugin), "__qualname__", type(plugin).__name__)
            origin, source = "settings.py", f"settings.py HOOKS[{index}]"
        else:
            label = manager.get_name(plugin) or repr(plugin)
            dist = dists.get(id(plugin))
            origin = "plugin"
            source = f"plugin:{label}" + (f" ({dist.project_name})" if dist is not None else "")
        order = 0 if impl.tryfirst else 2 if impl.trylast else 1
        rows.append(
            {
                "name": f"{label}.{impl.function.__name__}",
                "event": event,
                "priority": None,
                "order": ORDERS[order],
                "mode": "wrap" if (impl.wrapper or impl.hookwrapper) else BUILTIN[event].style,
                "enabled": True,
                "source": source,
                "origin": origin,
                "kedro": None,
                "parallel": parallel,
                "fired": True,
                "overrides": None,
            }
        )
    return rows


def _settings_failed(error: Exception, package: str) -> Exception:
    """``error`` as ``SettingsFailed`` at the line of settings.py it came from; as it is
    when it did not come from there (Kedro's own failure)."""
    import traceback

    file = _settings_file(package)
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if f.filename == file]
    if file is None or not mine:
        return error
    at = mine[-1]
    column = f":{at.colno + 1}" if at.colno is not None else ""
    return SettingsFailed(
        f"{shown_path(file)}:{at.lineno}{column}: importing {package}.settings raised "
        f"{raised(error)} (kedro run fails the same way: fix the project's settings.py)"
    )


def _settings_file(package: str) -> str | None:
    from importlib.util import find_spec

    try:
        spec = find_spec(f"{package}.settings")
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None
