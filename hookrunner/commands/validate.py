"""``hookrunner validate``: check manifests and pipeline files like pre-commit's validate-config."""

from __future__ import annotations

from pathlib import Path

import typer

from ..document import load_file
from ..errors import Problem, ValidationError
from ._common import FORMAT_OPTION, INVALID, OK, check_format, dump_json, print_problems


def is_pipeline(data: object) -> bool:
    """Pipeline files are told from manifests by content: they have nodes or a catalog."""
    return isinstance(data, dict) and ("nodes" in data or "catalog" in data)


def validate_file(path: Path) -> tuple[str, int, list[Problem]]:
    """(kind, hook or node count, problems) for one file."""
    try:
        doc = load_file(path)
    except ValidationError as exc:
        return "unknown", 0, exc.problems
    if is_pipeline(doc.data):
        from ..pipeline.spec import validate_pipeline

        return "pipeline", *validate_pipeline(path)
    from ..manifest import load_manifests
    from ..registry import build

    try:
        registry = build(load_manifests([path]))
    except ValidationError as exc:
        return "hooks", 0, exc.problems
    return "hooks", len(registry.hooks), []


def command(
    files: list[Path] = typer.Argument(None, help="Files to check (default: hooks.yaml)."),
    fmt: str = FORMAT_OPTION,
) -> None:
    """Check manifests and pipeline files; exit 2 listing every problem with file:line:col."""
    check_format(fmt)
    targets = list(files) if files else [Path("hooks.yaml")]
    report = []
    bad = 0
    for path in targets:
        kind, count, problems = validate_file(path)
        bad += bool(problems)
        report.append(
            {
                "file": str(path),
                "kind": kind,
                "valid": not problems,
                "count": count,
                "problems": [p.as_dict() for p in problems],
            }
        )
        if fmt == "text":
            if problems:
                print_problems(problems)
            else:
                unit = "hook" if kind == "hooks" else "node"
                typer.echo(f"{path}: ok ({kind}, {count} {unit}{'s' if count != 1 else ''})")
    if fmt == "json":
        dump_json(report)
    elif bad:
        total = sum(len(r["problems"]) for r in report)
        typer.echo(f"{total} problem{'s' if total != 1 else ''} in {bad} file(s)", err=True)
    raise typer.Exit(INVALID if bad else OK)
