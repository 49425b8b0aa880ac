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
                # Dotfiles ship without their dot (package data globs skip them).
                name = "." + item.name if item.name in DOTFILES else item.name
                files[prefix + name] = item.read_text("utf-8")

    walk(root, "")
    return files


DOTFILES = ("gitignore",)


def command(
    directory: Path = typer.Argument(Path("."), help="Where to create the project."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    from_kedro: Path | None = typer.Option(
        None,
        "--from-kedro",
        help="Write only hooks.yaml, with the HOOKS of this Kedro project's settings.py "
        "(read, never run) in Kedro's order.",
    ),
) -> None:
    """Create pipeline.yaml, hooks.yaml, a nodes and a hooks module, and sample data."""
    from ..services.storage import atomic_write_bytes

    if directory.exists() and not directory.is_dir():
        typer.echo(
            f"error: {directory} is a file; name a folder to create the project in", err=True
        )
        raise typer.Exit(INVALID)
    if from_kedro is not None:
        _from_kedro(from_kedro, directory, force)
        return
    files = scaffold()
    # An existing .gitignore is kept and given the lines it lacks.
    ignore = directory / ".gitignore"
    if ignore.is_file():
        have = ignore.read_text("utf-8")
        missing = [
            line
            for line in files[".gitignore"].splitlines()
            if line and not line.startswith("#") and line not in have.splitlines()
        ]
        files[".gitignore"] = have + ("" if have.endswith("\n") or not have else "\n")
        files[".gitignore"] += "".join(line + "\n" for line in missing)
    existing = [name for name in files if (directory / name).exists() and name != ".gitignore"]
    if existing and not force:
        typer.echo(
            f"error: {', '.join(str(directory / n) for n in existing)} already exist(s) "
            "(pass --force to overwrite)",
            err=True,
        )
        raise typer.Exit(INVALID)
    from ..kernel.schema import SCHEMA_NAMES

    schemas = {name: _schema_location(directory, name) for name in SCHEMA_NAMES}
    for name, text in files.items():
        body = text.replace("{dir}", str(directory))
        for schema, where in schemas.items():
            body = body.replace("{" + schema + "_schema}", where)
        try:
            atomic_write_bytes(directory / name, body.encode())
        except OSError as exc:
            typer.echo(f"error: cannot write {directory / name}: {exc.strerror or exc}", err=True)
            raise typer.Exit(INVALID) from None
        typer.echo(f"created {directory / name}")
    typer.echo(f"next: hookrunner run {directory / 'pipeline.yaml'}")


def _schema_file(name: str) -> Path | None:
    """The shipped ``<name>.schema.json`` on disk: installed package data, else the checkout."""
    from ..kernel.schema import checkout_folder

    filename = f"{name}.schema.json"
    try:
        found = Path(str(resources.files("hookrunner.schemas").joinpath(filename)))
        if found.is_file():
            return found
    except (ModuleNotFoundError, FileNotFoundError, TypeError):
        pass
    folder = checkout_folder("schemas")
    return folder / filename if folder is not None and (folder / filename).is_file() else None


def _schema_location(directory: Path, name: str) -> str:
    """What the ``$schema`` comment of the scaffold names, so that an editor finds it: the
    shipped schema file by a path relative to the project, or (no file on disk, or another
    drive) ``hookrunner schema NAME`` written beside the project's files."""
    import os

    from ..kernel.schema import schema_text
    from ..services.storage import atomic_write_bytes

    shipped = _schema_file(name)
    if shipped is not None:
        try:
            return os.path.relpath(shipped, directory.resolve())
        except ValueError:  # another drive (Windows)
            pass
    beside = directory / f"{name}.schema.json"
    atomic_write_bytes(beside, schema_text(name).encode())
    return beside.name


def _from_kedro(project: Path, directory: Path, force: bool) -> None:
    """``init --from-kedro``: port settings.py's hooks into ``directory/hooks.yaml``."""
    from ..pipeline.kedro_settings import PortError, read_settings, render
    from ..services.storage import atomic_write_bytes

    try:
        ported = read_settings(project)
    except PortError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(INVALID) from None
    out = directory / "hooks.yaml"
    if out.exists() and not force:
        typer.echo(f"error: {out} already exists (pass --force to overwrite)", err=True)
        raise typer.Exit(INVALID)
    for line, column, message in ported.warnings:
        typer.echo(f"warning: {ported.settings}:{line}:{column}: {message}", err=True)
    try:
        text = render(ported, _schema_location(directory, "hooks"))
        atomic_write_bytes(out, text.encode())
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(INVALID) from None
    typer.echo(f"created {out} ({len(ported.hooks)} hooks from {ported.settings})")
    if ported.package:
        source = ported.settings.parent.parent
        typer.echo(
            f"note: {ported.package} must be importable where hookrunner runs: install the "
            f"project (pip install -e {project}) or put {source} on PYTHONPATH"
        )
