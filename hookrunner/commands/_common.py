"""What the commands share: loading manifests, printing problems, exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from ..errors import Problem, ValidationError

OK, FAILED, INVALID, INTERRUPTED = 0, 1, 2, 130

HOOKS_OPTION = typer.Option(
    None,
    "--hooks",
    help="A manifest to load (repeatable; default: hooks.yaml in the current directory).",
)
FORMAT_OPTION = typer.Option("text", "--format", help="Output format: text or json.")


def manifest_paths(hooks: list[Path] | None) -> list[Path]:
    return list(hooks) if hooks else [Path("hooks.yaml")]


def check_format(fmt: str) -> str:
    if fmt not in ("text", "json"):
        fail_usage(f"--format must be 'text' or 'json', not {fmt!r}")
    return fmt


def fail_usage(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(INVALID)


def print_problems(problems: list[Problem]) -> None:
    for p in problems:
        typer.echo(str(p), err=True)


def fail_invalid(exc: ValidationError) -> NoReturn:
    print_problems(exc.problems)
    n = len(exc.problems)
    typer.echo(f"{n} problem{'s' if n != 1 else ''} found", err=True)
    raise typer.Exit(INVALID)


def dump_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def load_runner(hooks: list[Path] | None):  # -> HookRunner
    from ..runner import HookRunner

    paths = manifest_paths(hooks)
    try:
        return HookRunner.from_files(paths)
    except ValidationError as exc:
        fail_invalid(exc)
