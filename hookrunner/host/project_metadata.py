"""``project_metadata``, the CLI hooks' first argument, in the shape of Kedro's ``ProjectMetadata``.

Kedro passes a ``ProjectMetadata`` named tuple (``config_file``, ``package_name``,
``project_name``, ``project_path``, ``source_dir``, ``kedro_init_version``, ``tools``,
``example_pipeline``), read from ``pyproject.toml``'s ``[tool.kedro]``. hookrunner passes the
same fields (read from the project folder's ``pyproject.toml`` when it has a ``[tool.kedro]``
table, else derived from the folder) plus its own (``manifests``, ``pipeline``,
``hookrunner_version``) as attributes, and ``meta["project_path"]`` still reads a field by
name as the earlier mapping did.

The object is an instance of Kedro's own ``ProjectMetadata`` when ``kedro.framework.startup``
is already imported (a hook that can check for Kedro's class has imported it); importing it
here would cost a third of a second on every command, so otherwise it is an instance of the
named tuple below, which has the same fields in the same order.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from ..kernel.version import __version__

EXTRAS = ("manifests", "pipeline", "hookrunner_version")


class ProjectMetadata(NamedTuple):
    """Kedro's ``kedro.framework.startup.ProjectMetadata`` fields, for when Kedro is not loaded."""

    config_file: Path
    package_name: str
    project_name: str
    project_path: Path
    source_dir: Path
    kedro_init_version: str
    tools: list[str] | None
    example_pipeline: str | None


class _ByName:
    """Fields and extras by name, as the mapping ``project_metadata`` used to be."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return getattr(self, key)
            except AttributeError:
                raise KeyError(key) from None
        return tuple.__getitem__(self, key)  # type: ignore[call-overload]

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def keys(self) -> list[str]:
        return [*self._fields, *(k for k in EXTRAS if hasattr(self, k))]  # type: ignore[attr-defined]

    def _asdict(self) -> dict[str, Any]:
        return {k: self[k] for k in self.keys()}


class _Metadata(_ByName, ProjectMetadata):
    pass


_KEDRO_CLASS: type | None = None


def _class() -> type:
    """Kedro's class (with the by-name access) when Kedro's startup module is loaded."""
    global _KEDRO_CLASS
    startup = sys.modules.get("kedro.framework.startup")
    kedro_cls = getattr(startup, "ProjectMetadata", None)
    if kedro_cls is None:
        return _Metadata
    if _KEDRO_CLASS is None or _KEDRO_CLASS.__bases__[1] is not kedro_cls:
        _KEDRO_CLASS = type("ProjectMetadata", (_ByName, kedro_cls), {"__module__": __name__})
    return _KEDRO_CLASS


def _kedro_table(config_file: Path) -> dict[str, Any]:
    try:
        with config_file.open("rb") as fh:
            table = tomllib.load(fh).get("tool", {}).get("kedro", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return table if isinstance(table, dict) else {}


def kedro_version() -> str:
    """The installed Kedro's version ("" without Kedro), without importing Kedro."""
    kedro = sys.modules.get("kedro")
    version = getattr(kedro, "__version__", None)
    return version if isinstance(version, str) else _installed_kedro()


@functools.cache
def _installed_kedro() -> str:
    """Asked once per process: reading the installed distributions costs milliseconds."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("kedro")
    except PackageNotFoundError:
        return ""


def package_name(project_path: Path, table: dict[str, Any] | None = None) -> str:
    """``[tool.kedro] package_name``, else the folder's name as a Python identifier."""
    if table is None:
        table = _kedro_table(project_path / "pyproject.toml")
    name = table.get("package_name")
    return str(name) if name else re.sub(r"\W+", "_", project_path.name).lower() or "project"


def make(project_path: str | os.PathLike[str], **extras: Any) -> Any:
    """The metadata of the project in ``project_path`` (``extras``: ``manifests``,
    ``pipeline``; ``hookrunner_version`` is added)."""
    path = Path(project_path).resolve()
    config_file = path / "pyproject.toml"
    table = _kedro_table(config_file)
    name = str(table.get("project_name") or path.name)
    package = package_name(path, table)
    meta = _class()(
        config_file=config_file,
        package_name=package,
        project_name=name,
        project_path=path,
        source_dir=(path / Path(str(table.get("source_dir", "src"))).expanduser()).resolve(),
        kedro_init_version=str(table.get("kedro_init_version") or kedro_version()),
        tools=table.get("tools"),
        example_pipeline=table.get("example_pipeline"),
    )
    for key, value in {**extras, "hookrunner_version": __version__}.items():
        object.__setattr__(meta, key, value)
    return meta
