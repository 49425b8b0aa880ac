"""``hookrunner emit``: fire one event through the manifests from a shell or a script."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ..kernel.errors import UnknownEvent, quoted, raised, shorten
from ._common import (
    FAILED,
    FORMAT_OPTION,
    HOOKS_OPTION,
    INVALID,
    OK,
    check_format,
    dump_json,
    fail_usage,
    load_runner,
)


def _data(raw: str | None) -> dict:
    if raw is None:
        return {}
    text = sys.stdin.read() if raw == "-" else raw
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        source = "stdin" if raw == "-" else "--data"
        fail_usage(f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    if not isinstance(data, dict):
        fail_usage("--data must be a JSON object of event arguments")
    return data


def _check_arguments(runner, event: str, kwargs: dict) -> None:
    """A misspelled argument would silently reach no hook: refuse it with a suggestion."""
    from ..kernel.errors import did_you_mean
    from ..kernel.events import RESERVED_ARGS

    spec = runner.registry.events.get(event)
    if spec is None:
        return  # emit reports the unknown event
    known = [a for a in spec.all_args if a not in RESERVED_ARGS]
    for key in kwargs:
        if key in RESERVED_ARGS or (key not in known and not spec.open_args):
            hint = did_you_mean(key, known)
            fail_usage(
                f"{event} has no argument {quoted(key)}"
                + (f" ({hint})" if hint else f"; its arguments: {', '.join(known) or 'none'}")
            )


def command(
    event: str = typer.Argument(..., help="The event to emit."),
    session: str = typer.Option(None, "--session", help="Session id (fills session_id)."),
    data: str = typer.Option(
        None, "--data", help="Event arguments as a JSON object, or - for stdin."
    ),
    hooks: list[Path] = HOOKS_OPTION,
    fmt: str = FORMAT_OPTION,
) -> None:
    """Emit EVENT; exit 2 when a hook vetoes it (reason on stderr), 1 when a hook failed."""
    check_format(fmt)
    kwargs = _data(data)
    if session is not None:
        kwargs["session_id"] = session
    runner = load_runner(hooks)
    _check_arguments(runner, event, kwargs)
    try:
        result = runner.emit(event, **kwargs)
    except UnknownEvent as exc:
        fail_usage(str(exc))
    except Exception as exc:  # a hook with on_error: raise
        typer.echo(f"error: {event}: a hook raised {raised(exc)}", err=True)
        raise typer.Exit(FAILED) from None
    if fmt == "json":
        dump_json(result.as_dict())
    else:
        for r in result.results:
            state = "ok" if r.ok else f"FAILED ({raised(r.error)})"
            typer.echo(f"{r.name}: {state} in {r.duration_ms:.2f} ms")
        if result.value is not None:
            typer.echo(f"value: {json.dumps(result.as_dict()['value'])}")
        if result.changes:
            typer.echo(f"changes: {json.dumps(result.as_dict()['changes'])}")
        if not result.results:
            typer.echo(f"{event}: no hooks ran")
    if result.vetoed:
        typer.echo(f"vetoed: {shorten(result.reason, 2000)}", err=True)
        raise typer.Exit(INVALID)
    for r in result.failures:
        typer.echo(f"hook {r.name!r} failed: {raised(r.error)}", err=True)
    raise typer.Exit(FAILED if result.failures else OK)
