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

from ..kernel.errors import ValidationError
from ..kernel.manifest import load_manifests
from ..kernel.registry import build
from ..kernel.version import __version__
from .runner import HookRunner


def project_metadata(paths: Iterable[str | os.PathLike[str]]) -> dict[str, Any]:
    """What ``project_metadata`` says for commands without a pipeline file."""
    files = [os.path.realpath(p) for p in paths]
    base = Path(files[0]).parent if files else Path.cwd()
    return {
        "project_name": base.name,
        "project_path": str(base),
        "manifests": files,
        "hookrunner_version": __version__,
    }


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


def after(runner: HookRunner, metadata: dict[str, Any], args: list[str], exit_code: int) -> None:
    """Fire ``after_command_run``; a hook raising here is reported, never a traceback."""
    try:
        runner.emit(
            "after_command_run", project_metadata=metadata, command_args=args, exit_code=exit_code
        )
    except Exception as exc:  # noqa: BLE001 - the command is over; say what failed
        print(f"error: after_command_run: {type(exc).__name__}: {exc}", file=sys.stderr)
