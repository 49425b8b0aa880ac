"""The ``hookrunner`` console entry point.

A shell's Tab (``_HOOKRUNNER_COMPLETE=complete_*``) is answered by ``complete``, a plain
``hookrunner validate [FILES...] [--format text|json] [--no-import]`` (what editors and
pre-commit run on every save) goes straight to ``hookrunner.validation``, a plain
``hookrunner claude hook`` (what Claude Code runs for every hook event) to ``claude_hook``,
and a plain ``hookrunner run [PIPELINE] [OPTIONS]`` (the quick start) to ``running.execute``:
importing the CLI framework (typer, and the pydantic it uses to convert options) would cost
more than the work itself. Everything else, including ``--help``, ``--watch``, options that
``parser_hook`` hooks add and anything these parsers do not recognise or cannot convert, goes
to the typer app, which has the final word.
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


# ``hookrunner run``'s options: (keyword of running.execute, kind). "flag" takes no value,
# "list" repeats; the typer command (commands/run.py) declares the same options.
RUN_OPTIONS: dict[str, tuple[str, str]] = {
    "--runner": ("runner", "str"),
    "--workers": ("workers", "int"),
    "--address": ("address", "str"),
    "--tags": ("tags", "list"),
    "--nodes": ("nodes", "list"),
    "--from-nodes": ("from_nodes", "list"),
    "--to-nodes": ("to_nodes", "list"),
    "--params": ("params", "list"),
    "--params-new": ("params_new", "flag"),
    "--resume": ("resume", "str"),
    "--store": ("store", "path"),
    "--quiet": ("quiet", "flag"),
    "-q": ("quiet", "flag"),
    "--hooks": ("hooks", "paths"),
    "--traceback": ("full_traceback", "flag"),
}


def plain_run(args: list[str]) -> dict[str, object] | None:
    """``running.execute``'s keyword arguments when ``args`` (after ``run``) are at most one
    pipeline file (none: ``execute``'s default, ./pipeline.yaml) and options from
    ``RUN_OPTIONS`` with valid values; else None."""
    from pathlib import Path

    found: dict[str, object] = {}
    pipeline: str | None = None
    i = 0
    while i < len(args):
        word = args[i]
        name, eq, value = word.partition("=")
        if not word.startswith("-") or word == "-":
            if pipeline is not None:
                return None  # a second positional: typer says what is wrong
            pipeline = word
            i += 1
            continue
        spec = RUN_OPTIONS.get(name if word.startswith("--") else word)
        if spec is None:
            return None  # --help, --watch, a parser_hook option, a typo: typer's job
        key, kind = spec
        if kind == "flag":
            if eq:
                return None
            found[key] = True
            i += 1
            continue
        if not eq:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
            i += 1
        i += 1
        if kind == "int":
            try:
                found[key] = int(value)
            except ValueError:  # typer says what is wrong with it
                return None
        elif kind in ("list", "paths"):
            items = found.setdefault(key, [])
            assert isinstance(items, list)
            items.append(Path(value) if kind == "paths" else value)
        else:
            found[key] = Path(value) if kind == "path" else value
    if pipeline is not None:
        found["pipeline"] = Path(pipeline)
    return found


def run() -> None:
    started = time.monotonic()
    from ..kernel.secrets import guard_streams

    # Before anything prints: every byte this process writes passes the secret scrubber.
    guard_streams()
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
    if args[:1] == ["run"] and not completing:
        options = plain_run(args[1:])
        if options is not None:
            sys.exit(_run(args, options))
    plain = plain_validate(args[1:]) if args[:1] == ["validate"] and not completing else None
    if plain is not None:
        from pathlib import Path

        from .cli_hooks import conclude
        from .validation import main

        try:
            code = main([Path(f) for f in plain[0]], plain[1], plain[2])
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            code = 130
        sys.exit(conclude(code))
    from .app import run as full

    full()


def _run(argv: list[str], options: dict[str, object]) -> int:
    """``hookrunner run`` as ``app.main`` runs it: the exit code, then the pending
    ``after_command_run`` events (``cli_hooks``)."""
    from .cli_hooks import conclude, set_argv
    from .running import execute

    set_argv(argv)
    try:
        code = execute(**options)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    return conclude(code)


if __name__ == "__main__":
    run()
