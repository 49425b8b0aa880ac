"""``hookrunner watch``: a dev loop that hot-reloads the manifests and prints each registry diff."""

from __future__ import annotations

import logging
import os
import queue
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from ..kernel.errors import ValidationError
from . import cli_hooks
from ._common import (
    FORMAT_OPTION,
    HOOKS_OPTION,
    INTERRUPTED,
    check_format,
    manifest_paths,
    start_command,
)
from .output import write_json

if TYPE_CHECKING:
    from ..host.reload import Reload
    from ..host.runner import HookRunner


def _say(text: str, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()  # a pipe would otherwise hold the lines until exit


def command(
    hooks: list[Path] = HOOKS_OPTION,
    fmt: str = FORMAT_OPTION,
) -> None:
    """Watch manifests, includes and hook modules; reload on every save and print the diff.

    An invalid edit is printed with file:line:col; the last good registry stays live.
    --format json prints one JSON object per reload. Runs until Ctrl-C (exit 130).
    """
    check_format(fmt)
    # The watcher logs too; here the command prints the same report itself.
    logging.getLogger("hookrunner.reload").addHandler(logging.NullHandler())
    runner = _start(hooks, fmt)
    reports: queue.Queue = queue.Queue()
    try:
        watcher = runner.watch(on_reload=reports.put)
        count = len(runner.registry.hooks)
        if fmt == "json":
            write_json(
                {
                    "watching": sorted(watcher.files),
                    "generation": runner.generation,
                    "hooks": count,
                },
                None,
            )
        else:
            _say(
                f"watching {len(watcher.files)} files: generation {runner.generation}, "
                f"{count} hook{'s' if count != 1 else ''} (Ctrl-C to stop)"
            )
        while True:
            try:
                report = reports.get(timeout=0.5)
            except queue.Empty:
                continue
            _print(report, fmt)
    except KeyboardInterrupt:
        _say("stopped", err=True)
        raise typer.Exit(INTERRUPTED) from None
    finally:
        runner.close()


class _Waiting:
    """The manifests of a ``watch`` that started invalid (a reload ``Target``): each change
    tries to build them again, until they are valid."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.runner: HookRunner | None = None

    @property
    def generation(self) -> int:
        return 0

    def reload(self, changed: Iterable[str | os.PathLike[str]] = ()) -> None:
        from ..host.modules import forget, project_modules
        from ..host.runner import HookRunner

        forget(list(changed), project_modules({str(p.parent) for p in self.watched_files()}))
        self.runner = HookRunner.from_files(self.paths)  # ValidationError: still invalid

    def watched_files(self) -> set[Path]:
        from ..host.reload import watch_list
        from ..kernel.manifest import load_manifests

        return watch_list(self.paths, load_manifests(list(self.paths)).files)


def _start(hooks: list[Path] | None, fmt: str) -> HookRunner:
    """The manifests' runner with ``before_command_run`` fired; when they are invalid, the
    problems are printed and the command waits for a fix (as ``run --watch`` does)."""
    from ..host.command_hooks import project_metadata
    from ..host.reload import Watcher
    from ..host.runner import HookRunner

    paths = manifest_paths(hooks)
    args = cli_hooks.command_args([])
    try:
        runner = HookRunner.from_files(paths)
    except ValidationError as exc:
        waiting = _Waiting(paths)
        reports: queue.Queue = queue.Queue()
        watcher = Watcher(waiting, on_reload=reports.put)
        try:
            watcher.start()  # before saying so: a fix saved right after is seen
            if fmt == "json":
                write_json({"ok": False, "problems": [p.as_dict() for p in exc.problems]}, None)
            else:
                for p in exc.problems:
                    _say(str(p), err=True)
                n = len(exc.problems)
                _say(f"invalid: {n} problem(s); waiting for a fix (Ctrl-C to stop)")
            while waiting.runner is None:
                try:
                    report = reports.get(timeout=0.5)
                except queue.Empty:
                    continue
                if not report.ok:
                    _print(report, fmt)
        except KeyboardInterrupt:
            cli_hooks.begin_invalid(paths, args)  # after_command_run, from the valid ones
            _say("stopped", err=True)
            raise typer.Exit(INTERRUPTED) from None
        finally:
            watcher.stop()
        runner = waiting.runner
        if fmt != "json":
            _say(f"[{time.strftime('%H:%M:%S')}] valid now")
    start_command(runner, project_metadata(paths), args)
    return runner


def _print(report: Reload, fmt: str) -> None:
    if fmt == "json":
        write_json(report.as_dict(), None)
        return
    stamp = time.strftime("%H:%M:%S")
    lines = report.lines()
    _say(f"[{stamp}] {lines[0]}", err=not report.ok)
    for line in lines[1:]:
        _say(line, err=not report.ok)


# Seconds of quiet after a change before ``run --watch`` runs again: the saves of one burst
# (a formatter, a checkout, an editor writing several files) make one run.
BURST = 0.2


def _burst(reports: queue.Queue, first: Reload) -> list[Reload]:
    """``first`` and the reports that follow it, each within ``BURST`` of the one before."""
    got = [first]
    while True:
        try:
            got.append(reports.get(timeout=BURST))
        except queue.Empty:
            return got


def rerun(pipeline: Path, hooks: list[Path], once: Callable[[], int]) -> NoReturn:
    """``hookrunner run --watch``: run, then run again after each valid change, until Ctrl-C.

    Runs happen on this (the main) thread so Ctrl-C interrupts a run like it does without
    --watch; the watcher only checks the files and queues what it found.
    """
    from ..host.reload import Watcher
    from ..pipeline.watch import PipelineFiles

    logging.getLogger("hookrunner.reload").addHandler(logging.NullHandler())
    reports: queue.Queue = queue.Queue()
    watcher = Watcher(PipelineFiles(pipeline, hooks), on_reload=reports.put)
    try:
        watcher.start()
        if once() == INTERRUPTED:  # Ctrl-C during a run: the run caught it and ended
            raise KeyboardInterrupt
        watcher.refresh()  # the run imported the project's modules: watch them too
        _say(f"watching {len(watcher.files)} files for changes (Ctrl-C to stop)")
        while True:
            try:
                first = reports.get(timeout=0.5)
            except queue.Empty:
                continue
            batch = _burst(reports, first)  # what queued during the last run included
            report = batch[-1]  # the files as they are now decide
            stamp = time.strftime("%H:%M:%S")
            changed = dict.fromkeys(p.name for r in batch for p in r.files)
            names = ", ".join(changed)
            if not report.ok:
                head, *rest = report.lines()
                _say(f"[{stamp}] {head}; not running", err=True)
                for line in rest:
                    _say(line, err=True)
                continue
            _say(f"[{stamp}] changed: {names}; running again")
            if once() == INTERRUPTED:
                raise KeyboardInterrupt
            watcher.refresh()
    except KeyboardInterrupt:
        _say("stopped", err=True)
        raise typer.Exit(INTERRUPTED) from None
    finally:
        watcher.stop()
