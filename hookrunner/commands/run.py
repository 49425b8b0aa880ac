"""``hookrunner run PIPELINE``: run a pipeline file through the full lifecycle (SPEC §6)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand, TyperOption

from ..kernel.errors import shorten
from ._common import INVALID, print_problems

_SELECT_HELP = "Repeatable, or comma-separated."


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
            self.count += kind in ("done", "skipped")
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
                self.progress.console.print(f"[red]node {node.name} failed")
            self.progress.update(
                self.task, advance=advance, description=", ".join(self.running[-3:])
            )

    def close(self) -> None:
        self.progress.update(self.task, description="")
        self.progress.stop()


def _summary(result: Any, quiet: bool) -> None:
    from rich.console import Console

    console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 120)
    ok = result.exit_code == 0
    status = {
        0: "[green]succeeded[/]",
        1: "[red]FAILED[/]",
        130: "[yellow]interrupted[/]",
    }.get(result.exit_code, result.status)
    if quiet and ok:
        return
    run_count = len(result.nodes_run)
    not_run = result.nodes_total - run_count - len(result.nodes_skipped)
    not_run -= len(result.nodes_failed)
    lines = [
        f"pipeline {status} in {result.duration_s:.2f}s — session {result.session_id}",
        f"nodes: {run_count} run, {len(result.nodes_failed)} failed, "
        f"{len(result.nodes_skipped)} skipped (resumed), {max(not_run, 0)} not run "
        f"of {result.nodes_total}",
    ]
    calls = sum(int(s["calls"]) for s in result.hook_stats)
    lines.append(f"hooks: {calls} calls, {result.hook_failures} failed")
    for line in lines:
        console.print(line)
    if result.hook_stats and not quiet:
        from rich.table import Table

        table = Table(title="slowest hooks", title_justify="left", box=None, pad_edge=False)
        for col in ("hook", "event", "calls", "total ms", "max ms", "failed"):
            table.add_column(col, justify="right" if "ms" in col or col == "calls" else "left")
        for s in result.hook_stats[:5]:
            table.add_row(
                s["hook"],
                s["event"],
                str(s["calls"]),
                f"{s['total_ms']:.2f}",
                f"{s['max_ms']:.2f}",
                str(s["failures"] or 0),
            )
        console.print(table)
    if result.error and result.exit_code != 0:
        typer.echo(f"error: {shorten(result.error, 2000)}", err=True)
    if result.session_id and not quiet:
        console.print(
            f"details: hookrunner sessions show {result.session_id} --store {result.store}",
            soft_wrap=True,
        )


class RunCommand(TyperCommand):
    """``run``'s click command: ``hookrunner run PIPELINE --help`` also lists the options the
    pipeline's ``parser_hook`` hooks add (they exist only once the pipeline's hooks load)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # click.Context
        words = args[: args.index("--")] if "--" in args else args
        if "--help" in words or "-h" in words:
            takes_value = {
                opt
                for p in self.params
                if isinstance(p, TyperOption) and not p.is_flag
                for opt in p.opts
            }
            hooks: list[Path] = []
            option = None  # the value-taking option the next word belongs to
            for word in words:
                if option is not None:
                    if option == "--hooks":
                        hooks.append(Path(word))
                    option = None
                elif word in takes_value:
                    option = word
                elif word.startswith("--hooks="):
                    hooks.append(Path(word.partition("=")[2]))
                elif not word.startswith("-") and Path(word).is_file():
                    ctx.meta.setdefault("hookrunner.pipeline", Path(word))
            ctx.meta["hookrunner.hooks"] = hooks
        return super().parse_args(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:  # click.Context
        super().format_help(ctx, formatter)
        pipeline = ctx.meta.get("hookrunner.pipeline")
        if pipeline is None:
            formatter.write(
                "\nOptions that parser_hook hooks add are listed by: "
                "hookrunner run PIPELINE --help\n"
            )
            return
        from ..pipeline.lifecycle import parser_help

        text = parser_help(pipeline, ctx.meta.get("hookrunner.hooks"))
        if text:
            formatter.write("\n" + text.rstrip() + "\n")


def command(
    ctx: typer.Context,
    pipeline: Path = typer.Argument(..., help="The pipeline file (pipeline.yaml)."),
    runner: str = typer.Option("sequential", "--runner", help="sequential, thread or dask."),
    workers: int = typer.Option(
        None,
        "--workers",
        help="Threads for --runner thread; worker processes of the local Dask cluster.",
    ),
    address: str = typer.Option(
        None,
        "--address",
        help="--runner dask: an existing scheduler (tcp://HOST:PORT) instead of a local cluster.",
    ),
    tags: list[str] = typer.Option(
        None, "--tags", help="Only nodes with any of these tags. " + _SELECT_HELP
    ),
    nodes: list[str] = typer.Option(None, "--nodes", help="Only these nodes. " + _SELECT_HELP),
    from_nodes: list[str] = typer.Option(
        None, "--from-nodes", help="These nodes and everything downstream. " + _SELECT_HELP
    ),
    to_nodes: list[str] = typer.Option(
        None, "--to-nodes", help="These nodes and everything upstream. " + _SELECT_HELP
    ),
    params: list[str] = typer.Option(
        None, "--params", help="Override a parameter: NAME=VALUE, dotted names nest (a.b=1)."
    ),
    params_new: bool = typer.Option(
        False, "--params-new", help="Let --params add parameters the pipeline file lacks."
    ),
    resume: str = typer.Option(
        None, "--resume", help="Skip nodes this session checkpointed whose outputs persist."
    ),
    store: Path = typer.Option(
        None, "--store", help="Session store (default: .hookrunner/sessions.db beside PIPELINE)."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="No progress; summary only on failure."
    ),
    hooks: list[Path] = typer.Option(
        None,
        "--hooks",
        help="An extra manifest, loaded before the pipeline's own manifests (repeatable).",
    ),
    watch: bool = typer.Option(
        False, "--watch", help="Re-run after each valid change to the files it uses; Ctrl-C stops."
    ),
) -> None:
    """Run PIPELINE: hooks fire in Kedro's order; exit 0 ok, 1 failed, 2 invalid, 130 interrupted."""
    from ..pipeline.context import RunOptions, UsageError
    from ..pipeline.lifecycle import run
    from ..pipeline.params import parse_param_overrides
    from .cli_hooks import command_args

    try:
        overrides = parse_param_overrides(list(params or []))
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(INVALID) from None
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
        extra_args=list(ctx.args),
        command_args=command_args(["run", str(pipeline), *ctx.args]),
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
            typer.echo(
                f"note: session {sid} crashed (its process ended without closing it)", err=True
            )
        if result.problems:
            print_problems(result.problems)
            n = len(result.problems)
            typer.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)
        elif result.exit_code == INVALID:
            typer.echo(f"error: {result.error}", err=True)
        else:
            _summary(result, quiet)
        return result.exit_code

    if watch:
        from .watch import rerun

        rerun(pipeline, list(hooks or []), once)  # until Ctrl-C: exits 130
    raise typer.Exit(once())
