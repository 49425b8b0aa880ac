"""The console's side of the CLI hooks: the real command line, and the ``after_command_run``
events still to fire once the exit code is known.

A command that loaded manifests fires ``before_command_run`` here (``begin``); the console
entry point (``app.main``) calls ``finish`` with the exit code, so no command repeats it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runtime is imported by the commands that load manifests, not here
    from ..host.runner import HookRunner

# The command line of the running ``hookrunner`` process (set by the console entry point).
_argv: list[str] | None = None
# (runner, project_metadata, command_args) of commands whose after_command_run is pending.
_pending: list[tuple[HookRunner, Any, list[str]]] = []


def set_argv(argv: list[str]) -> None:
    global _argv
    _argv = list(argv)


def command_args(default: list[str]) -> list[str]:
    """The real command line when hookrunner runs as a command, else ``default``."""
    return list(_argv) if _argv is not None else list(default)


def begin(runner: HookRunner, metadata: Any, args: list[str]) -> None:
    """Fire ``before_command_run``; ``finish`` fires ``after_command_run`` later. A hook that
    raises (``on_error: raise``) fails the command with exit 1, still reported to ``finish``."""
    from ..host.command_hooks import before

    _pending.append((runner, metadata, args))
    before(runner, metadata, args)


def begin_invalid(paths: Iterable[str | os.PathLike[str]], args: list[str]) -> None:
    """The manifests are invalid: only ``after_command_run`` will fire, from the valid ones."""
    from ..host.command_hooks import partial_runner, project_metadata

    paths = list(paths)
    runner = partial_runner(paths)
    if runner is not None:
        _pending.append((runner, project_metadata(paths), args))


def finish(exit_code: int) -> None:
    """Fire the pending ``after_command_run`` events with the command's exit code."""
    if not _pending:
        return
    from ..host.command_hooks import after

    while _pending:
        runner, metadata, args = _pending.pop()
        after(runner, metadata, args, exit_code)
        runner.close()  # again if the command closed it: drains what the hook queued


def conclude(code: int) -> int:
    """End a command whose exit code is ``code``, however it was started (typer or the
    plain paths): the pending ``after_command_run`` events (a second Ctrl-C while they run
    makes it 130), then, under ``--format json``, the one document stdout must hold."""
    try:
        finish(code)
    except KeyboardInterrupt:
        code = 130
    from .output import json_reserved, json_written, release, write_json

    if json_reserved() and not json_written():
        write_json({"ok": code == 0, "exit_code": code})
    release()
    return code
