"""``hookrunner init [DIR]``: scaffold a project that runs at once (hooks + pipeline + data)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import typer

from ._common import INVALID


def scaffold() -> dict[str, str]:
    """The project template shipped in ``configs/init/`` (package ``hookrunner.configs``)."""
    try:
        root = resources.files("hookrunner.configs").joinpath("init")
        if not root.is_dir():
            raise FileNotFoundError(root)
    except (ModuleNotFoundError, FileNotFoundError):
        from ..kernel.schema import checkout_folder

        folder = checkout_folder("configs")
        if folder is None:
            raise
        root = folder / "init"
    files: dict[str, str] = {}

    def walk(folder, prefix: str) -> None:
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if item.name.startswith(("_", ".")):
                continue
            if item.is_dir():
                walk(item, f"{prefix}{item.name}/")
            else:
                files[prefix + item.name] = item.read_text("utf-8")

    walk(root, "")
    return files


def command(
    directory: Path = typer.Argument(Path("."), help="Where to create the project."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Create pipeline.yaml, hooks.yaml, a nodes and a hooks module, and sample data."""
    from ..services.storage import atomic_write_bytes

    if directory.exists() and not directory.is_dir():
        typer.echo(
            f"error: {directory} is a file; name a folder to create the project in", err=True
        )
        raise typer.Exit(INVALID)
    files = scaffold()
    existing = [name for name in files if (directory / name).exists()]
    if existing and not force:
        typer.echo(
            f"error: {', '.join(str(directory / n) for n in existing)} already exist(s) "
            "(pass --force to overwrite)",
            err=True,
        )
        raise typer.Exit(INVALID)
    schema = _schema_location(directory)
    for name, text in files.items():
        body = text.replace("{schema}", schema).replace("{dir}", str(directory))
        try:
            atomic_write_bytes(directory / name, body.encode())
        except OSError as exc:
            typer.echo(f"error: cannot write {directory / name}: {exc.strerror or exc}", err=True)
            raise typer.Exit(INVALID) from None
        typer.echo(f"created {directory / name}")
    typer.echo(f"next: hookrunner run {directory / 'pipeline.yaml'}")


def _schema_location(directory: Path) -> str:
    """A relative path to the schemas when run inside a hookrunner checkout, else the URL."""
    from ..kernel.schema import checkout_folder

    repo = checkout_folder("schemas")
    if repo is not None:
        import os

        try:
            return os.path.relpath(repo, directory.resolve())
        except ValueError:
            return str(repo)
    return "https://hookrunner.dev/schemas"
