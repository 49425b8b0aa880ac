"""The ``hookrunner`` console entry point.

A plain ``hookrunner validate [FILES...] [--format text|json]`` (what editors and pre-commit
run on every save) goes straight to ``hookrunner.validation``: importing the CLI framework would
cost more than the validation itself. Everything else, including ``--help`` and any argument
this parser does not recognise, goes to the typer app, which has the final word.
"""

from __future__ import annotations

import os
import sys


def plain_validate(args: list[str]) -> tuple[list[str], str] | None:
    """(files, format) when ``args`` (after ``validate``) are only files and a valid --format."""
    files: list[str] = []
    fmt = "text"
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--format" and i + 1 < len(args):
            fmt = args[i + 1]
            i += 2
            continue
        if a.startswith("--format="):
            fmt = a.partition("=")[2]
        elif a.startswith("-") and a != "-":
            return None
        else:
            files.append(a)
        i += 1
    return (files, fmt) if fmt in ("text", "json") else None


def run() -> None:
    args = sys.argv[1:]
    completing = os.environ.get("_HOOKRUNNER_COMPLETE", "")
    if completing.startswith("complete_"):  # a Tab: answer before typer would even load
        from .complete import answer

        try:
            reply = answer(completing.partition("_")[2])
        except Exception:  # noqa: BLE001 - a Tab must never print a traceback
            reply = None
        if reply is not None:
            sys.stdout.write(reply)
            sys.exit(0)
    plain = plain_validate(args[1:]) if args[:1] == ["validate"] and not completing else None
    if plain is not None:
        from pathlib import Path

        from .validation import main

        try:
            code = main([Path(f) for f in plain[0]], plain[1])
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
        sys.exit(code)
    from .app import run as full

    full()


if __name__ == "__main__":
    run()
