"""CLI hooks: ``before_command_run`` / ``after_command_run`` around a command.

Kedro fires them around every ``kedro`` command. Here the commands that load manifests
(``list``, ``emit``, ``watch``) fire them through ``hookrunner.commands.cli_hooks``, and a
pipeline run fires them itself (also when run from Python), with the real exit code in
``after_command_run``: 0, 1 (failed), 2 (invalid input) or 130 (Ctrl-C).

When the manifests are invalid the command never starts: ``after_command_run`` alone fires,
with exit code 2, from the manifests that are valid on their own (a broken file cannot run
hooks, a good one beside it can): ``partial_runner`` builds those.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..kernel.errors import ValidationError, raised
from ..kernel.manifest import load_manifests
from ..kernel.registry import build
from . import project_metadata as _metadata
from .runner import HookRunner


def project_metadata(paths: Iterable[str | os.PathLike[str]], pipeline: str | None = None) -> Any:
    """``project_metadata`` (Kedro's ``ProjectMetadata`` fields, see ``project_metadata``):
    the project is the pipeline file's folder, else the first manifest's, else the working
    folder. ``os.path.realpath``, not ``Path.resolve()``: a symlink loop is the loader's
    located problem, never a traceback here."""
    files = [os.path.realpath(p) for p in paths]
    if pipeline is not None:
        pipeline = os.path.realpath(pipeline)
        return _metadata.make(Path(pipeline).parent, manifests=files, pipeline=pipeline)
    base = Path(files[0]).parent if files else Path.cwd()
    return _metadata.make(base, manifests=files)


def partial_runner(paths: Iterable[str | os.PathLike[str]]) -> HookRunner | None:
    """A HookRunner of the manifests in ``paths`` that are valid on their own, or None."""
    good = []
    for p in paths:
        try:
            build(load_manifests([p]))
        except (ValidationError, OSError):
            continue
        good.append(p)
    if not good:
        return None
    try:
        return HookRunner.from_files(good)
    except ValidationError:  # valid alone, invalid together (e.g. an event declared twice)
        return None


def report_failures(result: Any, event: str) -> None:
    """Say on stderr which CLI hooks failed (``on_error: continue`` keeps the command going,
    but a plugin that breaks there must not go unnoticed)."""
    for r in getattr(result, "results", ()):
        if not r.ok:
            error = raised(r.error) if r.error is not None else "failed"
            print(f"warning: {event} hook {r.name!r} failed: {error}", file=sys.stderr)


def before(runner: HookRunner, metadata: Any, args: list[str]) -> None:
    """Fire ``before_command_run``; failures that do not raise are reported on stderr."""
    result = runner.emit("before_command_run", project_metadata=metadata, command_args=args)
    report_failures(result, "before_command_run")


def after(runner: HookRunner, metadata: Any, args: list[str], exit_code: int) -> None:
    """Fire ``after_command_run``; a hook raising here is reported, never a traceback."""
    try:
        result = runner.emit(
            "after_command_run", project_metadata=metadata, command_args=args, exit_code=exit_code
        )
    except Exception as exc:  # noqa: BLE001 - the command is over; say what failed
        print(f"error: after_command_run: {raised(exc)}", file=sys.stderr)
        return
    report_failures(result, "after_command_run")
