"""Porting a Kedro project's hooks: ``settings.py``'s ``HOOKS`` and ``DISABLE_HOOKS_FOR_PLUGINS``
read with ``ast`` (the project is never imported or run) and written as a ``hooks.yaml``.

Kedro registers ``HOOKS`` in order with pluggy, which calls the hook registered last first:
``HOOKS = (A, B)`` runs B's ``before_node_run`` before A's. hookrunner runs lower priorities
first and keeps declaration order only among equals, so the port keeps the entries in
``settings.py``'s order and gives them descending priorities (A 501, B 500) that reproduce
Kedro's order, with ``plugins: {kedro: true}`` for the installed plugins Kedro loads by itself
(they run before the project's hooks there, and here: see ``Loader._add_kedro_plugins``).
"""

from __future__ import annotations

import ast
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..kernel.errors import HookrunnerError, quoted

DEFAULT_PRIORITY = 500


class PortError(HookrunnerError):
    """The Kedro project or its settings.py cannot be read."""


@dataclass(frozen=True, slots=True)
class PortedHook:
    """One ``HOOKS`` entry: where its class (or object) lives and its literal arguments."""

    name: str
    target: str  # "pkg.mod:Class" (a call) or "pkg.mod:object" (a ready hooks object)
    args: dict[str, Any]
    line: int


@dataclass
class PortedSettings:
    settings: Path
    package: str | None
    hooks: list[PortedHook] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    # What could not be ported as written: (line, column, message).
    warnings: list[tuple[int, int, str]] = field(default_factory=list)

    def warn(self, node: ast.AST, message: str) -> None:
        """A warning at ``node`` (ast columns count from 0; ours, as editors', from 1)."""
        line, col = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
        self.warnings.append((line, col + 1, message))


def find_settings(path: Path) -> tuple[Path, str | None]:
    """``settings.py`` of the Kedro project at ``path`` (a project folder with
    ``pyproject.toml``'s ``[tool.kedro]``, or the settings file itself) and the package name."""
    if path.is_file():
        return path, path.parent.name
    config = path / "pyproject.toml"
    if not config.is_file():
        raise PortError(f"{path} is not a Kedro project: no pyproject.toml (name settings.py)")
    try:
        kedro = tomllib.loads(config.read_text("utf-8")).get("tool", {}).get("kedro")
    except tomllib.TOMLDecodeError as exc:
        raise PortError(f"{config}: invalid TOML: {exc}") from None
    if not isinstance(kedro, dict) or not kedro.get("package_name"):
        raise PortError(f"{config} has no [tool.kedro] package_name; name settings.py instead")
    package = str(kedro["package_name"])
    settings = path / str(kedro.get("source_dir", "src")) / package / "settings.py"
    if not settings.is_file():
        raise PortError(f"{settings} not found (the Kedro project's settings file)")
    return settings, package


def _imports(tree: ast.Module, package: str | None) -> dict[str, str]:
    """Local name → dotted path, from the module's top-level imports."""
    names: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            if stmt.level:
                base = (package or "").split(".")
                base = base[: len(base) - (stmt.level - 1)] if stmt.level > 1 else base
                module = ".".join([*base, *([module] if module else [])])
            for alias in stmt.names:
                names[alias.asname or alias.name] = f"{module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def _target(expr: ast.expr, imports: dict[str, str], module: str | None) -> str | None:
    """``pkg.mod:Attr`` for a (dotted) name used in settings.py."""
    dotted = _dotted(expr)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    full = imports.get(head, f"{module}.{head}" if module else None)
    if full is None:
        return None
    full = f"{full}.{rest}" if rest else full
    path, _, attr = full.rpartition(".")
    return f"{path}:{attr}" if path else None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().strip("_") or "hooks"


def read_settings(path: Path) -> PortedSettings:
    """Read ``HOOKS`` and ``DISABLE_HOOKS_FOR_PLUGINS`` from the Kedro project at ``path``."""
    settings, package = find_settings(path)
    try:
        tree = ast.parse(settings.read_text("utf-8"), filename=str(settings))
    except SyntaxError as exc:
        raise PortError(f"{settings}:{exc.lineno}: invalid Python: {exc.msg}") from None
    module = f"{package}.settings" if package else None
    imports = _imports(tree, package)
    result = PortedSettings(settings, package)
    for stmt in tree.body:
        value: ast.expr | None
        if isinstance(stmt, ast.Assign):
            targets, value = [t for t in stmt.targets if isinstance(t, ast.Name)], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            targets, value = [stmt.target], stmt.value
        else:
            continue
        names = {t.id for t in targets}
        if value is None or not names & {"HOOKS", "DISABLE_HOOKS_FOR_PLUGINS"}:
            continue
        if not isinstance(value, (ast.Tuple, ast.List)):
            result.warn(value, f"{'/'.join(sorted(names))} is not a literal tuple or list")
            continue
        if "HOOKS" in names:
            _hooks(value.elts, imports, module, result)
        else:
            for item in value.elts:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    result.disabled.append(item.value)
                else:
                    result.warn(item, "a disabled plugin that is not a string")
    return result


def _hooks(
    items: list[ast.expr], imports: dict[str, str], module: str | None, result: PortedSettings
) -> None:
    used: set[str] = set()
    for item in items:
        call = item if isinstance(item, ast.Call) else None
        target = _target(call.func if call else item, imports, module)
        if target is None:
            result.warn(item, f"cannot port {ast.unparse(item)!r}")
            continue
        args: dict[str, Any] = {}
        if call is not None:
            if call.args:
                result.warn(
                    call.args[0],
                    f"{ast.unparse(item)}: positional arguments cannot be ported "
                    "(pass them by keyword in settings.py, or add `args:` by hand)",
                )
            for kw in call.keywords:
                try:
                    value = ast.literal_eval(kw.value) if kw.arg else None
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    value = None  # a name, a call, {[1]: 2}: nothing literal_eval can build
                if kw.arg is None or value is None and not _is_none(kw.value):
                    result.warn(
                        kw.value if kw.arg else kw,
                        f"{ast.unparse(item)}: argument {ast.unparse(kw)} is not a literal "
                        "(add it under `args:` by hand)",
                    )
                    continue
                try:
                    args[kw.arg] = _plain(value)
                except _NotPlain as exc:
                    result.warn(
                        kw.value,
                        f"argument {kw.arg}: {exc} cannot be written in hooks.yaml; left out "
                        "(add it under `args:` by hand, in a form YAML holds)",
                    )
        base = _snake(target.rpartition(":")[2])
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        result.hooks.append(PortedHook(name, target, args, item.lineno))


class _NotPlain(HookrunnerError):
    """A literal with no YAML/JSON form (bytes, complex, a set of mixed types...)."""


def _plain(value: Any) -> Any:
    """``value`` as hooks.yaml can hold it: tuples and sets as lists (a set sorted, for a
    stable file); ``_NotPlain`` naming what cannot be held."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _NotPlain(f"the float {value!r}")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        try:
            return [_plain(v) for v in sorted(value)]
        except TypeError:  # {1, "a"}: no order
            raise _NotPlain(f"a set of values that do not sort ({quoted(value)})") from None
    if isinstance(value, dict):
        bad = next((k for k in value if not isinstance(k, str)), None)
        if bad is not None:
            raise _NotPlain(f"the mapping key {quoted(bad)} (keys must be strings)")
        return {k: _plain(v) for k, v in value.items()}
    raise _NotPlain(f"the {type(value).__name__} {quoted(value)}")


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def render(ported: PortedSettings, schema: str) -> str:
    """The hooks.yaml text: the entries in settings.py's order, Kedro's call order kept by
    descending priorities (the last one registered, which Kedro calls first, gets 500);
    ``schema`` is where its ``$schema`` comment points (the hooks schema file)."""
    n = len(ported.hooks)
    lines = [
        f"# yaml-language-server: $schema={schema}",
        f"# Ported from {ported.settings} by `hookrunner init --from-kedro`.",
        "# Kedro calls the hook registered last first; lower priorities run first here, so the",
        "# priorities below keep Kedro's order with the entries in settings.py's order.",
        "version: 1",
        "plugins:",
        "  kedro: true  # installed Kedro plugins' hooks, as `kedro run` loads them",
    ]
    if ported.disabled:
        lines.append(f"  disable: {json.dumps(ported.disabled)}  # DISABLE_HOOKS_FOR_PLUGINS")
    lines.append("hooks:" if ported.hooks else "hooks: []")
    for i, hook in enumerate(ported.hooks):
        lines += [
            f"  - name: {hook.name}",
            f"    class: {hook.target}  # settings.py line {hook.line}",
            f"    priority: {DEFAULT_PRIORITY + (n - 1 - i)}",
        ]
        if hook.args:
            lines.append(f"    args: {json.dumps(hook.args)}")
    return "\n".join(lines) + "\n"
