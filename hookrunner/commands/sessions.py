"""``hookrunner sessions list|show``: read the session store (rich tables or JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from ._common import FORMAT_OPTION, INVALID, check_format, dump_json, table_console
from .help import Command

app = typer.Typer(
    help="Inspect recorded sessions (runs and host-application sessions).",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help text, like the main app's
)

STORE_OPTION = typer.Option(
    None,
    "--store",
    help="Session store (default: .hookrunner/sessions.db in the current directory or the "
    "nearest folder above it that has a .hookrunner/).",
)


def _open(store: Path | None):  # -> Store
    from ..services.sessions.store import StoreError, find_store, open_store

    db = open_store(store) if store is not None else find_store()
    if not db.path.is_file():
        where = (
            str(store)
            if store is not None
            else f"{Path('.hookrunner') / 'sessions.db'} in {Path.cwd()} or a folder above it"
        )
        typer.echo(
            f"error: no session store at {where} (run a pipeline first, or pass --store PATH)",
            err=True,
        )
        raise typer.Exit(INVALID)
    try:
        return db.connect()
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(INVALID) from None


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _duration(s: dict[str, Any]) -> str:
    if s.get("ended") is None:
        return "-"
    return f"{s['ended'] - s['started']:.2f}s"


@app.command("list", cls=Command)
def list_sessions(
    store: Path = STORE_OPTION,
    limit: int = typer.Option(20, "--limit", help="Newest N sessions (0: all)."),
    fmt: str = FORMAT_OPTION,
) -> None:
    """List sessions, newest first."""
    check_format(fmt)
    db = _open(store)
    rows = db.sessions(limit or None)
    db.close()
    if fmt == "json":
        dump_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"sessions in {db.path}", title_justify="left")
    for col in (
        "id",
        "kind",
        "status",
        "started (UTC)",
        "duration",
        "checkpoints",
        "hook calls",
        "failed",
        "source",
    ):
        table.add_column(col)
    for s in rows:
        color = {"ok": "green", "failed": "red", "interrupted": "yellow", "crashed": "red"}.get(
            s["status"], ""
        )
        table.add_row(
            s["id"],
            s["kind"],
            f"[{color}]{s['status']}[/]" if color else s["status"],
            _when(s["started"]),
            _duration(s),
            str(s["checkpoints"]),
            str(s["calls"]),
            str(s["failures"]),
            s["source"] or "",
        )
    table_console(highlight=False).print(table)
    if not rows:
        typer.echo("no sessions recorded yet")


@app.command("show", cls=Command)
def show_session(
    session_id: str = typer.Argument(
        ..., help="A session id, a unique prefix of one, or last (the newest)."
    ),
    store: Path = STORE_OPTION,
    fmt: str = FORMAT_OPTION,
    calls: bool = typer.Option(False, "--calls", help="List every hook call, not just totals."),
    html: Path = typer.Option(
        None,
        "--html",
        help="Write the session's timeline (nodes per lane, hook calls, slowest hooks) to this "
        "self-contained HTML file.",
    ),
    full_traceback: bool = typer.Option(
        False, "--traceback", help="Show every frame of a failure's traceback."
    ),
) -> None:
    """Show one session (an id, a unique prefix, or last): metadata, feedback, checkpoints,
    an agent's activity, its hook calls and what made it fail."""
    from ..services.sessions.store import StoreError

    check_format(fmt)
    db = _open(store)
    try:
        s = db.session(session_id)
    except StoreError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(INVALID) from None
    sid = s["id"]
    if html is not None:
        _write_html(db, sid, html)
        return
    data = {
        "session": s,
        "metadata": db.metadata(sid),
        "feedback": db.feedback(sid),
        "checkpoints": db.checkpoints(sid),
        "hooks": db.hook_stats(sid),
        # When and where each node ran (JSON only: a run may have thousands).
        "nodes": db.nodes(sid) if fmt == "json" else [],
        # What an agent did (its tool uses, prompts...), one row per hook event it fired.
        "activity": db.activity(sid),
        # Every call only where it is shown; the summary needs just the first failures.
        "calls": db.hook_calls(sid) if calls or fmt == "json" else [],
        "failed": db.hook_calls(sid, failed_only=True, limit=10),
    }
    db.close()
    if fmt == "json":
        dump_json(data)
        return
    from rich.table import Table

    console = table_console(highlight=False)
    console.print(f"[bold]session {sid}[/] ({s['kind']}) — {s['status']}")
    console.print(
        f"started {_when(s['started'])} UTC, ended {_when(s['ended'])}, took {_duration(s)}"
    )
    if s.get("source"):
        console.print(f"source: {s['source']}")
    if s.get("resumed_from"):
        console.print(f"resumed from: {s['resumed_from']}")
    summary = s.get("summary") or {}
    if summary.get("error"):
        console.print(f"error: {summary['error']}", style="red", markup=False, highlight=False)
    failure = summary.get("failure") or {}
    trace = failure.get("traceback_full" if full_traceback else "traceback") or ""
    if trace.strip() and trace.strip() != failure.get("error"):
        console.print(trace, markup=False, highlight=False)
        if not full_traceback:
            console.print("(project frames only; --traceback shows every frame)")
    if data["metadata"]:
        t = Table(title="metadata", title_justify="left")
        t.add_column("key")
        t.add_column("value")
        for k, v in data["metadata"].items():
            t.add_row(k, str(v))
        console.print(t)
    if data["feedback"]:
        t = Table(title="feedback", title_justify="left")
        for col in ("at (UTC)", "rating", "comment"):
            t.add_column(col)
        for f in data["feedback"]:
            t.add_row(_when(f["ts"]), str(f.get("rating")), str(f.get("comment") or ""))
        console.print(t)
    if data["checkpoints"]:
        t = Table(title="checkpoints", title_justify="left")
        for col in ("at (UTC)", "node", "data"):
            t.add_column(col)
        for c in data["checkpoints"]:
            t.add_row(_when(c["ts"]), c["node"] or "", str(c["data"]))
        console.print(t)
    if data["activity"]:
        t = Table(title="activity", title_justify="left")
        for col in ("at (UTC)", "event", "what", "outcome", "hooks ms"):
            t.add_column(col)
        for a in data["activity"]:
            t.add_row(
                _when(a["ts"]),
                a["event"],
                a["subject"] or "",
                a["outcome"] or "",
                f"{a['duration_ms']:.2f}",
            )
        console.print(t)
    t = Table(title="hook calls", title_justify="left")
    for col in ("event", "hook", "calls", "failed", "total ms", "max ms"):
        t.add_column(col)
    for h in data["hooks"]:
        t.add_row(
            h["event"],
            h["hook"],
            str(h["calls"]),
            str(h["failures"] or 0),
            f"{h['total_ms']:.2f}",
            f"{h['max_ms']:.2f}",
        )
    console.print(t)
    for c in data["failed"]:
        console.print(f"[red]{c['event']} / {c['hook']}: {c['error']}[/]")
    if calls:
        t = Table(title="every hook call", title_justify="left")
        # A distributed run's calls name the worker they ran on (blank: the driver).
        remote = any(c.get("worker") for c in data["calls"])
        for col in ("event", "hook", "ok", "ms", "error") + (("worker",) if remote else ()):
            t.add_column(col)
        for c in data["calls"]:
            t.add_row(
                c["event"],
                c["hook"],
                "yes" if c["ok"] else "no",
                f"{c['duration_ms']:.3f}",
                c["error"] or "",
                *((c.get("worker") or "",) if remote else ()),
            )
        console.print(t)


def _write_html(db: Any, sid: str, path: Path) -> None:
    """The timeline page, written atomically (a reader never sees half a file)."""
    from ..services.sessions.timeline import render, timeline
    from ..services.storage import atomic_write_bytes

    page = render(timeline(db, sid))
    db.close()
    try:
        atomic_write_bytes(path, page.encode("utf-8"))
    except OSError as exc:
        typer.echo(f"error: cannot write {path}: {exc.strerror or exc}", err=True)
        raise typer.Exit(INVALID) from None
    typer.echo(f"timeline of session {sid} written to {path}")
