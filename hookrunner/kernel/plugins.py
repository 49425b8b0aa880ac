"""Entry-point plugins: installed distributions that ship hooks (SPEC §2 ``plugins:``).

A distribution declares ``[project.entry-points."hookrunner.hooks"]``; each entry names a hooks
object (an instance, a hooks class or a module whose functions are named after events) or a
manifest file inside a package (``my_plugin:hooks.yaml``). A manifest with ``plugins:
{discover: true}`` turns discovery on; ``plugins.disable`` lists plugin (entry point) or
distribution names to skip, Kedro's ``DISABLE_HOOKS_FOR_PLUGINS`` in YAML.

Plugins load after the manifests' own hooks, sorted by plugin name, so their position in
``hookrunner list`` does not depend on the order ``sys.path`` happens to list distributions.
A name the manifests already use wins over a plugin's hook of that name: the project, not the
installed package, has the last word. This module only finds plugins; the manifest loader
adds their hooks (``Loader.add_plugins``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

GROUP = "hookrunner.hooks"
# Kedro's entry-point groups: the pipeline hooks, then the CLI hooks (kedro.framework.hooks,
# kedro.framework.cli.hooks); ``plugins: {kedro: true}`` loads both.
KEDRO_GROUPS = ("kedro.hooks", "kedro.cli_hooks")
MANIFEST_SUFFIXES = (".yaml", ".yml")
_OURS = "hookrunner."  # our own kedro.hooks entry point (the integration for kedro run)


@dataclass(frozen=True)
class Plugin:
    """One entry point of the ``hookrunner.hooks`` group."""

    name: str
    dist: str | None
    value: str

    @property
    def is_manifest(self) -> bool:
        return self.value.endswith(MANIFEST_SUFFIXES)


def _norm(name: str) -> str:
    """Distribution names compare like pip compares them (``My_Plugin`` == ``my-plugin``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def discover(disabled: Iterable[str] = ()) -> list[Plugin]:
    """The plugins to load (not named by ``disabled``), sorted by plugin name."""
    from importlib.metadata import entry_points

    off = {_norm(n) for n in disabled}
    found: dict[tuple[str, str], Plugin] = {}
    for ep in entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist is not None else None
        # The same distribution may sit on sys.path twice; the first one found is imported.
        found.setdefault((ep.name, ep.value), Plugin(ep.name, dist, ep.value))
    plugins = sorted(found.values(), key=lambda p: (p.name, p.dist or ""))
    return [p for p in plugins if _norm(p.name) not in off and _norm(p.dist or "") not in off]


def discover_kedro(disabled: Iterable[str] = ()) -> list[Plugin]:
    """Kedro's plugins in the order Kedro *calls* them.

    Kedro registers each group's entry points with pluggy in ``importlib.metadata``'s
    distribution order (skipping a name already registered), and pluggy calls the last
    registered first: so the list is that registration order, reversed. An object listed in
    both groups (kedro-telemetry's) is one plugin. ``disabled`` holds entry point or
    distribution names (Kedro's ``DISABLE_HOOKS_FOR_PLUGINS``), compared as pip does.

    hookrunner's own ``kedro.hooks`` entry point (``hookrunner.kedro``: the manifest inside
    ``kedro run``) is not a plugin here: under hookrunner the manifests are loaded already."""
    from importlib.metadata import distributions

    off = {_norm(n) for n in disabled}
    found: dict[tuple[str, str], Plugin] = {}
    for group in KEDRO_GROUPS:
        names: set[str] = set()
        registered: list[Plugin] = []
        for dist in list(distributions()):
            for ep in dist.entry_points:
                if ep.group != group or ep.name in names or ep.value.startswith(_OURS):
                    continue
                names.add(ep.name)
                registered.append(Plugin(ep.name, dist.metadata["Name"], ep.value))
        for plugin in reversed(registered):
            found.setdefault((plugin.name, plugin.value), plugin)
    return [
        p for p in found.values() if _norm(p.name) not in off and _norm(p.dist or "") not in off
    ]


def manifest_file(plugin: Plugin) -> Path | None:
    """Where ``package:relative/path.yaml`` points, without importing the package (nor its
    parents: ``importlib.util.find_spec("a.b")`` would import ``a``)."""
    from importlib.machinery import PathFinder
    from importlib.util import find_spec

    package, _, rel = plugin.value.partition(":")
    parts = package.strip().split(".")
    try:
        spec = find_spec(parts[0])
        for i in range(1, len(parts)):
            if spec is None or not spec.submodule_search_locations:
                return None
            spec = PathFinder.find_spec(
                ".".join(parts[: i + 1]), list(spec.submodule_search_locations)
            )
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        base = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin:
        base = Path(spec.origin).parent
    else:
        return None
    return base / rel.strip()
