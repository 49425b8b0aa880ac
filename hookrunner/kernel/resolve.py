"""Dotted paths (``pkg.mod:attr`` or ``pkg.mod.attr``) to objects, with precise errors.

Every import a manifest or a pipeline file asks for goes through ``import_module`` here, so
``settings.allowed_modules`` is checked in one place, and ``hookrunner validate`` can watch
(and bound) each import from here (``watch_imports``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from . import secrets
from .errors import ResolveError, did_you_mean, raised


class ImportWatch(Protocol):
    """Told before and after each import of a module not imported yet; ``starting`` may
    refuse the import by raising ``ResolveError``."""

    def starting(self, module: str) -> None: ...

    def finished(self, module: str) -> None: ...


_watch: ImportWatch | None = None


def watch_imports(watch: ImportWatch | None) -> None:
    """Report every import made here to ``watch`` (None: stop)."""
    global _watch
    _watch = watch


def split_target(target: str) -> tuple[str, str]:
    """``pkg.mod:attr`` or ``pkg.mod.attr`` → (module, attribute path)."""
    if ":" in target:
        module, _, attr = target.partition(":")
    else:
        module, _, attr = target.rpartition(".")
    secrets.derive(target, module, attr)  # errors quote the parts: mask a secret's pieces
    if ":" in target:
        return module, attr
    if not module:
        raise ResolveError(f"{target!r} names no module", "write it as 'package.module:function'")
    return module, attr


def check_allowed(module: str, allowed: Iterable[str] | None) -> None:
    if allowed is None:
        return
    allowed = list(allowed)
    if any(module == p or module.startswith(p + ".") for p in allowed):
        return
    raise ResolveError(
        f"module {module!r} is outside settings.allowed_modules ({', '.join(allowed) or 'empty'})",
        f"add {module.split('.')[0]!r} to settings.allowed_modules",
    )


def _module_suggestion(module: str, wanted: str) -> str | None:
    """Suggest a close sibling of the missing ``module``, spelled as the full ``wanted`` path."""
    match = _close_module(module)
    return None if match is None else f"did you mean {match + wanted[len(module) :]!r}?"


@functools.lru_cache(maxsize=256)
def _close_module(module: str) -> str | None:
    """The importable module closest to ``module`` (cached: listing the modules on sys.path
    is slow, and a file of 10,000 nodes may name the same missing module 10,000 times)."""
    import difflib  # here: only a module that does not import needs suggestions
    import pkgutil

    parent, _, _leaf = module.rpartition(".")
    try:
        if parent:
            pkg = importlib.import_module(parent)
            paths = getattr(pkg, "__path__", [])
            names = [f"{parent}.{m.name}" for m in pkgutil.iter_modules(paths)]
        else:
            names = [m.name for m in pkgutil.iter_modules()] + list(sys.builtin_module_names)
    except Exception:
        return None
    match = difflib.get_close_matches(module, names, n=1, cutoff=0.6)
    return match[0] if match else None


def import_module(module: str, allowed: Iterable[str] | None = None) -> Any:
    check_allowed(module, allowed)
    watch = _watch if module not in sys.modules else None
    if watch is not None:
        watch.starting(module)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        secrets.derive(module, missing)
        if missing and (module == missing or module.startswith(missing + ".")):
            raise ResolveError(
                f"module {module!r} not found", _module_suggestion(missing, module)
            ) from None
        raise ResolveError(f"importing {module!r} failed: {exc}") from None
    except SyntaxError as exc:
        from .frames import origin  # only a module that does not import needs it

        at = origin(exc)
        where = f" ({exc.filename}:{exc.lineno})" if exc.filename and at is None else ""
        raise ResolveError(
            f"importing {module!r} failed: SyntaxError: {exc.msg}{where}",
            "fix the syntax of the module" if at is None else None,
            origin=at,
        ) from None
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        raise ResolveError(
            f"importing {module!r} failed: the module exits when imported (SystemExit({exc.code!r}))",
            "a module must not exit at import; move that code under `if __name__ == '__main__':`",
        ) from None
    except BaseException as exc:  # noqa: BLE001 - whatever a module raises is its problem
        from .frames import origin

        raise ResolveError(
            f"importing {module!r} failed: {raised(exc)}", origin=origin(exc)
        ) from None
    finally:
        if watch is not None:
            watch.finished(module)


def import_target(target: str, allowed: Iterable[str] | None = None) -> Any:
    """Import ``pkg.mod:attr`` and return the attribute, with precise errors."""
    module, attr = split_target(target)
    obj = import_module(module, allowed)
    walked = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            raise ResolveError(
                f"module {walked!r} has no attribute {part!r}"
                if walked == module
                else f"{walked!r} has no attribute {part!r}",
                did_you_mean(part, names),
            )
        obj = getattr(obj, part)
        walked = f"{walked}:{part}" if walked == module else f"{walked}.{part}"
    return obj


def import_callable(target: str, allowed: Iterable[str] | None = None) -> Callable[..., Any]:
    obj = import_target(target, allowed)
    if inspect.isclass(obj):
        raise ResolveError(f"{target!r} is a class", "use `class:` for hook classes")
    if not callable(obj):
        kind = type(obj).__name__
        article = "an" if kind[:1] in "aeiou" else "a"
        raise ResolveError(f"{target!r} is {article} {kind}, not callable")
    return obj


def is_async(fn: Callable[..., Any]) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    # A callable object whose __call__ is async.
    return not inspect.isroutine(fn) and inspect.iscoroutinefunction(type(fn).__call__)
