"""``hookrunner validate``: check manifests and pipeline files like pre-commit's validate-config."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import FORMAT_OPTION, check_format
from .validation import main


def command(
    files: list[Path] = typer.Argument(None, help="Files to check (default: hooks.yaml)."),
    fmt: str = FORMAT_OPTION,
    no_import: bool = typer.Option(
        False, "--no-import", help="Check YAML, schema and graph only; import no module."
    ),
) -> None:
    """Check manifests and pipeline files; exit 2 listing every problem with file:line:col.

    The modules the files name are imported (in a child process, each import bounded) to
    check callables and signatures; nothing of the project is constructed or called."""
    check_format(fmt)
    raise typer.Exit(main(list(files or []), fmt, not no_import))
