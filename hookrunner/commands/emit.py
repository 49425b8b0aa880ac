"""``hookrunner emit``: fire one event through the manifests from a shell or a script."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from ..kernel.errors import (
    MESSAGE_MAX,
    EventArgumentError,
    UnknownEvent,
    raised,
    shorten,
    text_of,
)
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

if TYPE_CHECKING:
    from ..kernel.runtime.results import EmitResult


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


def command(
    event: str = typer.Argument(..., help="The event to emit."),
    session: str = typer.Option(None, "--session", help="Session id (fills session_id)."),
    data: str = typer.Option(
        None, "--data", help="Event arguments as a JSON object, or - for stdin."
    ),
    hooks: list[Path] = HOOKS_OPTION,
    fmt: str = FORMAT_OPTION,
    full_traceback: bool = typer.Option(
        False, "--traceback", help="When a hook raises, print every frame of its traceback."
    ),
) -> None:
    """Emit EVENT; exit 2 when a hook vetoes it (reason on stderr) or an argument does not
    fit the event, 1 when a hook failed."""
    check_format(fmt)
    kwargs = _data(data)
    if session is not None:
        kwargs["session_id"] = session
    runner = load_runner(hooks)
    seen: list[EmitResult] = []  # what ran before a hook raised (the observer sees it)
    previous = runner.registry.state.observer  # a tracer's, when the emit is traced

    def observe(result: EmitResult) -> None:
        seen.append(result)
        if previous is not None:
            previous(result)

    runner.set_observer(observe)
    try:
        result = runner.emit(event, **kwargs)
    except UnknownEvent as exc:
        fail_usage(str(exc))
    except EventArgumentError as exc:
        given = "--session" if session is not None and "session_id" in exc.unknown else "--data"
        fail_usage(f"{given}: {exc}" if exc.unknown or data is not None else str(exc))
    except Exception as exc:  # a hook with on_error: raise
        _raised(exc, event, seen, fmt, full_traceback)
    if fmt == "json":
        dump_json(result.as_dict())
    else:
        for r in result.results:
            if r.ok and r.value is False and result.vetoed:
                state = f"vetoed ({result.reason})" if result.reason else "vetoed"
            elif r.ok:
                state = "ok"
            else:
                state = "FAILED"  # why: below, on stderr (a command's output included)
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


def _raised(exc: Exception, event: str, seen: list[EmitResult], fmt: str, full: bool) -> NoReturn:
    """A hook raised out of the emit (``on_error: raise``): name it, where it is declared,
    and the traceback (the project's frames; ``--traceback``: all); JSON says the same."""
    from ..kernel.blame import culprit
    from ..kernel.frames import full_traceback, short_traceback

    who = culprit(exc)
    text = raised(exc)
    head = f"error: {who} raised {text}" if who else f"error: {event}: a hook raised {text}"
    trace = full_traceback(exc) if full else short_traceback(exc)
    typer.echo(head, err=True)
    if trace.strip() != text:
        typer.echo(trace, err=True)
    if fmt == "json":
        last: dict[str, Any] = seen[-1].as_dict() if seen else {"event": event, "results": []}
        last["error"] = {
            **(who.as_dict() if who else {"event": event}),
            "type": type(exc).__name__,
            "message": shorten(text_of(exc), MESSAGE_MAX),
            "traceback": short_traceback(exc),
            "traceback_full": full_traceback(exc),
        }
        dump_json(last)
    raise typer.Exit(FAILED) from None
