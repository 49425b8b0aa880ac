"""``hookrunner schema``: print a shipped JSON Schema (for editors and CI)."""

from __future__ import annotations

import typer

from ._common import fail_usage


def command(
    name: str = typer.Argument("hooks", help="Which schema: hooks or pipeline."),
) -> None:
    """Print the JSON Schema of manifests (hooks) or pipeline files (pipeline)."""
    from ..kernel.schema import SCHEMA_NAMES, schema_text

    if name not in SCHEMA_NAMES:
        fail_usage(f"unknown schema {name!r}; choose one of: {', '.join(SCHEMA_NAMES)}")
    typer.echo(schema_text(name), nl=False)
