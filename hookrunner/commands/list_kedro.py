"""``hookrunner list --kedro PROJECT``: the order ``kedro run`` calls the project's hooks in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ._common import dump_json, fail_invalid, fail_usage, table_console


def show(project: Path, env: str | None, event: str | None, fmt: str) -> None:
    from ..kedro.listing import KedroMissing, SettingsFailed, kedro_listing
    from ..kernel.errors import ValidationError

    if not project.is_dir():
        fail_usage(f"--kedro {project}: no such folder")
    try:
        listing = kedro_listing(project, env)
    except KedroMissing as exc:
        fail_usage(f"--kedro needs Kedro: pip install 'hookrunner[kedro]' ({exc})")
    except SettingsFailed as exc:
        fail_usage(str(exc))
    except ValidationError as exc:
        fail_invalid(exc)
    except RuntimeError as exc:  # Kedro: not a Kedro project (no [tool.kedro])
        fail_usage(f"--kedro {project}: {exc}")
    rows = [r for r in listing.rows if event is None or r["event"] == event]
    if event is not None and not rows and event not in _events(listing):
        fail_usage(f"unknown event {event!r}")
    if fmt == "json":
        dump_json(
            {
                "project": str(listing.project),
                "env": listing.env,
                "settings": listing.settings_file,
                "manifests": [s.file for s in listing.manifests],
                "hooks": rows,
            }
        )
        return
    _table(listing, rows)


def _events(listing: Any) -> set[str]:
    from ..kernel.events import BUILTIN

    return set(BUILTIN) | {r["event"] for r in listing.rows}


def _table(listing: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    console = table_console()
    where = ", ".join(s.file for s in listing.manifests) or "none (no hooks.yaml in conf/)"
    console.print(f"kedro run in {listing.project} (env {listing.env or 'default'})")
    console.print(f"settings.py: {listing.settings_file or '?'}")
    console.print(f"manifests: {where}")
    table = Table(title_justify="left")
    for col in ("#", "event", "name", "from", "priority", "order", "enabled", "ParallelRunner"):
        table.add_column(col)
    table.add_column("source")
    position: dict[str, int] = {}
    for r in rows:
        if not r["fired"]:
            continue
        position[r["event"]] = position.get(r["event"], 0) + 1
        source = r["source"] + (f" (overrides {r['overrides']})" if r["overrides"] else "")
        origin = r["origin"] + (f", {r['kedro']} Kedro's" if r["kedro"] else "")
        table.add_row(
            str(position[r["event"]]),
            r["event"],
            r["name"],
            origin,
            "" if r["priority"] is None else str(r["priority"]),
            r["order"],
            "yes" if r["enabled"] else "no",
            r["parallel"] or "",
            source,
        )
    console.print(table)
    idle = [r for r in rows if not r["fired"]]
    if idle:
        typer.echo("not fired by kedro run:")
        for r in idle:
            typer.echo(f"  {r['name']} ({r['event']}, {r['source']})")
