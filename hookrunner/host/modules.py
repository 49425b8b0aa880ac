"""The project's own hook modules: finding them, and forgetting changed ones so they re-import.

Hot reload must not keep a stale function object alive. Rather than ``importlib.reload`` (which
re-executes code into the old namespace and leaves ``from x import f`` copies stale), a changed
module and every project module that imported from it are dropped from ``sys.modules``; the
registry build then imports them afresh. Library code (site-packages, the standard library,
hookrunner itself) is never touched.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from types import ModuleType

from ..kernel.frames import LIBRARY_ROOTS as _LIBS


def _source(module: ModuleType) -> str | None:
    file = getattr(module, "__file__", None)
    if not isinstance(file, str) or not file.endswith(".py"):
        return None  # builtins, extension modules, namespace packages
    return os.path.abspath(file)


def project_modules(directories: Iterable[str | os.PathLike[str]]) -> dict[str, str]:
    """Imported modules whose source lies under one of ``directories``: name → source file."""
    dirs = tuple({os.path.realpath(d).rstrip(os.sep) + os.sep for d in directories})
    if not dirs:
        return {}
    out: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        if module is None or name == "__main__":
            continue
        file = _source(module)
        if file is None or not file.startswith(dirs):
            continue
        if file.startswith(_LIBS) or "site-packages" in file or "dist-packages" in file:
            continue
        out[name] = file
    return out


def _uses(module: ModuleType, names: set[str]) -> bool:
    """Does ``module`` hold a module, function or class that came from one of ``names``?"""
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType):
            own = value.__name__
            if own in names or any(n.startswith(own + ".") for n in names):
                return True
        else:
            try:
                origin = getattr(value, "__module__", None)
            except Exception:  # an exotic object whose attribute access fails
                continue
            if isinstance(origin, str) and origin in names:
                return True
    return False


def forget(changed: Iterable[str | os.PathLike[str]], project: dict[str, str]) -> list[str]:
    """Drop changed project modules, and project modules importing them, from ``sys.modules``.

    Returns the dropped names. Their cached bytecode is removed too: a same-size rewrite within
    the same second would otherwise pass the ``.pyc`` freshness check and run the old code.
    """
    files = {os.path.realpath(p) for p in changed}
    by_file: dict[str, list[str]] = {}
    for name, file in project.items():
        by_file.setdefault(os.path.realpath(file), []).append(name)
    doomed = {name for f in files for name in by_file.get(f, [])}
    importlib.invalidate_caches()  # a new module file must be found even within one mtime tick
    if not doomed:
        return []
    grew = True
    while grew:  # importers of importers, until nothing new joins
        grew = False
        for name in project:
            module = sys.modules.get(name)
            if name not in doomed and module is not None and _uses(module, doomed):
                doomed.add(name)
                grew = True
    for name in doomed:
        file = project[name]
        try:
            os.unlink(importlib.util.cache_from_source(file))
        except (OSError, NotImplementedError, ValueError):
            pass
        sys.modules.pop(name, None)
    return sorted(doomed)
