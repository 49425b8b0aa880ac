"""What ``hookrunner run`` does once its arguments are parsed, without the CLI framework.

``launch`` calls ``execute`` directly for a plain ``hookrunner run PIPELINE [options]`` (the
quick start's command), so its process does not import typer and the pydantic it brings;
the typer command (``run``) calls it too, so both behave alike.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from ..kernel.errors import MESSAGE_MAX, shorten
from ..kernel.secrets import scrub

INVALID = 2


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _names(values: list[str] | None) -> list[str]:
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


class _Lines:
    """Plain progress lines (not a terminal): one line per node, safe from worker threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.total = 0

    def __call__(self, kind: str, node: Any, seconds: float) -> None:
        if kind == "plan":
            self.total = int(seconds)
            return
        if kind == "start":
            return
        with self.lock:
            self.count += kind in ("done", "skipped", "failed")  # the node it is about
            what = {"done": "ok", "failed": "FAILED", "skipped": "skipped (resumed)"}[kind]
            timing = f" in {seconds * 1e3:.1f} ms" if kind != "skipped" else ""
            print(f"[{self.count}/{self.total}] node {node.name}: {what}{timing}", flush=True)

    def close(self) -> None:
        pass


class _Bar:
    """A rich progress bar on a terminal: nodes done/total, the current node, elapsed time."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]run"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            transient=False,
        )
        self.task = self.progress.add_task("", total=None)
        self.running: list[str] = []
        self.lock = threading.Lock()
        self.progress.start()

    def __call__(self, kind: str, node: Any, seconds: float) -> None:
        if kind == "plan":  # the number of selected nodes, before the first one starts
            self.progress.update(self.task, total=int(seconds))
            return
        with self.lock:
            if kind == "start":
                self.running.append(node.name)
            elif node.name in self.running:
                self.running.remove(node.name)
            advance = 1 if kind in ("done", "skipped") else 0
            if kind == "failed":
                # Masked before rich renders it (markup and wrapping would split a value).
                self.progress.console.print(f"[red]node {scrub(node.name)} failed")
            self.progress.update(
                self.task, advance=advance, description=scrub(", ".join(self.running[-3:]))
            )

    def close(self) -> None:
        self.progress.update(self.task, description="")
        self.progress.stop()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _failure(result: Any, full: bool, pipeline: Path) -> None:
    """The culprit, its place and a traceback (project frames; ``full``: all of them), then
    how to resume once it is fixed."""
    failure = result.failure
    _err(f"error: {shorten(result.error, MESSAGE_MAX)}")
    if failure is None:
        return
    trace = failure.traceback_full if full else failure.traceback
    if trace and trace.strip() != failure.error:
        _err(trace)
        if not full:
            _err("(project frames only; --traceback shows every frame)")
    if result.session_id:
        _err(
            f"once fixed, resume it: hookrunner run {pipeline} --resume {result.session_id}"
            " (or --resume last)"
        )


def _summary(result: Any, quiet: bool, full: bool = False, pipeline: Path | None = None) -> None:
    ok = result.exit_code == 0
    if quiet and ok:
        return
    from rich.console import Console

    from ..kernel.errors import shown_path

    console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 120)
    status = {
        0: "[green]succeeded[/]",
        1: "[red]FAILED[/]",
        130: "[yellow]interrupted[/]",
    }.get(result.exit_code, result.status)
    run_count = len(result.nodes_run)
    not_run = result.nodes_total - run_count - len(result.nodes_skipped)
    not_run -= len(result.nodes_failed)
    lines = [
        f"pipeline {status} in {result.duration_s:.2f}s — session {result.session_id}",
        f"nodes: {run_count} run, {len(result.nodes_failed)} failed, "
        f"{len(result.nodes_skipped)} skipped (resumed), {max(not_run, 0)} not run "
        f"of {result.nodes_total}",
    ]
    if result.startup_s:
        lines.append(f"workers: local cluster started in {result.startup_s:.2f}s (part of the run)")
    calls = sum(int(s["calls"]) for s in result.hook_stats)
    lines.append(f"hooks: {_plural(calls, 'call')}, {result.hook_failures} failed")
    culprit = result.failure.hook if result.failure is not None else None
    for call in result.failed_calls:
        if call["hook"] != culprit:  # the run's own failure is told below
            lines.append(f"  failed: hook {call['hook']!r} on {call['event']}: {call['error']}")
    lines += result.notes
    # Masked before rich renders them (markup and wrapping would split a value); only the
    # first line is markup (the status), the others are shown as they are.
    console.print(scrub(lines[0]))
    for line in lines[1:]:
        console.print(scrub(line), markup=False, highlight=False)
    if result.hook_stats and not quiet:
        from rich.table import Table

        table = Table(title="slowest hooks", title_justify="left", box=None, pad_edge=False)
        for col in ("hook", "event", "calls", "total ms", "max ms", "failed"):
            table.add_column(col, justify="right" if "ms" in col or col == "calls" else "left")
        for s in result.hook_stats[:5]:
            table.add_row(
                scrub(s["hook"]),
                scrub(s["event"]),
                str(s["calls"]),
                f"{s['total_ms']:.2f}",
                f"{s['max_ms']:.2f}",
                str(s["failures"] or 0),
            )
        console.print(table)
    if result.error and result.exit_code != 0:
        _failure(result, full, pipeline or Path("pipeline.yaml"))
    if result.session_id and not quiet:
        show = (
            f"hookrunner sessions show {result.session_id} --store {shown_path(str(result.store))}"
        )
        console.print(scrub(f"details: {show}"), soft_wrap=True, markup=False)
        console.print(scrub(f"timeline: {show} --html report.html"), soft_wrap=True, markup=False)


# What ``hookrunner run`` runs when no pipeline file is named.
DEFAULT_PIPELINE = Path("pipeline.yaml")


def execute(
    pipeline: Path = DEFAULT_PIPELINE,
    runner: str = "sequential",
    workers: int | None = None,
    address: str | None = None,
    tags: list[str] | None = None,
    nodes: list[str] | None = None,
    from_nodes: list[str] | None = None,
    to_nodes: list[str] | None = None,
    params: list[str] | None = None,
    params_new: bool = False,
    resume: str | None = None,
    store: Path | None = None,
    quiet: bool = False,
    hooks: list[Path] | None = None,
    watch: bool = False,
    full_traceback: bool = False,
    extra_args: list[str] | None = None,
) -> int:
    """Run ``pipeline`` as ``hookrunner run`` does; the exit code (``--watch``: until Ctrl-C).
    ``full_traceback``: a failure shows every frame, not only the project's."""
    from ..pipeline.context import RunOptions, UsageError
    from ..pipeline.lifecycle import run
    from ..pipeline.params import parse_param_overrides
    from .cli_hooks import command_args

    extra = list(extra_args or [])
    try:
        overrides = parse_param_overrides(list(params or []))
    except UsageError as exc:
        _err(f"error: {exc}")
        return INVALID
    if not pipeline.exists() and pipeline == DEFAULT_PIPELINE and not extra:
        _err(
            f"error: no pipeline.yaml in {Path.cwd()} (name the pipeline file: hookrunner run "
            "PATH, or create a project with hookrunner init)"
        )
        return INVALID
    options = RunOptions(
        pipeline=pipeline,
        runner=runner,
        workers=workers,
        address=address,
        tags=_names(tags),
        nodes=_names(nodes),
        from_nodes=_names(from_nodes),
        to_nodes=_names(to_nodes),
        params=overrides,
        params_new=params_new,
        resume=resume,
        store=store,
        hooks=list(hooks or []),
        extra_args=extra,
        command_args=command_args(["run", str(pipeline), *extra]),
    )

    def once() -> int:
        display: Any = None
        if not quiet:
            display = _Bar() if sys.stdout.isatty() else _Lines()
        try:
            result = run(options, progress=display)
        finally:
            if display is not None:
                display.close()
        for sid in result.crashed:  # found dead when this run began
            _err(f"note: session {sid} crashed (its process ended without closing it)")
        for w in result.warnings:  # a `when:` that can never match in this pipeline
            _err(str(w))
        if result.problems:
            for p in result.problems:
                _err(str(p))
            n = len(result.problems)
            _err(f"{n} problem{'s' if n != 1 else ''} found")
        elif result.exit_code == INVALID:
            _err(f"error: {shorten(result.error or '', MESSAGE_MAX)}")
        else:
            _summary(result, quiet, full_traceback, pipeline)
        return result.exit_code

    if watch:
        from .watch import rerun

        rerun(pipeline, list(hooks or []), once)  # until Ctrl-C: exits 130
    return once()
