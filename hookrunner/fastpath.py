"""Straight-line code for an event's common case: every hook runs and returns None.

A generic loop pays, per hook, for the loop itself, an invoker closure, a dict lookup per
argument and a result object. Here a plan is compiled once (at load time) into one function
that reads each event argument into a local once and then calls the hooks one after another
with positional arguments, the cheapest call CPython makes. The first hook that returns
something or raises hands the emit over to ``dispatch.resume``, which finishes it in the
general loop with identical semantics. Plans with async hooks, parallel plans, wrap and slot
events are not compiled; one plain wrap-mode hook around compilable hooks is (``compile_around``,
property-tested against ``dispatch.around``).

In the default mode the function stamps the clock once per hook (a duration needs nothing
more), and results are built from the stamps only when someone reads them. A clock read costs
about twice a trivial hook call, so an event whose hooks keep finishing in under a microsecond
each is then timed as a whole, its hooks sharing the measured time evenly (adaptive timing;
``settings.timing: exact`` turns it off); the first slow emit brings the stamps back. In lean
mode nothing is timed.
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
# Adaptive timing (``settings.timing: auto``): an event whose hooks take under RESOLUTION
# seconds each, SETTLE emits in a row, is timed as a whole from then on; a slow whole emit
# switches back to a clock stamp per hook for twice as many emits as before (at most
# MAX_SETTLE). A clock read costs about 50 ns, twice a trivial hook call.
RESOLUTION = 1e-6
SETTLE = 8
MAX_SETTLE = 4096


def eligible(plan: Plan) -> bool:
    """Sequential sync styles only; everything else keeps its own dispatcher."""
    spec = plan.spec
    if spec.style not in ("notify", "veto", "firstresult") or spec.parallel:
        return False
    return len(plan.hooks) <= MAX_HOOKS and not any(h.is_async for h in plan.hooks)


def around_eligible(plan: Plan) -> bool:
    """One plain sync wrapper (no matcher, no timeout) around hooks ``compile_plan`` takes."""
    if len(plan.wrappers) != 1 or plan.inner is None or not eligible(plan.inner):
        return False
    w = plan.wrappers[0]
    return not (w.off or w.is_async or w.match is not None or not hasattr(w.invoke, "direct"))


def _call(h: Any, i: int, local: dict[str, str]) -> str:
    """The call expression of hook ``i``: direct and positional when its invoker allows."""
    direct = getattr(h.invoke, "direct", None)
    if direct is None:
        return f"f{i}(kw)"
    return f"f{i}({', '.join(local[name] for name in direct[1])})"


def compile_plan(plan: Plan) -> Emit:
    """Generate ``emit(kw, operation=None)`` for ``plan`` (see the module docstring).

    With adaptive timing it also generates the whole-emit variant, and each variant
    installs the other as ``plan.emit`` when the hooks' speed says so.
    """
    lean, adaptive, ns, local, prologue = _frame(plan, plan)
    epilogue = [
        "    if state.observer is not None:",
        "        state.observer(r)",
        "    return r",
    ]
    head = ["    global left, settle"] if adaptive else []
    lines = ["def emit(kw, operation=None):", *head, *prologue]
    lines += [*_each(plan, local, lean, adaptive), *epilogue]
    if adaptive:
        lines += ["def coarse(kw, operation=None):", *head, *prologue]
        lines += [*_whole(plan, local), *epilogue]
    return _build(plan, lines, ns)


def compile_around(plan: Plan) -> Emit:
    """Generate the emit of one wrap-mode hook around an event's hooks (``dispatch.around``
    semantics): the hooks run inline inside ``original_func``, so wrapping costs a closure
    and two calls. Timing: the wrapper is stamped before and after; the hooks inside as in
    ``compile_plan``, adaptively."""
    assert plan.inner is not None
    inner = plan.inner
    wrapper = plan.wrappers[0]
    lean, adaptive, ns, local, prologue = _frame(inner, plan, wrapper)
    ns["iplan"] = inner
    ns["w0"] = wrapper.invoke.direct[0]  # type: ignore[attr-defined]
    ns["rebind"] = dispatch.rebind
    ns["inner_failed"] = dispatch.inner_failed
    ns["around_failed"] = dispatch.around_failed
    ns["Around"] = dispatch.AroundResult
    args = "".join(f", {local[n]}" for n in wrapper.invoke.direct[1])  # type: ignore[attr-defined]
    keep = "got = {}; return got"

    def variant(name: str, body: list[str]) -> list[str]:
        return [
            f"def {name}(kw, operation=None):",
            *prologue,
            "    got = None",
            "    def original_func(*a, **k):",
            *(["        global left, settle"] if adaptive else []),
            "        nonlocal got",
            "        if a or k:",
            "            moved = rebind(plan, kw, a, k)  # bad arguments: the wrapper's failure",
            "            try:",
            "                got = iplan.emit(moved)",
            "            except BaseException as e:",
            "                got = inner_failed(iplan, e)",
            "                raise",
            "            return got",
            "        try:",
            *("        " + line for line in body),
            "            got = r",
            "            return r",
            "        except BaseException as e:",
            "            got = inner_failed(iplan, e)",
            "            raise",
            "    t0 = clock()",
            "    try:",
            f"        v = w0(original_func{args})",
            "    except Exception as e:",
            "        return around_failed(plan, kw, e, t0, got)",
            "    r = Around()",
            "    r._plan = plan",
            "    r._ts = (t0, clock(), got, v)",
            "    if state.observer is not None:",
            "        state.observer(r)",
            "    return r",
        ]

    body = _each(inner, local, lean, adaptive, of="iplan", ret=keep)
    lines = variant("emit", body)
    if adaptive:
        lines += variant("coarse", _whole(inner, local, of="iplan", ret=keep))
    return _build(plan, lines, ns)


def _frame(
    plan: Plan, owner: Plan, wrapper: Any = None
) -> tuple[bool, bool, dict[str, Any], dict[str, str], list[str]]:
    """What both generators share: the mode, the namespace (the hooks of ``plan``), the
    event arguments read into locals and the prologue that reads them. ``owner`` is the plan
    whose ``emit`` the generated functions are."""
    lean = plan.state.lean
    spec = plan.spec
    live = [h for h in plan.hooks if not h.off]
    adaptive = not lean and not owner.exact and len(live) >= 2
    hooks = [*plan.hooks, *([wrapper] if wrapper is not None else [])]
    direct = all(hasattr(h.invoke, "direct") for h in hooks)
    used = {n for h in hooks for n in getattr(h.invoke, "direct", ((), ()))[1]}
    # Reading an argument that is missing (KeyError) sends kw through fill() first; only a
    # hook that receives the whole dict (**kwargs, keyword-only) needs all of them present.
    names = [n for n in plan.defaults if n in used or not direct]
    local = {name: f"_a{j}" for j, name in enumerate(names)}
    ns: dict[str, Any] = {
        "fill": plan._args,
        "clock": perf_counter,
        "resume": dispatch.resume,
        "spread": spread,
        "Quiet": dispatch.QuietResult,
        "Shared": dispatch.SharedResult,
        "plan": owner,
        "state": owner.state,
        "quiet": dispatch.EmitResult(spec.name, [], generation=plan.generation),
        "bound": RESOLUTION * len(live),
        "left": SETTLE,
        "settle": SETTLE,
        "most": MAX_SETTLE,
    }
    for i, h in enumerate(plan.hooks):
        ns[f"f{i}"] = getattr(h.invoke, "direct", (h.invoke,))[0]
        if h.match is not None:
            ns[f"m{i}"] = h.match
    hoist = "; ".join(f"{local[n]} = kw[{n!r}]" for n in names) or "pass"
    prologue = []
    if spec.open_args or plan.stamp:  # extra keys are allowed, or a timestamp is due
        prologue.append("    kw = fill(kw)")
    prologue += ["    try:", f"        {hoist}", "    except KeyError:", "        kw = fill(kw)"]
    prologue.append(f"        {hoist}")
    return lean, adaptive, ns, local, prologue


def _build(plan: Plan, lines: list[str], ns: dict[str, Any]) -> Emit:
    source = "\n".join(lines) + "\n"
    exec(_code(source, f"<hookrunner plan {plan.spec.name}>"), ns)  # noqa: S102
    return ns["emit"]


def _each(
    plan: Plan,
    local: dict[str, str],
    lean: bool,
    adaptive: bool,
    of: str = "plan",
    ret: str = "return {}",
) -> list[str]:
    """The body that times each hook (stamps t0, t1, ...), or nothing in lean mode.

    ``of`` names the plan the hooks belong to in the generated code; ``ret`` is the
    statement a handover ends with (``compile_around`` keeps what the hooks did).
    """
    te = " = te" if adaptive else ""  # the last stamp, for the speed check below
    lines = [] if lean else [f"    t0{te} = clock()"]
    # On a handover, resume() reads the stamps so far (t0, t1, ...) from locals().
    mark = "None" if lean else "locals()"
    for i, h in enumerate(plan.hooks):
        skipped = "" if lean else f"t{i + 1} = None"
        if h.off:
            if skipped:
                lines.append(f"    {skipped}")
            continue
        pad = "    "
        if h.match is not None:
            lines.append(f"    if m{i}(kw):")
            pad = "        "
        lines += [
            f"{pad}try:",
            f"{pad}    v = {_call(h, i, local)}",
            f"{pad}except Exception as e:",
            f"{pad}    {ret.format(f'resume({of}, kw, {mark}, {i}, None, e)')}",
        ]
        if not lean:
            lines.append(f"{pad}t{i + 1}{te} = clock()")
        lines += [
            f"{pad}if v is not None:",
            f"{pad}    {ret.format(f'resume({of}, kw, {mark}, {i}, v, None)')}",
        ]
        if h.match is not None and skipped:
            lines += ["    else:", f"        {skipped}"]
    if lean:
        return [*lines, "    r = quiet"]
    if adaptive:  # fast enough for SETTLE emits in a row: time the next ones as a whole
        lines += [
            "    if te - t0 <= bound:",
            "        left -= 1",
            "        if left <= 0:",
            "            plan.emit = coarse",
            "    else:",
            "        left = settle",
        ]
    stamps = ", ".join(f"t{i}" for i in range(len(plan.hooks) + 1))
    return [*lines, "    r = Quiet()", f"    r._plan = {of}", f"    r._ts = ({stamps},)"]


def _whole(
    plan: Plan, local: dict[str, str], of: str = "plan", ret: str = "return {}"
) -> list[str]:
    """The body that stamps the clock before the first hook and after the last only."""
    lines = ["    t0 = clock()"]
    flags = []
    for i, h in enumerate(plan.hooks):
        if h.off:
            lines.append(f"    t{i + 1} = None")
            flags.append(f"t{i + 1}")
            continue
        pad = "    "
        if h.match is not None:
            lines += [f"    if m{i}(kw):", f"        t{i + 1} = 1"]
            pad = "        "
            flags.append(f"t{i + 1}")
        else:
            flags.append("1")
        lines += [
            f"{pad}try:",
            f"{pad}    v = {_call(h, i, local)}",
            f"{pad}except Exception as e:",
            f"{pad}    {ret.format(f'resume({of}, kw, spread(locals(), {i}), {i}, None, e)')}",
            f"{pad}if v is not None:",
            f"{pad}    {ret.format(f'resume({of}, kw, spread(locals(), {i}), {i}, v, None)')}",
        ]
        if h.match is not None:
            lines += ["    else:", f"        t{i + 1} = None"]
    ran = f", ({', '.join(flags)},)" if any(f != "1" for f in flags) else ""
    return [
        *lines,
        "    te = clock()",
        "    if te - t0 > bound:  # a slow emit: time each hook again, and longer this time",
        "        settle = min(settle * 2, most)",
        "        left = settle",
        "        plan.emit = emit",
        "    r = Shared()",
        f"    r._plan = {of}",
        f"    r._ts = (t0, te{ran})",
    ]


def spread(frame: dict[str, Any], i: int) -> dict[str, Any]:
    """Stamps for ``resume`` when hooks ``0..i`` ran untimed (the whole-emit variant): the
    time since ``t0`` is shared evenly among the hooks that ran, hook ``i`` included (when it
    failed, ``resume`` reads only its start)."""
    ran = [frame.get(f"t{k + 1}", 1) for k in range(i + 1)]
    stamps = dispatch.shared_stamps(frame["t0"], perf_counter(), ran)
    return {f"t{k}": t for k, t in enumerate(stamps)}


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
