"""How a hook is called: decided once per load from its signature, never per call.

``bind`` reads a callable's signature against its event's arguments and returns a ``Binding``:
an invoker that takes the emit's argument dict (what the general loop calls), and, when the
callable takes only event arguments by position, the callable itself with those argument
names (what the compiled fast path calls directly: the cheapest call CPython makes).
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from ..errors import ResolveError, did_you_mean

Invoker = Callable[..., Any]


class Binding(NamedTuple):
    """How to call one hook. ``invoke(kw)`` (``invoke(original_func, kw)`` for a wrapper)
    calls it from the emit's arguments; when ``positional`` is not None, ``fn(*values)`` with
    the values of those arguments in that order is the same call. ``takes`` names what it
    receives (``("**",)``: every argument)."""

    invoke: Invoker
    fn: Callable[..., Any]
    positional: tuple[str, ...] | None
    takes: tuple[str, ...]


def bind(
    fn: Callable[..., Any],
    event_args: tuple[str, ...],
    bound: dict[str, Any] | None = None,
    wrap: bool = False,
    pluggy: bool = False,
) -> Binding:
    """Decide once how ``fn`` is called from an emit of an event with ``event_args``.

    ``bound`` are ``with:`` values bound at load time. With ``wrap`` the invoker takes
    ``(original_func, kw)`` and the callable must name ``original_func`` as its first
    parameter. With ``pluggy`` (a method carrying a pluggy marker) the call copies pluggy's
    (1.7 and later): named parameters receive the event's values, defaulted ones included,
    and ``**kwargs`` receives nothing, so a Kedro hook sees exactly what Kedro gives it.
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
        if p.kind is p.VAR_POSITIONAL or p.name in bound:
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
    invoke = _invoker(target, positional, keyword, star, wrap)
    direct = None if star or keyword else tuple(positional)
    takes = ("**",) if star else tuple(positional + keyword)
    return Binding(invoke, target, direct, takes)


def _invoker(
    fn: Callable[..., Any], pos: list[str], kws: list[str], star: bool, wrap: bool
) -> Invoker:
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
        return (lambda orig, kw: fn(orig)) if wrap else (lambda kw: fn())
    if len(pos) == 1:
        get = itemgetter(pos[0])
        return (lambda orig, kw: fn(orig, get(kw))) if wrap else (lambda kw: fn(get(kw)))
    gets = itemgetter(*pos)
    return (lambda orig, kw: fn(orig, *gets(kw))) if wrap else (lambda kw: fn(*gets(kw)))


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


# A sync hook past its timeout goes on running in its thread (Python cannot stop a thread):
# it is abandoned. At most MAX_ABANDONED calls of one hook, and MAX_ABANDONED_TOTAL in the
# process, may be left running; past either bound the hook is not started at all until one
# of them returns: the call fails at once, as a timeout that says so.
MAX_ABANDONED = 4
MAX_ABANDONED_TOTAL = 64
_abandoned_lock = threading.Lock()
_abandoned_total = 0
# By hook name, not by the compiled invoker: a hot reload rebuilds the invoker, and the
# calls the old one abandoned are still running.
_abandoned_by_hook: dict[str, int] = {}


def abandoned_calls() -> int:
    """How many timed-out sync hook calls are still running in this process."""
    return _abandoned_total


def with_timeout(invoke: Invoker, timeout: float, name: str) -> Invoker:
    """Run a sync hook in a daemon thread; past the timeout the emitter stops waiting."""
    from ..errors import HookTimeout

    def run(*args: Any) -> Any:
        global _abandoned_total
        with _abandoned_lock:
            mine = _abandoned_by_hook.get(name, 0)
            if mine >= MAX_ABANDONED or _abandoned_total >= MAX_ABANDONED_TOTAL:
                count, where = (
                    (mine, "of it")
                    if mine >= MAX_ABANDONED
                    else (_abandoned_total, "of sync hooks")
                )
                raise HookTimeout(
                    f"hook {name!r} not started: {count} earlier calls {where} are still "
                    f"running past their timeout (at most {MAX_ABANDONED} per hook, "
                    f"{MAX_ABANDONED_TOTAL} in all)"
                )
        box: list[tuple[bool, Any]] = []
        state = {"done": False, "abandoned": False}

        def target() -> None:
            global _abandoned_total
            try:
                box.append((True, invoke(*args)))
            except BaseException as exc:  # noqa: BLE001 - handed back to the emitter
                box.append((False, exc))
            finally:
                with _abandoned_lock:
                    state["done"] = True
                    if state["abandoned"]:
                        left = _abandoned_by_hook[name] - 1
                        if left:
                            _abandoned_by_hook[name] = left
                        else:
                            del _abandoned_by_hook[name]
                        _abandoned_total -= 1

        t = threading.Thread(target=target, daemon=True, name=f"hookrunner:{name}")
        t.start()
        t.join(timeout)
        with _abandoned_lock:
            if not state["done"]:
                state["abandoned"] = True
                _abandoned_by_hook[name] = _abandoned_by_hook.get(name, 0) + 1
                _abandoned_total += 1
        if not box:
            raise HookTimeout(f"hook {name!r} timed out after {timeout:g}s (abandoned)")
        ok, value = box[0]
        if ok:
            return value
        raise value

    return run
