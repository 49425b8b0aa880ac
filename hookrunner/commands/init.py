"""``hookrunner init [DIR]``: scaffold a project that runs at once (hooks + pipeline + data)."""

from __future__ import annotations

from pathlib import Path

import typer

from ._common import INVALID

_FILES: dict[str, str] = {
    "pipeline.yaml": """\
# yaml-language-server: $schema={schema}/pipeline.schema.json
# Run it:  hookrunner run {dir}/pipeline.yaml
version: 1
params:
  min_amount: 10
catalog:
  orders: {{type: csv, path: data/orders.csv}}
  summary: {{type: json, path: out/summary.json}}
nodes:
  - name: keep_large
    func: project_nodes:keep_large
    inputs: [orders, "params:min_amount"]
    outputs: large_orders
    tags: [clean]
  - name: summarise
    func: project_nodes:summarise
    inputs: large_orders
    outputs: summary
    tags: [report]
""",
    "hooks.yaml": """\
# yaml-language-server: $schema={schema}/hooks.schema.json
version: 1
hooks:
  - name: timing                # a hooks class, written exactly like a Kedro one
    class: project_hooks:Timing
  - name: announce
    event: session_start
    call: project_hooks:announce
""",
    "project_nodes.py": '''\
"""Node functions: plain Python, one job each."""


def keep_large(orders, min_amount):
    return [o for o in orders if float(o["amount"]) >= min_amount]


def summarise(orders):
    total = sum(float(o["amount"]) for o in orders)
    return {"orders": len(orders), "total": round(total, 2)}
''',
    "project_hooks.py": '''\
"""Hooks for this project: each method or function names the event arguments it needs."""

import time


class Timing:
    def __init__(self):
        self.started = {}

    def before_node_run(self, node):
        self.started[node.name] = time.perf_counter()

    def after_node_run(self, node):
        ms = (time.perf_counter() - self.started.pop(node.name)) * 1e3
        print(f"[timing] {node.name}: {ms:.1f} ms")


def announce(session_id):
    print(f"[hooks] session {session_id} started")
''',
    "data/orders.csv": """\
id,customer,amount
1,ada,12.50
2,grace,7.00
3,alan,30.25
4,ada,9.99
5,grace,15.00
""",
}


def command(
    directory: Path = typer.Argument(Path("."), help="Where to create the project."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Create pipeline.yaml, hooks.yaml, a nodes and a hooks module, and sample data."""
    from ..storage import atomic_write_bytes

    existing = [name for name in _FILES if (directory / name).exists()]
    if existing and not force:
        typer.echo(
            f"error: {', '.join(str(directory / n) for n in existing)} already exist(s) "
            "(pass --force to overwrite)",
            err=True,
        )
        raise typer.Exit(INVALID)
    schema = _schema_location(directory)
    for name, text in _FILES.items():
        body = text.format(schema=schema, dir=directory) if name.endswith(".yaml") else text
        atomic_write_bytes(directory / name, body.encode())
        typer.echo(f"created {directory / name}")
    typer.echo(f"next: hookrunner run {directory / 'pipeline.yaml'}")


def _schema_location(directory: Path) -> str:
    """A relative path to the schemas when run inside a hookrunner checkout, else the URL."""
    repo = Path(__file__).resolve().parents[2] / "schemas"
    if repo.is_dir():
        import os

        try:
            return os.path.relpath(repo, directory.resolve())
        except ValueError:
            return str(repo)
    return "https://hookrunner.dev/schemas"
