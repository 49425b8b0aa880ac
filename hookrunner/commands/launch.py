"""The ``hookrunner`` console entry point.

A plain ``hookrunner validate [FILES...] [--format text|json] [--no-import]`` (what editors
and pre-commit run on every save) goes straight to ``hookrunner.validation``, and a plain
``hookrunner claude hook`` (what Claude Code runs for every hook event) to ``claude_hook``:
importing the CLI framework would cost more than the work itself. Everything else, including
``--help`` and any argument these parsers do not recognise, goes to the typer app, which has
the final word.
"""

from __future__ import annotations

import os
import sys
import time


def plain_validate(args: list[str]) -> tuple[list[str], str, bool] | None:
    """(files, format, imports) when ``args`` (after ``validate``) are only files, a valid
    --format and --no-import."""
    files: list[str] = []
    fmt = "text"
    imports = True
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--format" and i + 1 < len(args):
            fmt = args[i + 1]
            i += 2
            continue
        if a.startswith("--format="):
            fmt = a.partition("=")[2]
        elif a == "--no-import":
            imports = False
        elif a.startswith("-") and a != "-":
            return None
        else:
            files.append(a)
        i += 1
    return (files, fmt, imports) if fmt in ("text", "json") else None


def run() -> None:
    started = time.monotonic()
    from ..kernel.secrets import guard_streams

    # Before anything prints: every byte this process writes passes the secret scrubber.
    guard_streams()
    args = sys.argv[1:]
    completing = "_HOOKRUNNER_COMPLETE" in os.environ  # shell completion is typer's job
    if args[:2] == ["claude", "hook"] and not completing:
        import gc

        # What these imports build lives until the process ends: nothing for the collector.
        gc.disable()
        from .claude_hook import main as hook
        from .claude_hook import plain_args

        gc.enable()

        call = plain_args(args[2:])
        if call is not None:
            sys.exit(hook(call, started))
        if not {"-h", "--help"} & set(args[2:]):
            from .claude_hook import usage

            sys.exit(usage(args[2:]))
    plain = plain_validate(args[1:]) if args[:1] == ["validate"] and not completing else None
    if plain is not None:
        from pathlib import Path

        from .validation import main

        try:
            code = main([Path(f) for f in plain[0]], plain[1], plain[2])
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
        sys.exit(code)
    from .app import run as full

    full()


if __name__ == "__main__":
    run()
