"""``hookrunner run PIPELINE``: run a pipeline file through the full lifecycle (SPEC §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperOption

from .help import Command

_SELECT_HELP = "Repeatable, or comma-separated."


class RunCommand(Command):
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
            if "hookrunner.pipeline" not in ctx.meta and Path("pipeline.yaml").is_file():
                ctx.meta["hookrunner.pipeline"] = Path("pipeline.yaml")  # the default
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
    pipeline: Path = typer.Argument(
        Path("pipeline.yaml"),
        help="The pipeline file.",
        show_default="pipeline.yaml in the current directory",
    ),
    runner: str = typer.Option(
        "sequential", "--runner", metavar="NAME", help="sequential, thread or dask."
    ),
    workers: int = typer.Option(
        None,
        "--workers",
        help="Threads for --runner thread; worker processes of the local Dask cluster.",
    ),
    address: str = typer.Option(
        None,
        "--address",
        metavar="tcp://HOST:PORT",
        help="--runner dask: an existing scheduler (tcp://HOST:PORT) instead of a local cluster.",
    ),
    tags: list[str] = typer.Option(
        None, "--tags", metavar="TAG", help="Only nodes with any of these tags. " + _SELECT_HELP
    ),
    nodes: list[str] = typer.Option(
        None, "--nodes", metavar="NODE", help="Only these nodes. " + _SELECT_HELP
    ),
    from_nodes: list[str] = typer.Option(
        None,
        "--from-nodes",
        metavar="NODE",
        help="These nodes and everything downstream. " + _SELECT_HELP,
    ),
    to_nodes: list[str] = typer.Option(
        None,
        "--to-nodes",
        metavar="NODE",
        help="These nodes and everything upstream. " + _SELECT_HELP,
    ),
    params: list[str] = typer.Option(
        None,
        "--params",
        metavar="NAME=VALUE",
        help="Override a parameter: NAME=VALUE, dotted names nest (a.b=1).",
    ),
    params_new: bool = typer.Option(
        False, "--params-new", help="Let --params add parameters the pipeline file lacks."
    ),
    resume: str = typer.Option(
        None,
        "--resume",
        metavar="ID|last",
        help="Skip the nodes this session (an id prefix, or last: this pipeline's latest run) "
        "checkpointed whose outputs persist.",
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
    full_traceback: bool = typer.Option(
        False, "--traceback", help="On failure, print every frame of the traceback."
    ),
) -> None:
    """Run PIPELINE: hooks fire in Kedro's order; exit 0 ok, 1 failed, 2 invalid, 130 interrupted."""
    from .running import execute

    code = execute(
        pipeline,
        runner=runner,
        workers=workers,
        address=address,
        tags=tags,
        nodes=nodes,
        from_nodes=from_nodes,
        to_nodes=to_nodes,
        params=params,
        params_new=params_new,
        resume=resume,
        store=store,
        quiet=quiet,
        hooks=hooks,
        watch=watch,
        full_traceback=full_traceback,
        extra_args=list(ctx.args),
    )
    raise typer.Exit(code)
