"""The hot path: running one event's precompiled call plan.

Everything here takes a ``Plan`` built by the registry, whose hooks already carry their
invoker, matcher and policy. The loop does no introspection and builds no per-hook dicts.
Sequential styles are one generator that yields only when an async hook hands back an
awaitable, so ``emit`` (sync) and ``aemit`` (async) drive the same code. Sync plans usually
run compiled straight-line code first (``fastpath``), which hands over to this generator
(``resume``) at the first hook that returns something or raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from time import perf_counter
from typing import TYPE_CHECKING, Any

from .. import secrets
from ..blame import blame
from ..errors import (
    MESSAGE_MAX,
    HookExited,
    HookFailed,
    HookTimeout,
    Veto,
    raised,
    shorten,
    text_of,
)
from .hook import Wrapped
from .invoke import run_coroutine
from .results import EMPTY, EmitResult, HookResult, span, timed_results

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from .callplan import CallPlan as Plan
    from .hook import Hook


def _log() -> Any:
    """The ``hookrunner`` logger, imported when something is logged (a failing hook's
    process, such as an agent's hook command, should not pay for logging otherwise)."""
    return secrets.logger("hookrunner")  # the scrub filter on it


# --------------------------------------------------------------------------- failures


def _failed(
    plan: Plan, hook: Hook, exc: BaseException, kw: dict[str, Any], results: list[HookResult]
) -> None:
    """Apply the hook's error policy: handler, ``post_error``, circuit breaker or re-raise."""
    if hook.error_handler is not None:
        try:
            hook.error_handler(exc, hook, plan.spec.name)
        except BaseException as e:  # a broken error handler must not hide the original error
            if isinstance(e, KeyboardInterrupt):
                raise
            _log().exception("error_handler of hook %r failed", hook.name)
    state = plan.state
    if hook.on_error == "raise":
        blame(exc, hook.name, plan.spec.name, hook.source)
        if state.observer is not None:
            state.observer(EmitResult(plan.spec.name, results, generation=plan.generation))
        elif state.wraps:  # inside wrap-mode hooks: around() reports what ran
            state.raised(exc, results)
        raise exc
    if hook.on_error == "disable":
        hook.off = True
        state.disabled.add(hook.name)
        plan.refresh()  # recompile the fast path without it
        _log().warning(
            "hook %r disabled after failing: %s", hook.name, shorten(text_of(exc), MESSAGE_MAX)
        )
    report = state.error_reporter() if plan.spec.name != "post_error" else None
    if report is not None:
        info = {
            "hook": hook.name,
            "event": plan.spec.name,
            "type": type(exc).__name__,
            "message": shorten(text_of(exc), MESSAGE_MAX),
        }
        try:
            report(
                session_id=kw.get("session_id"),
                metadata=kw.get("metadata"),
                error_info=info,
                error=exc,
            )
        except Exception:
            _log().exception("post_error hooks failed")


def _absorb(
    plan: Plan, hook: Hook, value: Any, kw: dict[str, Any], changes: dict[str, Any]
) -> bool:
    """Fold a non-None return value into the emit; True when the style says stop."""
    spec = plan.spec
    style = spec.style
    if style == "firstresult":
        return True
    if style == "veto" and value is False and hook.mode == "veto":
        return True
    target = spec.merge_into
    if target is not None and isinstance(value, Mapping):
        if spec.chain is not None and spec.chain in value:
            kw[spec.chain] = changes[spec.chain] = value[spec.chain]
            value = {k: v for k, v in value.items() if k != spec.chain}
        if value:
            kw[target] = {**(kw.get(target) or {}), **value}
            changes.update(value)
        return False
    if spec.strict_merge:
        raise HookFailed(
            f"{spec.name} hooks must return a mapping or None, not {type(value).__name__}"
        )
    # A bool is a yes/no answer (an observer's False on a veto event), never a new value.
    if spec.chain is not None and not isinstance(value, bool):
        kw[spec.chain] = changes[spec.chain] = value
    return False


# --------------------------------------------------------------------------- sequential


Step = Generator[tuple["Hook", Any], Any, EmitResult]


def sequence(
    plan: Plan,
    kw: dict[str, Any],
    start: int = 0,
    pending: tuple[float, Any, BaseException | None] | None = None,
    results: list[HookResult] | None = None,
) -> Step:
    """notify / veto / firstresult, in order; yields ``(hook, awaitable)`` for async hooks.

    A plan's compiled fast path (``fastpath``) hands over here at hook ``start`` when a hook
    returned something or failed: ``pending`` is that hook's (start time, value, error) and
    ``results`` what the hooks before it did. In lean mode (``State.lean``) nothing is timed
    and only hooks that returned a value or failed leave a result.
    """
    lean = plan.state.lean
    clock = _no_clock if lean else perf_counter
    results = [] if results is None else results
    changes: dict[str, Any] = {}
    style = plan.spec.style
    vetoed = False
    reason = None
    value = None
    hooks = plan.hooks
    for i in range(start, len(hooks)):
        h = hooks[i]
        if pending is None:
            if h.off or (h.match is not None and not h.match(kw)):
                continue
            t0 = clock()
            exc: BaseException | None = None
            try:
                v = h.invoke(kw)
                if h.is_async:
                    v = yield h, v
            except Exception as e:
                v, exc = None, e
            except BaseException as e:
                if h.is_async:  # thrown in at the yield: the emit itself is closing
                    raise
                v, exc = None, HookExited.of(h.name, e)  # sys.exit() is a failure, Ctrl-C not
        else:
            (t0, v, exc), pending = pending, None
            if exc is not None and not isinstance(exc, Exception):  # from the fast path
                exc = HookExited.of(h.name, exc)
        if exc is None:
            try:
                stop = v is not None and _absorb(plan, h, v, kw, changes)
            except Exception as e:
                exc = e
            else:
                if v is not None or not lean:
                    results.append(HookResult(h.name, True, None, (clock() - t0) * 1e3, v))
                if stop:
                    if v is False and style == "veto":
                        vetoed, reason = True, f"vetoed by {h.name}"
                    else:
                        value = v
                    break
                continue
        ms = (clock() - t0) * 1e3
        if isinstance(exc, Veto) and style == "veto":
            results.append(HookResult(h.name, True, None, ms, False))
            vetoed, reason = True, exc.reason
            break
        results.append(HookResult(h.name, False, exc, ms, None))
        _failed(plan, h, exc, kw, results)
    if plan.spec.chain is not None and plan.spec.chain in changes:
        value = changes[plan.spec.chain]
    result = EmitResult(
        plan.spec.name, results, vetoed, reason, value, changes or EMPTY, plan.generation
    )
    if plan.state.observer is not None:
        plan.state.observer(result)
    return result


def _no_clock() -> float:
    return 0.0


def resume(
    plan: Plan,
    kw: dict[str, Any],
    stamps: Sequence[float | None] | None,
    i: int,
    v: Any,
    exc: BaseException | None,
) -> EmitResult:
    """Finish a compiled emit in the general loop from hook ``i``, which returned ``v`` or
    raised ``exc`` (the fast path's handover, see ``fastpath``).

    ``stamps`` are the fast path's clock stamps: the emit's start, then the end of each hook
    before ``i`` (None: it did not run), then, when hook ``i`` returned, its end. None in lean
    mode: nothing was timed.
    """
    if stamps is None:
        return drive(sequence(plan, kw, i, (0.0, v, exc)))
    before = stamps[: i + 1]
    t0 = next(t for t in reversed(before) if t is not None)  # when hook i started
    if exc is None:  # the fast path stamped the end of hook i: keep its duration
        end = stamps[i + 1]
        assert end is not None
        t0 = perf_counter() - (end - t0)
    return drive(sequence(plan, kw, i, (t0, v, exc), timed_results(plan.names, before)))


def _timeout_error(h: Hook) -> HookTimeout:
    return HookTimeout(f"hook {h.name!r} timed out after {h.timeout:g}s")


def drive(step: Step) -> EmitResult:
    """Run a sequence to completion from sync code."""
    try:
        h, aw = next(step)
        while True:
            try:
                v = run_coroutine(aw, h.timeout)
            except TimeoutError:
                h, aw = step.throw(_timeout_error(h))
                continue
            except BaseException as exc:
                h, aw = step.throw(HookExited.of(h.name, exc))
                continue
            h, aw = step.send(v)
    except StopIteration as stop:
        return stop.value


async def adrive(step: Step) -> EmitResult:
    """Run a sequence from async code, awaiting async hooks on the caller's loop."""
    import asyncio  # imported where used: a CLI that never awaits should not pay for it

    try:
        h, aw = next(step)
        while True:
            try:
                v = await (asyncio.wait_for(aw, h.timeout) if h.timeout else aw)
            except TimeoutError:
                h, aw = step.throw(_timeout_error(h))
                continue
            except BaseException as exc:
                if isinstance(exc, asyncio.CancelledError) and _cancelling():
                    raise
                h, aw = step.throw(HookExited.of(h.name, exc))
                continue
            h, aw = step.send(v)
    except StopIteration as stop:
        return stop.value


def _cancelling() -> bool:
    """Whether the running task is being cancelled (a CancelledError that is not the hook's)."""
    import asyncio

    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


# --------------------------------------------------------------------------- parallel


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            from concurrent.futures import ThreadPoolExecutor

            _pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="hookrunner")
        return _pool


def _call_one(h: Hook, kw: dict[str, Any]) -> tuple[Any, BaseException | None, float]:
    t0 = perf_counter()
    try:
        v = h.invoke(kw)
        if h.is_async:
            v = run_coroutine(v, h.timeout)
        return v, None, (perf_counter() - t0) * 1e3
    except TimeoutError:
        return None, _timeout_error(h), (perf_counter() - t0) * 1e3
    except BaseException as exc:
        return None, HookExited.of(h.name, exc), (perf_counter() - t0) * 1e3


def _settle(
    plan: Plan, kw: dict[str, Any], outcomes: list[tuple[Hook, Any, Any, float]]
) -> EmitResult:
    """Report concurrently run hooks in plan order, as if they had run in sequence."""
    results: list[HookResult] = []
    changes: dict[str, Any] = {}
    for h, v, exc, ms in outcomes:
        if exc is not None:
            results.append(HookResult(h.name, False, exc, ms, None))
            _failed(plan, h, exc, kw, results)
            continue
        results.append(HookResult(h.name, True, None, ms, v))
        if v is not None:
            _absorb(plan, h, v, kw, changes)
    result = EmitResult(
        plan.spec.name, results, False, None, None, changes or EMPTY, plan.generation
    )
    if plan.state.observer is not None:
        plan.state.observer(result)
    return result


def _active(plan: Plan, kw: dict[str, Any]) -> list[Hook]:
    return [h for h in plan.hooks if not h.off and (h.match is None or h.match(kw))]


def parallel(plan: Plan, kw: dict[str, Any]) -> EmitResult:
    hooks = _active(plan, kw)
    futures = [_executor().submit(_call_one, h, kw) for h in hooks]
    try:
        outcomes = [(h, *f.result()) for h, f in zip(hooks, futures, strict=True)]
    except KeyboardInterrupt:  # the pool's threads are joined at exit: their commands must end
        from .command import kill_running

        kill_running()
        raise
    return _settle(plan, kw, outcomes)


async def aparallel(plan: Plan, kw: dict[str, Any]) -> EmitResult:
    import asyncio

    hooks = _active(plan, kw)

    async def one(h: Hook) -> tuple[Any, BaseException | None, float]:
        if not h.is_async:
            return await asyncio.to_thread(_call_one, h, kw)
        t0 = perf_counter()
        try:
            aw = h.invoke(kw)
            v = await (asyncio.wait_for(aw, h.timeout) if h.timeout else aw)
            return v, None, (perf_counter() - t0) * 1e3
        except TimeoutError:
            return None, _timeout_error(h), (perf_counter() - t0) * 1e3
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError) and _cancelling():
                raise
            return None, HookExited.of(h.name, exc), (perf_counter() - t0) * 1e3

    done = await asyncio.gather(*(one(h) for h in hooks))
    return _settle(plan, kw, [(h, *d) for h, d in zip(hooks, done, strict=True)])


# --------------------------------------------------------------------------- wrap and slot


def rebind(plan: Plan, kw: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict:
    """``original_func(x, key=y)``: positionals replace the event's payload arguments."""
    new = dict(kw)
    if args:
        present = [p for p in plan.spec.payload if new.get(p) is not None] or list(
            plan.spec.payload
        )
        if len(args) > len(present):
            raise TypeError(
                f"original_func takes at most {len(present)} positional argument(s) "
                f"({', '.join(present) or 'none'}), got {len(args)}"
            )
        new.update(zip(present, args, strict=False))
    new.update(kwargs)
    return new


def wrap(plan: Plan, kw: dict[str, Any], operation: Callable[..., Any] | None) -> EmitResult:
    """Nest the wrap hooks around ``operation``; the first hook in order is the outermost."""
    hooks = _active(plan, kw)
    results: list[HookResult] = []
    op = operation or (lambda **_: None)
    passed: list[BaseException] = []  # errors that came out of an original_func

    def layer(i: int, args: dict[str, Any]) -> Any:
        if i == len(hooks):
            return op(**args)
        h = hooks[i]

        def original_func(*a: Any, **k: Any) -> Any:
            # Bad arguments to original_func are this wrapper's own failure, not the inner's.
            inner = rebind(plan, args, a, k) if (a or k) else args
            try:
                return layer(i + 1, inner)
            except BaseException as exc:
                passed.append(exc)
                raise

        t0 = perf_counter()
        try:
            v = h.invoke(original_func, args)
            if h.is_async:
                v = run_coroutine(v, h.timeout)
        except BaseException as caught:
            if _among(caught, passed):
                raise
            exc = HookExited.of(h.name, caught)  # sys.exit() is a failure, Ctrl-C not
            if isinstance(exc, TimeoutError) and not isinstance(exc, HookTimeout):
                exc = _timeout_error(h)
            ms = (perf_counter() - t0) * 1e3
            if isinstance(exc, Veto):
                results.append(HookResult(h.name, True, None, ms, False))
                raise
            results.append(HookResult(h.name, False, exc, ms, None))
            _failed(plan, h, exc, args, results)  # re-raises under on_error: raise
            raise Veto(f"refused by {h.name}: {raised(exc)}") from exc
        results.append(HookResult(h.name, True, None, (perf_counter() - t0) * 1e3, v))
        return v

    try:
        value = layer(0, kw)
        outcome = EmitResult(plan.spec.name, results, value=value, generation=plan.generation)
    except Veto as exc:
        outcome = EmitResult(
            plan.spec.name, results, True, exc.reason, None, generation=plan.generation
        )
    results.reverse()  # inner layers finish first; report in plan order
    if plan.state.observer is not None:
        plan.state.observer(outcome)
    return outcome


def around(plan: Plan, kw: dict[str, Any]) -> EmitResult:
    """Wrap-mode hooks of a notify/veto/firstresult event around its other hooks (pluggy's
    hookwrappers): the first is the outermost; ``original_func()`` runs the next wrapper and
    finally the hooks, and returns their ``EmitResult``; keyword arguments replace event
    arguments for what it runs. A wrapper's duration leaves out the time spent in
    ``original_func``, so the durations of an emit add up. (``fastpath.compile_around``
    is the same for one plain wrapper.)"""
    assert plan.inner is not None
    inner = plan.inner
    wrappers = [h for h in plan.wrappers if not h.off and (h.match is None or h.match(kw))]
    done: list[HookResult | None] = [None] * len(wrappers)
    ran: list[EmitResult] = []
    passed: list[BaseException] = []  # errors that came out of an original_func

    def layer(i: int, args: dict[str, Any]) -> None:
        if i == len(wrappers):
            try:
                ran.append(inner.emit(args))
            except BaseException as exc:
                ran.append(inner_failed(inner, exc))
                raise
            return
        h = wrappers[i]
        spent = 0.0

        def original_func(*a: Any, **k: Any) -> EmitResult | None:
            nonlocal spent
            # Bad arguments to original_func are this wrapper's own failure, not the inner's.
            inner_args = rebind(plan, args, a, k) if (a or k) else args
            t = perf_counter()
            try:
                layer(i + 1, inner_args)
            except BaseException as exc:
                passed.append(exc)
                raise
            finally:
                spent += perf_counter() - t
            return ran[-1] if ran else None

        t0 = perf_counter()
        try:
            v = h.invoke(original_func, args)
            if h.is_async:
                v = run_coroutine(v, h.timeout)
        except BaseException as caught:
            from_inner = _among(caught, passed)
            if from_inner and not isinstance(caught, Exception):
                raise  # Ctrl-C (or an operation's sys.exit) from inside passes through
            failure = HookExited.of(h.name, caught)  # an Exception stays itself
            seconds = perf_counter() - t0 - spent
            done[i], error = _wrapper_failed(plan, h, failure, args, seconds, from_inner)
            if error is not None:
                raise error  # noqa: B904 - the original error, or what its policy made of it
            return
        done[i] = HookResult(h.name, True, None, (perf_counter() - t0 - spent) * 1e3, v)

    try:
        layer(0, kw)
    except BaseException as exc:
        return _around_end(plan, [r for r in done if r], ran[-1] if ran else None, exc)
    return _around_end(plan, [r for r in done if r], ran[-1] if ran else None)


def _among(exc: BaseException, errors: list[BaseException]) -> bool:
    return any(exc is e for e in errors)


def inner_failed(inner: Plan, exc: BaseException) -> EmitResult:
    """What the hooks inside wrappers did before one raised ``exc`` (``on_error: raise``);
    the error goes on through the wrappers as theirs to catch, not as their failure."""
    state = inner.state
    done = state.results_before(exc) if isinstance(state, Wrapped) else []
    return EmitResult(inner.spec.name, done, generation=inner.generation)


def _wrapper_failed(
    plan: Plan, h: Hook, exc: Exception, kw: dict[str, Any], seconds: float, inner: bool
) -> tuple[HookResult | None, BaseException | None]:
    """A wrapper's failure under its error policy: its result (None when ``inner``: the
    error came out of ``original_func``, it is not the wrapper's own) and the error to
    raise on (None: go on)."""
    if inner:
        return None, exc
    if isinstance(exc, TimeoutError) and not isinstance(exc, HookTimeout):
        exc = _timeout_error(h)
    if isinstance(exc, Veto) and plan.spec.style == "veto":
        return HookResult(h.name, True, None, seconds * 1e3, False), exc
    failed = HookResult(h.name, False, exc, seconds * 1e3, None)
    assert plan.inner is not None
    try:  # the inner plan has no observer: the failure is reported once, with the rest
        _failed(plan.inner, h, exc, kw, [])
    except BaseException as raised:
        return failed, raised
    if h.off:  # the circuit breaker: recompile without it
        plan.refresh()
    return failed, None


def around_failed(
    plan: Plan,
    kw: dict[str, Any],
    exc: BaseException,
    t0: float,
    got: EmitResult | None,
    inner: bool,
) -> EmitResult:
    """The compiled single-wrapper emit's failure path (see ``around``): ``got`` is what the
    wrapped hooks did, ``inner`` whether ``exc`` came out of them."""
    if not isinstance(exc, Exception):
        if inner:
            raise exc
        exc = HookExited.of(plan.wrappers[0].name, exc)
    seconds = perf_counter() - t0 - span(got)
    result, error = _wrapper_failed(plan, plan.wrappers[0], exc, kw, seconds, inner)
    return _around_end(plan, [result] if result is not None else [], got, error)


def _around_end(
    plan: Plan,
    done: list[HookResult],
    last: EmitResult | None,
    exc: BaseException | None = None,
) -> EmitResult:
    """The wrapped emit's outcome (wrappers' results, then the hooks'), reported once."""
    observer = plan.state.observer
    name = plan.spec.name
    if exc is not None:
        partial = last.results if last is not None else []
        # On a veto event only a wrapper's Veto gets here (the hooks' are results).
        if not (isinstance(exc, Veto) and plan.spec.style == "veto"):
            if observer is not None:
                observer(EmitResult(name, done + partial, generation=plan.generation))
            raise exc
        outcome = EmitResult(name, done + partial, True, exc.reason, generation=plan.generation)
    elif last is None:
        outcome = EmitResult(name, done, generation=plan.generation)
    else:
        outcome = EmitResult(
            name,
            done + last.results,
            last.vetoed,
            last.reason,
            last.value,
            last.changes,
            plan.generation,
        )
    if observer is not None:
        observer(outcome)
    return outcome


def slot(plan: Plan, kw: dict[str, Any]) -> EmitResult:
    """The first enabled, matching hook fills the slot; a failing one falls back (continue)."""
    results: list[HookResult] = []
    for h in _active(plan, kw):
        t0 = perf_counter()
        try:
            v = h.invoke(kw)
            if h.is_async:
                v = run_coroutine(v, h.timeout)
        except BaseException as caught:
            exc = HookExited.of(h.name, caught)  # sys.exit() is a failure, Ctrl-C not
            if isinstance(exc, TimeoutError) and not isinstance(exc, HookTimeout):
                exc = _timeout_error(h)  # an async slot hook cancelled at its timeout
            results.append(HookResult(h.name, False, exc, (perf_counter() - t0) * 1e3, None))
            _failed(plan, h, exc, kw, results)
            continue
        results.append(HookResult(h.name, True, None, (perf_counter() - t0) * 1e3, v))
        break
    else:
        default = plan.default()
        v = default(**kw) if default is not None else None
    outcome = EmitResult(plan.spec.name, results, value=v, generation=plan.generation)
    if plan.state.observer is not None:
        plan.state.observer(outcome)
    return outcome
