"""Reading manifests: files, includes, env interpolation, custom events, override and forget.

The result is a ``Manifest``: typed hook declarations (``HookDecl``) in their final
declaration order, each still pointing at its document position. Nothing is imported here
(entry-point plugins are discovered, not imported); the registry resolves.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from . import schema
from .decl import HookDecl
from .document import Document, Unreadable, bulk, interpolate_env, load_file
from .errors import Path, Problem, ValidationError, did_you_mean, elide, quoted
from .events import BUILTIN, RESERVED_ARGS, EventSpec
from .schema import parse_duration

# Includes nest at most this deep (a longer chain is a mistake, and would exhaust the stack).
MAX_INCLUDE_DEPTH = 64


@dataclass
class Settings:
    # None: no file sets an allow-list; else the union of every list in force (manifests,
    # their includes, the pipeline file), checked for every dotted path a run imports.
    allowed_modules: list[str] | None = None
    on_error: str | None = None
    timeout: float | None = None
    # "auto": fast events are timed as a whole (see fastpath); "exact": every hook, always.
    timing: str = "auto"
    # ``settings.telemetry`` merged over the files (a later file's keys win), and where it was
    # last written (problems found when it is applied point there); None: not written.
    telemetry: dict[str, Any] | None = None
    telemetry_at: tuple[Document, Path] | None = None
    # ``settings.kedro`` merged over the files (a later file's keys win): read under kedro run.
    kedro: dict[str, Any] | None = None
    # Where each key of ``settings.kedro`` was last written (a problem with its value points
    # there).
    kedro_at: dict[str, tuple[Document, Path]] = field(default_factory=dict)

    def allow(self, prefixes: list[str]) -> None:
        """Add a file's ``allowed_modules`` to the union (an empty list still turns it on)."""
        merged = list(self.allowed_modules or []) + [str(p) for p in prefixes]
        self.allowed_modules = list(dict.fromkeys(merged))


@dataclass
class Manifest:
    files: list[Document] = field(default_factory=list)
    events: dict[str, EventSpec] = field(default_factory=lambda: dict(BUILTIN))
    settings: Settings = field(default_factory=Settings)
    decls: list[HookDecl] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Entry-point plugins to look for, and the names to skip (§2 plugins).
    discover_plugins: bool = False
    # ``plugins: {kedro: true}``: Kedro's kedro.hooks / kedro.cli_hooks entry points too.
    kedro_plugins: bool = False
    disabled_plugins: set[str] = field(default_factory=set)
    # Custom events whose declaration has a problem (reported there): hooks naming them
    # are not told the event is unknown as well.
    broken_events: set[str] = field(default_factory=set)

    @property
    def paths(self) -> list[str]:
        return [d.file for d in self.files]


class Loader:
    """Accumulates files in load order; a file's includes load before the file itself."""

    def __init__(self, environ: dict[str, str] | None = None):
        self.environ = environ
        self.m = Manifest()
        self._index: dict[str, int] = {}
        self._custom_events: dict[str, tuple[Document, Path]] = {}
        # The first ``plugins: {discover: true}`` seen: plugin problems point there.
        self.plugins_origin: tuple[Document, Path] | None = None
        self._plugins_added = False

    @classmethod
    def over(cls, manifest: Manifest) -> Loader:
        """A loader that goes on from a loaded ``manifest`` (a copy of it): what it adds
        follows that manifest's hooks, with the same override rule."""
        loader = cls()
        loader.m = dataclasses.replace(manifest, decls=list(manifest.decls))
        loader._reindex()
        return loader

    # ------------------------------------------------------------------ files
    def add_file(
        self,
        path: str | os.PathLike[str],
        stack: tuple[str, ...] = (),
        origin: tuple[Document, Path, str] | None = None,
    ) -> None:
        """Load ``path`` and what it includes. ``origin`` (the document, path and text that
        named it: an ``include:`` entry) is where a file that cannot be read is reported."""
        real = os.path.realpath(path)  # never raises, symlink loops included
        try:
            doc = load_file(path)
        except Unreadable as exc:
            if origin is None or exc.problems[0].line:
                self.m.problems.extend(exc.problems)
            else:
                self.m.problems.append(_unreadable(origin, exc, real))
            return
        except ValidationError as exc:
            self.m.problems.extend(exc.problems)
            return
        self.add_document(doc, stack + (real,))

    def add_document(self, doc: Document, stack: tuple[str, ...] = ()) -> None:
        m = self.m
        m.files.append(doc)
        env_problems = interpolate_env(doc, self.environ)
        shape = schema.check(doc, "hooks")
        m.problems.extend(env_problems + shape)
        bad = [p.path for p in env_problems + shape]
        data = doc.data
        includes = data.get("include")
        for i, inc in enumerate(includes if isinstance(includes, list) else []):
            if not isinstance(inc, str) or _under(("include", i), bad):
                continue
            at = ("include", i)
            try:
                target = FsPath(os.path.realpath(doc.directory / inc))
            except (OSError, ValueError) as exc:  # a NUL byte...
                reason = getattr(exc, "strerror", None) or str(exc)
                m.problems.append(doc.problem(at, f"bad include path: {reason}"))
                continue
            if str(target) in stack:
                chain = elide(
                    (FsPath(s).name for s in stack[stack.index(str(target)) :]), 10, " → "
                )
                m.problems.append(
                    doc.problem(
                        at,
                        f"include cycle: {chain} → {target.name}",
                        "remove one of the includes",
                    )
                )
            elif len(stack) >= MAX_INCLUDE_DEPTH:
                chain = elide((FsPath(s).name for s in stack), 6, " → ")
                m.problems.append(
                    doc.problem(
                        at,
                        f"includes nest more than {MAX_INCLUDE_DEPTH} files deep ({chain})",
                        "include the files side by side from one file instead of in a chain",
                    )
                )
            else:
                self.add_file(target, stack, origin=(doc, at, inc))
        if not _under(("settings",), bad):
            self._settings(doc)
        self._events(doc, bad)
        plugins = data.get("plugins")
        if isinstance(plugins, dict) and not _under(("plugins",), bad):
            m.discover_plugins = m.discover_plugins or bool(plugins.get("discover"))
            m.kedro_plugins = m.kedro_plugins or bool(plugins.get("kedro"))
            if (plugins.get("discover") or plugins.get("kedro")) and self.plugins_origin is None:
                self.plugins_origin = (doc, ("plugins",))
            m.disabled_plugins.update(str(x) for x in plugins.get("disable") or [])
        if not _under(("forget",), bad):
            self.forget(doc, ("forget",))
        self.add_hooks(doc, ("hooks",), bad)

    # ------------------------------------------------------------------ sections
    def _settings(self, doc: Document) -> None:
        raw = doc.data.get("settings")
        if not isinstance(raw, dict):
            return
        s = self.m.settings
        if "allowed_modules" in raw:
            s.allow(list(raw["allowed_modules"] or []))
        if "on_error" in raw:
            s.on_error = raw["on_error"]
        if "timeout" in raw:
            s.timeout = parse_duration(raw["timeout"])
        if "timing" in raw:
            s.timing = raw["timing"]
        if isinstance(raw.get("telemetry"), dict):
            s.telemetry = {**(s.telemetry or {}), **raw["telemetry"]}
            s.telemetry_at = (doc, ("settings", "telemetry"))
        if isinstance(raw.get("kedro"), dict):
            s.kedro = {**(s.kedro or {}), **raw["kedro"]}
            s.kedro_at.update({k: (doc, ("settings", "kedro", k)) for k in raw["kedro"]})

    def _events(self, doc: Document, bad: list[Path]) -> None:
        """Custom events, each on its own: one with a problem is left out (and remembered as
        broken, so hooks naming it are not reported too), the others still count."""
        raw = doc.data.get("events")
        if not isinstance(raw, dict):
            return
        for name, body in raw.items():
            path = ("events", name)
            if _under(path, bad) or not isinstance(body, (dict, type(None))):
                self.m.broken_events.add(str(name))
                continue
            body = body or {}
            if name in BUILTIN:
                self.m.problems.append(
                    doc.problem(
                        path,
                        f"custom event {name!r} shadows a built-in event",
                        "pick another name",
                        key=True,
                    )
                )
                continue
            args = tuple(body.get("args") or ())
            reserved = [a for a in args if a in RESERVED_ARGS]
            if reserved:
                self.m.problems.append(
                    doc.problem(
                        path + ("args",),
                        f"argument name {reserved[0]!r} is reserved",
                        "wrap hooks receive original_func on their own",
                    )
                )
                self.m.broken_events.add(name)
                continue
            style = body.get("style", "notify")
            if body.get("parallel") and style != "notify":
                self.m.problems.append(
                    doc.problem(path + ("parallel",), "parallel: true needs style notify")
                )
                self.m.broken_events.add(name)
                continue
            spec = EventSpec(
                name=name,
                args=(("original_func",) if style == "wrap" else ()) + args,
                style=style,
                on_error=body.get("on_error", "continue"),
                group="custom",
                doc=body.get("doc", ""),
                parallel=bool(body.get("parallel")),
                payload=args if style == "wrap" else (),
            )
            old = self.m.events.get(name)
            if old is not None and old != spec:
                first = self._custom_events[name]
                line, _ = first[0].where(first[1])
                self.m.problems.append(
                    doc.problem(
                        path,
                        f"event {name!r} is declared differently in {first[0].file}:{line}",
                        key=True,
                    )
                )
                continue
            self.m.events[name] = spec
            self._custom_events.setdefault(name, (doc, path))

    def forget(self, doc: Document, path: Path) -> None:
        names = doc.get(path) or []
        for i, name in enumerate(names):
            pos = self._index.get(name)
            if pos is None:
                own = doc.get(path[:-1] + ("hooks",))
                own_names = (
                    [h.get("name") for h in own if isinstance(h, dict)]
                    if isinstance(own, list)
                    else []
                )
                hint = did_you_mean(name, list(self._index))
                if hint is None and name in own_names:
                    hint = "forget removes hooks loaded before this file; delete its entry instead"
                self.m.problems.append(
                    doc.problem(path + (i,), f"forget: no earlier hook is named {name!r}", hint)
                )
                continue
            del self.m.decls[pos]
            self._reindex()

    def add_hooks(self, doc: Document, path: Path, bad: list[Path] | None = None) -> None:
        """Append a document's hook entries; a name seen in an earlier file replaces in place."""
        bad = bad or []
        if not isinstance(doc.get(path), list):
            return
        seen: dict[str, int] = {}
        for i, entry in enumerate(doc.get(path) or []):
            here = path + (i,)
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            name = entry["name"]
            if name in seen:
                line, _ = doc.where(path + (seen[name],))
                self.m.problems.append(
                    doc.problem(
                        here + ("name",),
                        f"duplicate hook name {name!r} (first used at line {line})",
                        "names are unique within a file; rename one",
                    )
                )
                continue
            seen[name] = i
            valid = not _under(here, bad)
            failed = None if valid else _failed_keys(here, bad)
            self.add_decl(HookDecl.from_entry(entry, doc, here, valid, failed))

    def add_decl(self, decl: HookDecl) -> None:
        """Append ``decl``, or let it replace an earlier declaration of its name in place."""
        pos = self._index.get(decl.name)
        if pos is None:
            self._index[decl.name] = len(self.m.decls)
            self.m.decls.append(decl)
        else:
            self.m.decls[pos] = decl.replace(overrides=self.m.decls[pos].source)

    def has(self, name: str) -> bool:
        return name in self._index

    def add_plugins(self) -> None:
        """Entry-point plugins, once, after the manifests' hooks (and before a pipeline's
        local hooks), when a manifest turned discovery on (see ``plugins``).

        A plugin naming a hooks object becomes one declaration named after the plugin; a
        plugin's own manifest loads on its own (its settings stay its own) and its hooks
        join after the project's. A name the project already uses is the project's."""
        if self._plugins_added or self.plugins_origin is None:
            return
        from . import plugins  # here: a manifest that discovers none never needs entry points

        self._plugins_added = True
        doc, at = self.plugins_origin
        m = self.m
        if m.kedro_plugins:
            self._add_kedro_plugins(doc, at)
        if not m.discover_plugins:
            return
        for plugin in plugins.discover(m.disabled_plugins):
            if not plugin.is_manifest:
                if not self.has(plugin.name):
                    self.add_decl(HookDecl.plugin_object(plugin.name, plugin.value, doc, at))
                continue
            path = plugins.manifest_file(plugin)
            if path is None or not path.is_file():
                m.problems.append(
                    doc.problem(
                        at,
                        f"plugin {plugin.name!r} ({plugin.dist}) names manifest "
                        f"{plugin.value!r}, which is not installed",
                        f"reinstall the distribution, or add {plugin.name!r} to plugins.disable",
                    )
                )
                continue
            sub = Loader(self.environ)
            sub.add_file(path)
            part = sub.result()
            m.files.extend(part.files)
            m.problems.extend(part.problems)
            for name, spec in part.events.items():
                m.events.setdefault(name, spec)
            for decl in part.decls:
                if not self.has(decl.name):
                    self.add_decl(decl.replace(plugin=plugin.name))

    def _add_kedro_plugins(self, doc: Document, at: Path) -> None:
        """Kedro's installed plugins, ahead of every hook loaded so far.

        Kedro registers them after the project's ``HOOKS``, and pluggy calls the last
        registered first: so at equal priority they run before the project's hooks, in
        Kedro's own order (``plugins.discover_kedro``). A name the project uses is the
        project's, as with hookrunner's plugins."""
        from . import plugins

        ahead = [
            HookDecl.plugin_object(p.name, p.value, doc, at)
            for p in plugins.discover_kedro(self.m.disabled_plugins)
            if not self.has(p.name)
        ]
        self.m.decls[0:0] = ahead
        self._reindex()

    def _reindex(self) -> None:
        self._index = {d.name: i for i, d in enumerate(self.m.decls)}

    def result(self) -> Manifest:
        return self.m


def _unreadable(origin: tuple[Document, Path, str], exc: Unreadable, real: str) -> Problem:
    """A named file that cannot be opened, reported where it is named."""
    doc, at, named = origin
    what = "included file" if at[:1] == ("include",) else "manifest"
    if exc.reason == "file not found":
        return doc.problem(at, f"{what} {quoted(named)} not found ({real})")
    join = " " if exc.reason.startswith("is ") else ": "
    return doc.problem(at, f"{what} {quoted(named)}{join}{exc.reason}", exc.hint)


def _under(prefix: Path, paths: list[Path]) -> bool:
    """True when any of ``paths`` is ``prefix`` or below it (or above it: the whole section)."""
    n = len(prefix)
    return any(p[:n] == prefix or (p and prefix[: len(p)] == p) for p in paths)


def _failed_keys(entry: Path, bad: list[Path]) -> frozenset[str] | None:
    """The keys of the entry at ``entry`` that failed the schema; None when it failed as a
    whole (or a section above it did)."""
    keys: set[str] = set()
    n = len(entry)
    for p in bad:
        if p[:n] == entry and len(p) > n and isinstance(p[n], str):
            keys.add(str(p[n]))
        elif p[:n] == entry or (p and entry[: len(p)] == p):
            return None
    return frozenset(keys) or None


def load_manifests(
    paths: list[str | os.PathLike[str]], environ: dict[str, str] | None = None
) -> Manifest:
    """Load several manifests in order (later files override earlier ones by hook name)."""
    loader = Loader(environ)
    with bulk():  # everything built here lives as long as the manifest (see bulk)
        for p in paths:
            loader.add_file(p)
        loader.add_plugins()
    return loader.result()
