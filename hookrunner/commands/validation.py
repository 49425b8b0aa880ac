"""What ``hookrunner validate`` does, without the CLI framework.

``hookrunner validate`` is run by editors and pre-commit on every save, so its process time
matters: ``launch`` calls ``main`` here directly for plain invocations, and the typer command
(``validate``) calls it too, so both print the same report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..kernel.document import load_file
from ..kernel.errors import Problem, ValidationError
from .output import release, reserve_stdout, write_json

OK, INVALID = 0, 2


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
    from ..kernel.manifest import Loader
    from ..kernel.registry import build

    loader = Loader()  # the document is parsed already: load it as is, not from disk again
    loader.add_document(doc, (str(path.resolve()),))
    loader.add_plugins()
    try:
        registry = build(loader.result())
    except ValidationError as exc:
        return "hooks", 0, exc.problems
    return "hooks", len(registry.hooks), []


def main(files: list[Path], fmt: str) -> int:
    """Check ``files`` (default ``hooks.yaml``), print the report, return the exit code."""
    targets = list(files) if files else [Path("hooks.yaml")]
    if fmt == "json":
        reserve_stdout()  # a hook module printing at import must not break the document
    report: list[dict[str, Any]] = []
    bad = 0
    for path in targets:
        kind, count, found = validate_file(path)
        problems = [p for p in found if p.severity != "warning"]
        warnings = [p for p in found if p.severity == "warning"]
        bad += bool(problems)
        report.append(
            {
                "file": str(path),
                "kind": kind,
                "valid": not problems,
                "count": count,
                "problems": [p.as_dict() for p in problems],
                "warnings": [p.as_dict() for p in warnings],
            }
        )
        if fmt == "text":
            for p in warnings:
                print(p, file=sys.stderr)
            if problems:
                for p in problems:
                    print(p, file=sys.stderr)
            else:
                unit = "hook" if kind == "hooks" else "node"
                print(f"{path}: ok ({kind}, {count} {unit}{'s' if count != 1 else ''})")
    if fmt == "json":
        write_json(report)
        release()
    elif bad:
        total = sum(len(r["problems"]) for r in report)
        print(f"{total} problem{'s' if total != 1 else ''} in {bad} file(s)", file=sys.stderr)
    sys.stdout.flush()
    return INVALID if bad else OK
