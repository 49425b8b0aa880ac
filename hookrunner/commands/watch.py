"""``hookrunner watch``: a dev loop that hot-reloads the manifests and prints each registry diff."""

from __future__ import annotations

import json
import logging
import queue
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import typer

from ._common import FORMAT_OPTION, HOOKS_OPTION, INTERRUPTED, check_format, load_runner


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
    runner = load_runner(hooks)
    # The watcher logs too; here the command prints the same report itself.
    logging.getLogger("hookrunner.reload").addHandler(logging.NullHandler())
    reports: queue.Queue = queue.Queue()
    try:
        watcher = runner.watch(on_reload=reports.put)
        count = len(runner.registry.hooks)
        if fmt == "json":
            _say(
                json.dumps(
                    {
                        "watching": sorted(watcher.files),
                        "generation": runner.generation,
                        "hooks": count,
                    }
                )
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
            if fmt == "json":
                _say(json.dumps(report.as_dict(), default=str))
                continue
            stamp = time.strftime("%H:%M:%S")
            lines = report.lines()
            _say(f"[{stamp}] {lines[0]}", err=not report.ok)
            for line in lines[1:]:
                _say(line, err=not report.ok)
    except KeyboardInterrupt:
        _say("stopped", err=True)
        raise typer.Exit(INTERRUPTED) from None
    finally:
        runner.close()


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
                report = reports.get(timeout=0.5)
            except queue.Empty:
                continue
            stamp = time.strftime("%H:%M:%S")
            names = ", ".join(p.name for p in report.files)
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
