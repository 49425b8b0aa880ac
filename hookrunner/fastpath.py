"""Straight-line code for an event's common case: every hook runs and returns None.

A generic loop pays, per hook, for the loop itself, an invoker closure, a dict lookup per
argument and a result object. Here a plan is compiled once (at load time) into one function
that reads each event argument into a local once and then calls the hooks one after another
with positional arguments, the cheapest call CPython makes. The first hook that returns
something or raises hands the emit over to ``dispatch.resume``, which finishes it in the
general loop with identical semantics. Plans with async hooks, parallel plans, wrap and slot
events are not compiled.

In the default mode the function stamps the clock once per hook (a duration needs nothing
more), and results are built from the stamps only when someone reads them. In lean mode it
does not read the clock at all.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from types import CodeType
from typing import TYPE_CHECKING, Any

from . import dispatch

if TYPE_CHECKING:
    from .registry import Plan

Emit = Callable[..., Any]


# Compiling costs about 60 µs per hook; past this many hooks on one event the per-hook work
# dominates anyway and the general loop serves.
MAX_HOOKS = 1000


def eligible(plan: Plan) -> bool:
    """Sequential sync styles only; everything else keeps its own dispatcher."""
    spec = plan.spec
    if spec.style not in ("notify", "veto", "firstresult") or spec.parallel:
        return False
    return len(plan.hooks) <= MAX_HOOKS and not any(h.is_async for h in plan.hooks)


def _call(h: Any, i: int, local: dict[str, str]) -> str:
    """The call expression of hook ``i``: direct and positional when its invoker allows."""
    direct = getattr(h.invoke, "direct", None)
    if direct is None:
        return f"f{i}(kw)"
    return f"f{i}({', '.join(local[name] for name in direct[1])})"


def compile_plan(plan: Plan) -> Emit:
    """Generate ``emit(kw, operation=None)`` for ``plan`` (see the module docstring)."""
    lean = plan.state.lean
    spec = plan.spec
    direct = all(hasattr(h.invoke, "direct") for h in plan.hooks)
    used = {n for h in plan.hooks for n in getattr(h.invoke, "direct", ((), ()))[1]}
    # Reading an argument that is missing (KeyError) sends kw through fill() first; only a
    # hook that receives the whole dict (**kwargs, keyword-only) needs all of them present.
    names = [n for n in plan.defaults if n in used or not direct]
    local = {name: f"_a{j}" for j, name in enumerate(names)}
    ns: dict[str, Any] = {
        "fill": plan._args,
        "clock": perf_counter,
        "resume": dispatch.resume,
        "Quiet": dispatch.QuietResult,
        "plan": plan,
        "state": plan.state,
        "quiet": dispatch.EmitResult(spec.name, [], generation=plan.generation),
    }
    hoist = "; ".join(f"{local[n]} = kw[{n!r}]" for n in names) or "pass"
    lines = ["def emit(kw, operation=None):"]
    if spec.open_args or plan.stamp:  # extra keys are allowed, or a timestamp is due
        lines.append("    kw = fill(kw)")
    lines += ["    try:", f"        {hoist}", "    except KeyError:", "        kw = fill(kw)"]
    lines.append(f"        {hoist}")
    if not lean:
        lines.append("    t0 = clock()")
    # On a handover, resume() reads the stamps so far (t0, t1, ...) from locals().
    mark = "None" if lean else "locals()"
    for i, h in enumerate(plan.hooks):
        skipped = "" if lean else f"t{i + 1} = None"
        if h.off:
            if skipped:
                lines.append(f"    {skipped}")
            continue
        ns[f"f{i}"] = getattr(h.invoke, "direct", (h.invoke,))[0]
        pad = "    "
        if h.match is not None:
            ns[f"m{i}"] = h.match
            lines.append(f"    if m{i}(kw):")
            pad = "        "
        lines += [
            f"{pad}try:",
            f"{pad}    v = {_call(h, i, local)}",
            f"{pad}except Exception as e:",
            f"{pad}    return resume(plan, kw, {mark}, {i}, None, e)",
        ]
        if not lean:
            lines.append(f"{pad}t{i + 1} = clock()")
        lines += [
            f"{pad}if v is not None:",
            f"{pad}    return resume(plan, kw, {mark}, {i}, v, None)",
        ]
        if h.match is not None and skipped:
            lines += ["    else:", f"        {skipped}"]
    if lean:
        lines.append("    r = quiet")
    else:
        stamps = ", ".join(f"t{i}" for i in range(len(plan.hooks) + 1))
        lines.append(f"    r = Quiet(plan, ({stamps},))")
    lines += [
        "    if state.observer is not None:",
        "        state.observer(r)",
        "    return r",
    ]
    source = "\n".join(lines) + "\n"
    exec(_code(source, f"<hookrunner plan {spec.name}>"), ns)  # noqa: S102
    return ns["emit"]


# Compiled sources: the text depends only on the plan's shape (hook count, argument names,
# matchers), so a reload or the next run of a pipeline finds it here instead of paying
# ``compile`` (about 250 µs per plan) again. Bounded: shapes are few in practice.
_CODE: dict[tuple[str, str], CodeType] = {}
_MAX_CODE = 512


def _code(source: str, filename: str) -> CodeType:
    key = (source, filename)
    code = _CODE.get(key)
    if code is None:
        if len(_CODE) >= _MAX_CODE:
            _CODE.clear()
        code = _CODE[key] = compile(source, filename, "exec")
    return code
