"""Where a Kedro project's hooks manifests are, found through its own config loader.

The config loader knows the project's conf folder (``settings.CONF_SOURCE``, or
``--conf-source``: a folder, an archive, a URL), its base environment and the run's
environment (``--env``, ``$KEDRO_ENV``, else ``default_run_env``), so the manifests are found
where the project's other configuration is: ``<conf>/<base>/hooks.yml|yaml``, then
``<conf>/<env>/hooks.yml|yaml``. A project can name them otherwise with a ``hooks`` entry in
``CONFIG_LOADER_ARGS["config_patterns"]`` (globs, as Kedro's other patterns).

Every ``kedro run`` of every project with hookrunner installed comes through here (the
entry point calls ``sources`` once per session): it imports nothing and touches the disk
only to look into the two environment folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_PATTERNS = ("hooks.yml", "hooks.yaml")
SUFFIXES = (".yml", ".yaml")


class Source(NamedTuple):
    """One manifest file: its path (or, for a conf source that is not a local folder, the
    name problems are shown under) and its text when it was read through the loader's file
    system."""

    file: str
    env: str
    text: str | None = None


def environments(loader: Any) -> list[str]:
    """The loader's base environment, then the run's (once, when they are the same)."""
    base = getattr(loader, "base_env", None) or ""
    run = getattr(loader, "env", None) or getattr(loader, "default_run_env", None) or ""
    return [e for e in dict.fromkeys([base, run]) if e]


def patterns(loader: Any) -> list[str]:
    configured = (getattr(loader, "config_patterns", None) or {}).get("hooks")
    return list(configured or DEFAULT_PATTERNS)


def sources(loader: Any) -> list[Source]:
    """The manifests of the loader's environments, base first (an environment's files
    override base's hooks by name); [] when there are none or the loader has no conf folder
    (a custom loader without ``conf_source``)."""
    conf_source = getattr(loader, "conf_source", None)
    if not conf_source:
        return []
    envs = environments(loader)
    globs = patterns(loader)
    if getattr(loader, "_protocol", "file") != "file" and hasattr(loader, "_fs"):
        return _remote(loader, str(conf_source), envs, globs)
    root = Path(conf_source)
    found: list[Source] = []
    for env in envs:
        folder = root / env
        if not folder.is_dir():
            continue
        seen: set[Path] = set()
        for pattern in globs:
            for path in sorted(folder.glob(pattern)):
                rel = path.relative_to(folder).parts
                if (
                    path.suffix in SUFFIXES
                    and path not in seen
                    and not any(part.startswith(".") for part in rel)
                    and path.is_file()
                ):
                    seen.add(path)
                    found.append(Source(str(path.resolve()), env))
    return found


def _remote(loader: Any, conf_source: str, envs: list[str], globs: list[str]) -> list[Source]:
    """Manifests in an archive or at a URL, read through the loader's fsspec file system."""
    fs = loader._fs
    found: list[Source] = []
    for env in envs:
        folder = str(loader._get_conf_env_path(env)).rstrip("/")
        seen: set[str] = set()
        for pattern in globs:
            for path in sorted(fs.glob(f"{folder}/{pattern}")):
                name = str(path)
                if not name.endswith(SUFFIXES) or name in seen or not fs.isfile(name):
                    continue
                seen.add(name)
                with fs.open(name, "rb") as fh:
                    text = fh.read().decode("utf-8")
                found.append(Source(f"{conf_source}!/{name.lstrip('/')}", env, text))
    return found
