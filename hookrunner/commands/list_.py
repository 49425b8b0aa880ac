"""``hookrunner list``: the effective order of every hook, as the dispatcher runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from ._common import (
    FORMAT_OPTION,
    HOOKS_OPTION,
    check_format,
    dump_json,
    load_pipeline_runner,
    load_runner,
    table_console,
)


def command(
    event: str = typer.Option(None, "--event", help="Only this event."),
    hooks: list[Path] = HOOKS_OPTION,
    fmt: str = FORMAT_OPTION,
    events: bool = typer.Option(False, "--events", help="List the event catalogue instead."),
    pipeline: Path = typer.Option(
        None,
        "--pipeline",
        help="The hooks a run of this pipeline file uses: its manifests, plugins and local "
        "hooks (--hooks files first, as for run).",
    ),
    kedro: Path = typer.Option(
        None,
        "--kedro",
        help="The order `kedro run` calls hooks in for the Kedro project at this path: its "
        "conf/*/hooks.yaml around settings.py's HOOKS and the installed plugins' hooks.",
    ),
    env: str = typer.Option(
        None, "--env", help="With --kedro: the configuration environment (default $KEDRO_ENV)."
    ),
) -> None:
    """Show hooks in effective order: tryfirst, then by priority, then trylast."""
    check_format(fmt)
    if events:
        _events(fmt, hooks)
        return
    if kedro is not None:
        from .list_kedro import show

        show(kedro, env, event, fmt)
        return
    if env is not None:
        from ._common import fail_usage

        fail_usage("--env needs --kedro PROJECT")
    runner = load_runner(hooks) if pipeline is None else load_pipeline_runner(pipeline, hooks)
    if event is not None and event not in runner.registry.events:
        from ._common import fail_usage

        fail_usage(str(runner.registry.unknown_event(event)))
    rows = [h.describe() for h in runner.hooks(event)]
    for r in rows:  # paths as `list` prints them everywhere: relative to here when below it
        r["source"] = _shown(r["source"])
        if r["overrides"]:
            r["overrides"] = _shown(r["overrides"])
    if fmt == "json":
        dump_json(rows)
        return
    from rich.table import Table

    table = Table(title=f"hooks (generation {runner.generation})", title_justify="left")
    for col in ("#", "event", "name", "priority", "order", "mode", "enabled", "source"):
        table.add_column(col)
    position: dict[str, int] = {}
    for r in rows:
        position[r["event"]] = position.get(r["event"], 0) + 1
        source = r["source"] + (f" (overrides {r['overrides']})" if r["overrides"] else "")
        table.add_row(
            str(position[r["event"]]),
            r["event"],
            r["name"],
            str(r["priority"]),
            r["order"],
            r["mode"],
            "yes" if r["enabled"] else "no",
            source,
        )
    table_console().print(table)


def _shown(source: str) -> str:
    from ..kernel.errors import shown_path

    file, sep, line = source.rpartition(":")
    return f"{shown_path(file)}:{line}" if sep and line.isdigit() else source


def _events(fmt: str, hooks: list[Path] | None) -> None:
    """The catalogue, then the custom events the manifests declare (``hooks.yaml`` here, if
    there is one, or the ``--hooks`` files). Nothing is imported to list them."""
    from ..kernel.errors import ValidationError
    from ..kernel.events import CATALOGUE
    from ..kernel.manifest import load_manifests
    from ._common import fail_invalid, manifest_paths

    paths = manifest_paths(hooks)
    events = list(CATALOGUE)
    if hooks or paths[0].is_file():
        manifest = load_manifests(list(paths))
        if manifest.problems:
            fail_invalid(ValidationError(manifest.problems))
        events += [e for name, e in manifest.events.items() if e.group == "custom"]
    rows: list[dict[str, Any]] = [
        {
            "name": e.name,
            "group": e.group,
            "style": e.style,
            "on_error": e.on_error,
            "args": [a for a in e.all_args],
            "doc": e.doc,
        }
        for e in events
    ]
    if fmt == "json":
        dump_json(rows)
        return
    from rich.table import Table

    table = Table(title="events")
    for col in ("event", "group", "style", "on_error", "arguments"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["group"], r["style"], r["on_error"], ", ".join(r["args"]))
    table_console().print(table)
