"""Turn dotted paths into callables and callables into precompiled invokers.

All introspection happens here, once per load: an invoker is a closure that takes the emit's
argument dict and calls the hook with exactly the arguments it names, positionally where the
signature allows it (the cheapest call CPython makes).
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import pkgutil
import sys
import threading
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from .errors import did_you_mean

Invoker = Callable[[dict[str, Any]], Any]


class ResolveError(Exception):
    """A dotted path or signature problem; ``hint`` is a suggestion for the user."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def split_target(target: str) -> tuple[str, str]:
    """``pkg.mod:attr`` or ``pkg.mod.attr`` → (module, attribute path)."""
    if ":" in target:
        module, _, attr = target.partition(":")
        return module, attr
    module, _, attr = target.rpartition(".")
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
    if not match:
        return None
    return f"did you mean {match[0] + wanted[len(module) :]!r}?"


def import_module(module: str, allowed: Iterable[str] | None = None) -> Any:
    check_allowed(module, allowed)
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module == missing or module.startswith(missing + ".")):
            raise ResolveError(
                f"module {module!r} not found", _module_suggestion(missing, module)
            ) from None
        raise ResolveError(f"importing {module!r} failed: {exc}") from None
    except SyntaxError as exc:
        where = f" ({exc.filename}:{exc.lineno})" if exc.filename else ""
        raise ResolveError(f"importing {module!r} failed: SyntaxError: {exc.msg}{where}") from None
    except Exception as exc:
        raise ResolveError(f"importing {module!r} failed: {type(exc).__name__}: {exc}") from None


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


def make_invoker(
    fn: Callable[..., Any],
    event_args: tuple[str, ...],
    bound: dict[str, Any] | None = None,
    wrap: bool = False,
    pluggy: bool = False,
) -> tuple[Invoker, tuple[str, ...]]:
    """Decide once how ``fn`` is called; return the invoker and the argument names it takes.

    With ``wrap`` the invoker takes ``(original_func, kw)`` and the callable must name
    ``original_func`` as its first parameter. With ``pluggy`` (a method carrying a pluggy
    marker) the call copies pluggy's (1.7 and later): named parameters receive the event's
    values, defaulted ones included, and ``**kwargs`` receives nothing, so a Kedro hook sees
    exactly what Kedro would give it.
    """
    bound = dict(bound or {})
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ResolveError("its signature cannot be read", "wrap it in a plain def") from None
    params = list(sig.parameters.values())
    if wrap:
        if not params or params[0].name != "original_func":
            raise ResolveError(
                "a wrap hook must take 'original_func' as its first parameter",
                "def hook(original_func, ...): return original_func(...)",
            )
        params = params[1:]
    star = any(p.kind is p.VAR_KEYWORD for p in params) and not pluggy
    # A misspelled `with:` key explains a missing parameter better than the parameter does.
    unknown = [k for k in bound if k not in sig.parameters and not star]
    if unknown:
        raise ResolveError(
            f"`with:` key {unknown[0]!r} is not a parameter of the callable",
            did_you_mean(unknown[0], list(sig.parameters)),
        )
    allowed = set(event_args)
    positional: list[str] = []
    keyword: list[str] = []
    gap = False
    for p in params:
        if p.kind is p.VAR_KEYWORD:
            continue
        if p.kind is p.VAR_POSITIONAL:
            gap = True
            continue
        if p.name in bound:
            gap = True
            continue
        if p.name in allowed:
            if p.kind is p.KEYWORD_ONLY or (gap and p.kind is not p.POSITIONAL_ONLY):
                keyword.append(p.name)
            else:
                positional.append(p.name)
            continue
        if p.default is not p.empty:
            gap = True
            continue
        hint = did_you_mean(p.name, sorted(allowed))
        if not hint:
            hint = (
                f"the event provides: {', '.join(event_args) or 'nothing'}; "
                f"bind it with `with: {{{p.name}: ...}}` or give it a default"
            )
        raise ResolveError(
            f"parameter {p.name!r} is neither an argument of this event nor given under `with:`",
            hint,
        )
    target = functools.partial(fn, **bound) if bound else fn
    names = tuple(positional + keyword)
    return _invoker(target, positional, keyword, star, wrap), (("**",) if star else names)


def _invoker(
    fn: Callable[..., Any], pos: list[str], kws: list[str], star: bool, wrap: bool
) -> Callable[..., Any]:
    # One small closure per shape: the per-call cost is a lookup and a direct call.
    if star:
        if wrap:
            return lambda orig, kw: fn(orig, **kw)
        return lambda kw: fn(**kw)
    if kws:
        if wrap:
            return lambda orig, kw: fn(orig, *[kw[n] for n in pos], **{n: kw[n] for n in kws})
        return lambda kw: fn(*[kw[n] for n in pos], **{n: kw[n] for n in kws})
    if not pos:
        invoke = (lambda orig, kw: fn(orig)) if wrap else (lambda kw: fn())
    elif len(pos) == 1:
        get = itemgetter(pos[0])
        invoke = (lambda orig, kw: fn(orig, get(kw))) if wrap else (lambda kw: fn(get(kw)))
    else:
        get = itemgetter(*pos)
        invoke = (lambda orig, kw: fn(orig, *get(kw))) if wrap else (lambda kw: fn(*get(kw)))
    # Purely positional: compiled plans (``fastpath``) call ``fn`` straight with these names.
    invoke.direct = (fn, tuple(pos))  # type: ignore[attr-defined]
    return invoke


def run_coroutine(coro: Any, timeout: float | None) -> Any:
    """Run an awaitable to completion from sync code (a private loop per thread)."""
    import asyncio  # imported where used: loading and validating never need it

    aw = asyncio.wait_for(coro, timeout) if timeout else coro
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _thread_loop().run_until_complete(aw)
    # Called from inside a running loop (sync emit in async code): use a helper thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["v"] = asyncio.run(aw)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            box["e"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join()
    if "e" in box:
        raise box["e"]
    return box.get("v")


_local = threading.local()


def _thread_loop() -> Any:
    import asyncio

    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _local.loop = loop
    return loop
