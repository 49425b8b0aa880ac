"""What ``hookrunner validate`` does, without the CLI framework.

``hookrunner validate`` is run by editors and pre-commit on every save, so its process time
matters: ``launch`` calls ``main`` here directly for plain invocations, and the typer command
(``validate``) calls it too, so both print the same report.

What it executes: it reads the files (YAML, schema, includes, the pipeline graph) and imports
the modules they name (hooks, error handlers, plugins, node functions, dataset types) to
check the callables and their signatures; it constructs no hooks class and no dataset of the
project, and calls none of the project's functions. The imports run in a child process
(``isolation``), so a module that exits, kills its process or hangs when imported is a
located problem and the rest is still checked. ``--no-import`` imports nothing and runs in
this process.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .output import release, reserve_stdout, write_json

if TYPE_CHECKING:
    from ..kernel.errors import Problem

OK, INVALID = 0, 2


def is_pipeline(data: object) -> bool:
    """Pipeline files are told from manifests by content: they have nodes or a catalog."""
    return isinstance(data, dict) and ("nodes" in data or "catalog" in data)


def validate_file(path: Path, imports: bool = True) -> tuple[str, int, list[Problem]]:
    """(kind, hook or node count, problems) for one file (``imports=False``: the count of a
    manifest is its declarations, as hooks classes are not read)."""
    # Imported here, in the process that checks: the one that supervises it stays small,
    # so forking it is cheap (see ``isolation``).
    from ..kernel.document import load_file
    from ..kernel.errors import ValidationError

    try:
        doc = load_file(path)
    except ValidationError as exc:
        return "unknown", 0, exc.problems
    if is_pipeline(doc.data):
        from ..pipeline.spec import validate_pipeline

        return "pipeline", *validate_pipeline(path, imports=imports)
    from ..kernel.manifest import Loader
    from ..kernel.registry import build

    loader = Loader()  # the document is parsed already: load it as is, not from disk again
    loader.add_document(doc, (str(path.resolve()),))
    loader.add_plugins()
    manifest = loader.result()
    try:
        registry = build(manifest, imports=imports, construct=False)
    except ValidationError as exc:
        return "hooks", 0, exc.problems
    return "hooks", len(registry.hooks) if imports else len(manifest.decls), []


def check(targets: list[Path], imports: bool = True) -> list[dict[str, Any]]:
    """The report: one entry per file, problems and warnings (a ``when:`` that can never
    match, say) as ``Problem.as_dict``; only problems make a file invalid."""
    report = []
    for path in targets:
        kind, count, found = validate_file(path, imports)
        problems = [p for p in found if p.severity != "warning"]
        warnings = [p for p in found if p.severity == "warning"]
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
    return report


def main(files: list[Path], fmt: str, imports: bool = True) -> int:
    """Check ``files`` (default ``hooks.yaml``), print the report, return the exit code."""
    targets = list(files) if files else [Path("hooks.yaml")]
    if fmt == "json":
        reserve_stdout()  # a hook module printing at import must not break the document
    if imports:
        from .isolation import Stopped, isolated

        try:
            report = isolated(targets, check, f"{__name__}:check")
        except Stopped as exc:
            print(f"error: {exc}", file=sys.stderr)
            if fmt == "json":
                write_json({"ok": False, "exit_code": 1, "error": str(exc)})
                release()
            return 1
    else:
        report = check(targets, imports=False)
    bad = sum(not r["valid"] for r in report)
    if fmt == "json":
        write_json(report)
        release()
    else:
        for r in report:
            for w in r.get("warnings", ()):
                print(w["text"], file=sys.stderr)
            if r["problems"]:
                for p in r["problems"]:
                    print(p["text"], file=sys.stderr)
                continue
            n = r["count"]
            if not imports and r["kind"] == "hooks":  # hooks classes are not looked into
                noun = "entry" if n == 1 else "entries"
            else:
                noun = ("hook" if r["kind"] == "hooks" else "node") + ("s" if n != 1 else "")
            note = ", nothing imported" if not imports else ""
            print(f"{r['file']}: ok ({r['kind']}, {n} {noun}{note})")
        if bad:
            total = sum(len(r["problems"]) for r in report)
            print(f"{total} problem{'s' if total != 1 else ''} in {bad} file(s)", file=sys.stderr)
    sys.stdout.flush()
    return INVALID if bad else OK
