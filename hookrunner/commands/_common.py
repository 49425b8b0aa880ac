"""What the commands share: loading manifests, printing problems, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..kernel.errors import Problem, ValidationError
from . import output

if TYPE_CHECKING:
    from ..host.runner import HookRunner

OK, FAILED, INVALID, INTERRUPTED = 0, 1, 2, 130

HOOKS_OPTION = typer.Option(
    None,
    "--hooks",
    metavar="PATH",
    help="A manifest to load (repeatable; default: hooks.yaml in the current directory).",
)
FORMAT_OPTION = typer.Option(
    "text",
    "--format",
    metavar="text|json",
    help="Output format: text, or one JSON document on stdout.",
)


def manifest_paths(hooks: list[Path] | None) -> list[Path]:
    return list(hooks) if hooks else [Path("hooks.yaml")]


def check_format(fmt: str) -> str:
    """``fmt`` checked; with ``json``, stdout is kept for the one JSON document from now on
    (whatever hooks print goes to stderr; ``output``)."""
    if fmt not in ("text", "json"):
        fail_usage(f"--format must be 'text' or 'json', not {fmt!r}")
    if fmt == "json":
        output.reserve_stdout()
    return fmt


def fail_usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    if output.json_reserved() and not output.json_written():
        output.write_json({"ok": False, "exit_code": INVALID, "error": message})
    raise typer.Exit(INVALID)


def print_problems(problems: list[Problem]) -> None:
    for p in problems:
        typer.echo(str(p), err=True)


def fail_invalid(exc: ValidationError) -> NoReturn:
    print_problems(exc.problems)
    n = len(exc.problems)
    typer.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)
    if output.json_reserved() and not output.json_written():
        output.write_json(
            {"ok": False, "exit_code": INVALID, "problems": [p.as_dict() for p in exc.problems]}
        )
    raise typer.Exit(INVALID)


def dump_json(data: Any) -> None:
    output.write_json(data)


def load_runner(hooks: list[Path] | None) -> HookRunner:
    """The manifests' HookRunner, with ``before_command_run`` fired (the console entry point
    fires ``after_command_run`` with the exit code, also after exit 2 for invalid files)."""
    from ..host.command_hooks import project_metadata
    from ..host.runner import HookRunner
    from ..services import telemetry  # noqa: F401 - traces the runner when configured
    from . import cli_hooks

    paths = manifest_paths(hooks)
    args = cli_hooks.command_args([])
    try:
        runner = HookRunner.from_files(paths)
    except ValidationError as exc:
        cli_hooks.begin_invalid(paths, args)
        fail_invalid(exc)
    start_command(runner, project_metadata(paths), args)
    return runner


def load_pipeline_runner(pipeline: Path, hooks: list[Path] | None) -> HookRunner:
    """The hooks a run of ``pipeline`` uses (``--hooks`` files, its manifests, plugins, its
    local hooks and ``forget:``), with ``before_command_run`` fired like ``load_runner``."""
    from ..host.command_hooks import project_metadata
    from ..pipeline.spec import build_hooks, load_document
    from ..pipeline.spec import manifest_paths as pipeline_manifests
    from . import cli_hooks

    extra = list(hooks or [])
    args = cli_hooks.command_args([])
    doc, shape = load_document(pipeline)
    paths = pipeline_manifests(doc, extra) if doc is not None else extra
    try:
        if doc is None or shape:
            raise ValidationError(shape)
        runner = build_hooks(doc, extra)
    except ValidationError as exc:
        cli_hooks.begin_invalid(paths, args)
        fail_invalid(exc)
    start_command(runner, project_metadata(paths, pipeline=str(pipeline)), args)
    return runner


def start_command(runner: HookRunner, metadata: Any, args: list[str]) -> None:
    """Fire ``before_command_run``; a hook that raises there fails the command (exit 1)."""
    from . import cli_hooks  # the runtime is imported only by commands that load manifests

    try:
        cli_hooks.begin(runner, metadata, args)
    except Exception as exc:
        from ..kernel.errors import raised

        typer.echo(f"error: before_command_run: {raised(exc)}", err=True)
        raise typer.Exit(FAILED) from None


def table_console(*, highlight: bool = True) -> Any:  # -> rich Console, imported on use
    """The console the commands print their tables to: piped output keeps whole lines
    (200 columns) so that it stays greppable."""
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, highlight=highlight)
