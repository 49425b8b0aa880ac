"""CLI hooks: ``before_command_run`` / ``after_command_run`` around hookrunner's commands.

Kedro fires them around every ``kedro`` command; here every command that loads manifests
(``list``, ``emit``, ``watch``, ``run``) does, and ``after_command_run`` always gets the real
exit code: 0, 1 (failed), 2 (invalid input) or 130 (Ctrl-C). The CLI records which runner
fired ``before_command_run`` and the console entry point fires ``after_command_run`` once the
exit code is known, so no command repeats this.

When the manifests are invalid the command never starts: ``after_command_run`` alone fires,
with exit code 2, from the manifests that are valid on their own (a broken file cannot run
hooks, a good one beside it can).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("hookrunner")

# The command line of the running ``hookrunner`` process (set by the console entry point).
_argv: list[str] | None = None
# (runner, project_metadata, command_args) of commands whose after_command_run is pending.
_pending: list[tuple[Any, dict[str, Any], list[str]]] = []


def set_argv(argv: list[str]) -> None:
    global _argv
    _argv = list(argv)


def command_args(default: list[str]) -> list[str]:
    """The real command line when hookrunner runs as a command, else ``default``."""
    return list(_argv) if _argv is not None else list(default)


def project_metadata(paths: Iterable[str | os.PathLike[str]]) -> dict[str, Any]:
    """What ``project_metadata`` says for commands without a pipeline file."""
    from . import __version__

    files = [str(Path(p).resolve()) for p in paths]
    base = Path(files[0]).parent if files else Path.cwd()
    return {
        "project_name": base.name,
        "project_path": str(base),
        "manifests": files,
        "hookrunner_version": __version__,
    }


def partial_runner(paths: Iterable[str | os.PathLike[str]]) -> Any:
    """A HookRunner of the manifests in ``paths`` that are valid on their own, or None."""
    from .errors import ValidationError
    from .manifest import load_manifests
    from .registry import build
    from .runner import HookRunner

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


def begin(runner: Any, metadata: dict[str, Any], args: list[str]) -> None:
    """Fire ``before_command_run``; ``finish`` fires ``after_command_run`` later. A hook that
    raises (``on_error: raise``) fails the command with exit 1, still reported to ``finish``."""
    _pending.append((runner, metadata, args))
    runner.emit("before_command_run", project_metadata=metadata, command_args=args)


def begin_invalid(paths: Iterable[str | os.PathLike[str]], args: list[str]) -> None:
    """The manifests are invalid: only ``after_command_run`` will fire, from the valid ones."""
    paths = list(paths)
    runner = partial_runner(paths)
    if runner is not None:
        _pending.append((runner, project_metadata(paths), args))


def after(runner: Any, metadata: dict[str, Any], args: list[str], exit_code: int) -> None:
    """Fire ``after_command_run``; a hook raising here is reported, never a traceback."""
    try:
        runner.emit(
            "after_command_run", project_metadata=metadata, command_args=args, exit_code=exit_code
        )
    except Exception as exc:  # noqa: BLE001 - the command is over; say what failed
        print(f"error: after_command_run: {type(exc).__name__}: {exc}", file=sys.stderr)


def finish(exit_code: int) -> None:
    """Fire the pending ``after_command_run`` events with the command's exit code."""
    from .runner import _drain_deliveries

    while _pending:
        runner, metadata, args = _pending.pop()
        after(runner, metadata, args, exit_code)
        runner.close()
        _drain_deliveries()  # what an after_command_run hook queued (close may have run)
