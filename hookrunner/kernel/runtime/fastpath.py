"""Straight-line code for an event's common case: every hook runs and returns None.

A generic loop pays, per hook, for the loop itself, an invoker closure, a dict lookup per
argument and a result object. Here a plan is compiled once (on its first emit) into one
function that reads each event argument into a local once and then calls the hooks one after
another with positional arguments, the cheapest call CPython makes. The first hook that
returns something or raises hands the emit over to ``dispatch.resume``, which finishes it in
the general loop with identical semantics. Plans with async hooks, parallel plans, wrap and
slot events are not compiled; one plain wrap-mode hook around compilable hooks is
(``compile_around``, property-tested against ``dispatch.around``).

The contract, both ways:

- **What it reads from a hook** (``Hook``): ``fn`` and ``positional`` (called as
  ``fn(*[kw[n] for n in positional])``; a hook whose ``positional`` is None is called as
  ``invoke(kw)``), ``match`` and ``off``.
- **What it gives back**: a ``QuietResult`` (``_ts``: the emit's start, then the end of each
  hook, None for one that did not run), a ``SharedResult`` (``_ts``: start and end of the
  whole emit), an ``AroundResult``, or, on a handover, whatever ``dispatch.resume(plan, kw,
  stamps, i, value, error)`` returns, given the stamps so far as a tuple.

In the default mode the function stamps the clock once per hook (a duration needs nothing
more). A clock read costs about twice a trivial hook call, so an event whose hooks keep
finishing in under a microsecond each is then timed as a whole, its hooks sharing the
measured time evenly (adaptive timing; ``settings.timing: exact`` turns it off). Two slow
emits in a row bring the stamps back: one alone is as likely a descheduled thread as a slow
hook, and it must not send a hot event back to a stamp per hook. The counters that decide
this are variables of the closure the two variants share. In lean mode nothing is timed.
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from types import CodeType
from typing import TYPE_CHECKING, Any

from . import dispatch
from .results import AroundResult, EmitResult, QuietResult, SharedResult, shared_stamps

if TYPE_CHECKING:
    from .callplan import CallPlan as Plan
    from .hook import Hook

Emit = Callable[..., Any]


# Compiling costs about 60 µs per hook; past this many hooks on one event the per-hook work
# dominates anyway and the general loop serves.
MAX_HOOKS = 1000
# Adaptive timing (``settings.timing: auto``): an event whose hooks take under RESOLUTION
# seconds each is timed as a whole once SETTLE more of its emits were fast than slow (a slow
# one puts one back, up to SETTLE: a loaded machine's stalls do not keep it stamped); STRIKES
# slow whole emits in a row switch it back to a clock stamp per hook, and SETTLE doubles (at
# most MAX_SETTLE). A clock read costs about 50 ns, twice a trivial hook call.
RESOLUTION = 1e-6
SETTLE = 8
MAX_SETTLE = 4096
STRIKES = 2


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
    return not (w.off or w.is_async or w.match is not None or w.positional is None)


def _call(h: Hook, i: int, local: dict[str, str]) -> str:
    """The call expression of hook ``i``: direct and positional when it allows."""
    if h.positional is None:
        return f"f{i}(kw)"
    return f"f{i}({', '.join(local[name] for name in h.positional)})"


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
    head = ["    nonlocal left, settle"] if adaptive else []
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
    assert wrapper.positional is not None
    lean, adaptive, ns, local, prologue = _frame(inner, plan, wrapper)
    ns["iplan"] = inner
    ns["w0"] = wrapper.fn
    ns["rebind"] = dispatch.rebind
    ns["inner_failed"] = dispatch.inner_failed
    ns["around_failed"] = dispatch.around_failed
    ns["Around"] = AroundResult
    args = "".join(f", {local[n]}" for n in wrapper.positional)
    keep = "got = {}; return got"
    counters = ", left, settle" if adaptive else ""

    def variant(name: str, body: list[str]) -> list[str]:
        return [
            f"def {name}(kw, operation=None):",
            *prologue,
            "    got = None",
            "    raised = None  # an error of the hooks, on its way out through the wrapper",
            "    def original_func(*a, **k):",
            f"        nonlocal got, raised{counters}",
            "        if a or k:",
            "            moved = rebind(plan, kw, a, k)  # bad arguments: the wrapper's failure",
            "            try:",
            "                got = iplan.emit(moved)",
            "            except BaseException as e:",
            "                got = inner_failed(iplan, e)",
            "                raised = e",
            "                raise",
            "            return got",
            "        try:",
            *("        " + line for line in body),
            "            got = r",
            "            return r",
            "        except BaseException as e:",
            "            got = inner_failed(iplan, e)",
            "            raised = e",
            "            raise",
            "    t0 = clock()",
            "    try:",
            f"        v = w0(original_func{args})",
            "    except BaseException as e:",
            "        return around_failed(plan, kw, e, t0, got, e is raised)",
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
    plan: Plan, owner: Plan, wrapper: Hook | None = None
) -> tuple[bool, bool, dict[str, Any], dict[str, str], list[str]]:
    """What both generators share: the mode, the namespace (the hooks of ``plan``), the
    event arguments read into locals and the prologue that reads them. ``owner`` is the plan
    whose ``emit`` the generated functions are."""
    lean = plan.state.lean
    spec = plan.spec
    live = [h for h in plan.hooks if not h.off]
    adaptive = not lean and not owner.exact and len(live) >= 2
    # Every argument is read into a local: an emit whose dict has as many keys as the event
    # has arguments and all of them is exactly right; any other goes through fill() (a
    # missing key raises KeyError on the way), which completes it or refuses it.
    names = list(plan.defaults)
    local = {name: f"_a{j}" for j, name in enumerate(names)}
    ns: dict[str, Any] = {
        "fill": plan.fill,
        "clock": perf_counter,
        "resume": dispatch.resume,
        "shared": shared_stamps,
        "Quiet": QuietResult,
        "Shared": SharedResult,
        "plan": owner,
        "state": owner.state,
        "quiet": EmitResult(spec.name, [], generation=plan.generation),
        "bound": RESOLUTION * len(live),
        "most": MAX_SETTLE,
        "strikes": STRIKES,
    }
    for i, h in enumerate(plan.hooks):
        ns[f"f{i}"] = h.fn if h.positional is not None else h.invoke
        if h.match is not None:
            ns[f"m{i}"] = h.match
    hoist = "; ".join(f"{local[n]} = kw[{n!r}]" for n in names) or "pass"
    prologue = []
    if plan.stamp:  # a timestamp is due
        prologue.append("    kw = fill(kw)")
    else:  # arguments left out, or others given: fill() completes or refuses them
        prologue.append(f"    if len(kw) != {len(names)}: kw = fill(kw)")
    prologue += ["    try:", f"        {hoist}", "    except KeyError:", "        kw = fill(kw)"]
    prologue.append(f"        {hoist}")
    return lean, adaptive, ns, local, prologue


def compile_empty(plan: Plan) -> Emit:
    """The emit of an event without hooks: the arguments are checked as on any emit (an
    emit that passes exactly the event's arguments pays two reads per argument), then the
    constant empty result."""
    names = list(plan.defaults)
    reads = "; ".join(f"kw[{n!r}]" for n in names) or "pass"
    lines = [
        "def emit(kw, operation=None):",
        f"    if len(kw) != {len(names)}: fill(kw)",
        "    try:",
        f"        {reads}",
        "    except KeyError:",
        "        fill(kw)",
        "    return empty",
    ]
    empty = EmitResult(plan.spec.name, [], generation=plan.generation)
    ns: dict[str, Any] = {"fill": plan.fill, "empty": empty, "plan": plan}
    return _build(plan, lines, ns)


def _build(plan: Plan, lines: list[str], ns: dict[str, Any]) -> Emit:
    """Compile the variants inside ``make()``, whose locals ``left`` and ``settle`` are the
    adaptive timing counters the variants share (``left``: fast emits still due before
    whole-emit timing; once there, the slow emits in a row), and return the ``emit``
    variant."""
    body = ["def make():", f"    left = settle = {SETTLE}"]
    body += ["    " + line for line in lines]
    body.append("    return emit")
    source = "\n".join(body) + "\n"
    exec(_code(source, f"<hookrunner plan {plan.spec.name}>"), ns)  # noqa: S102
    emit: Emit = ns["make"]()
    return emit


def variants(emit: Emit) -> dict[str, Emit]:
    """The compiled variants behind a plan's ``emit``, by name: ``emit`` (a stamp per hook)
    and, with adaptive timing, ``coarse`` (whole-emit timing); empty when not compiled."""
    code = getattr(emit, "__code__", None)
    if code is None or not code.co_filename.startswith("<hookrunner plan "):
        return {}
    found = {emit.__name__: emit}
    for name, cell in zip(code.co_freevars, getattr(emit, "__closure__", None) or (), strict=True):
        if name in ("emit", "coarse"):
            found[name] = cell.cell_contents
    return {name: found[name] for name in ("emit", "coarse") if name in found}


def _stamps(upto: int) -> str:
    """The tuple literal of the stamps ``t0 .. t{upto}``."""
    return "(" + "".join(f"t{k}, " for k in range(upto + 1)) + ")"


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
    for i, h in enumerate(plan.hooks):
        skipped = "" if lean else f"t{i + 1} = None"
        if h.off:
            if skipped:
                lines.append(f"    {skipped}")
            continue
        # On a handover, resume() gets the stamps so far (and hook i's end if it returned).
        failed = "None" if lean else _stamps(i)
        returned = "None" if lean else _stamps(i + 1)
        pad = "    "
        if h.match is not None:
            lines.append(f"    if m{i}(kw):")
            pad = "        "
        lines += [
            f"{pad}try:",
            f"{pad}    v = {_call(h, i, local)}",
            f"{pad}except BaseException as e:  # resume() sorts out what it means",
            f"{pad}    {ret.format(f'resume({of}, kw, {failed}, {i}, None, e)')}",
        ]
        if not lean:
            lines.append(f"{pad}t{i + 1}{te} = clock()")
        lines += [
            f"{pad}if v is not None:",
            f"{pad}    {ret.format(f'resume({of}, kw, {returned}, {i}, v, None)')}",
        ]
        if h.match is not None and skipped:
            lines += ["    else:", f"        {skipped}"]
    if lean:
        return [*lines, "    r = quiet"]
    if adaptive:  # SETTLE more fast emits than slow ones: time the next ones as a whole
        lines += [
            "    if te - t0 <= bound:",
            "        left -= 1",
            "        if left <= 0:",
            "            left = 0  # from here on: the slow whole emits in a row",
            "            plan.emit = coarse",
            "    elif left < settle:",
            "        left += 1",
        ]
    stamps = ", ".join(f"t{i}" for i in range(len(plan.hooks) + 1))
    return [*lines, "    r = Quiet()", f"    r._plan = {of}", f"    r._ts = ({stamps},)"]


def _whole(
    plan: Plan, local: dict[str, str], of: str = "plan", ret: str = "return {}"
) -> list[str]:
    """The body that stamps the clock before the first hook and after the last only.

    On a handover the time so far is shared among the hooks that ran (``ran``: 1, or None
    for a hook that was off or did not match)."""
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
        ran = "(" + "".join(f"{f}, " for f in flags) + ")"
        stamps = f"shared(t0, clock(), {ran})"
        lines += [
            f"{pad}try:",
            f"{pad}    v = {_call(h, i, local)}",
            f"{pad}except BaseException as e:  # resume() sorts out what it means",
            f"{pad}    {ret.format(f'resume({of}, kw, {stamps}, {i}, None, e)')}",
            f"{pad}if v is not None:",
            f"{pad}    {ret.format(f'resume({of}, kw, {stamps}, {i}, v, None)')}",
        ]
        if h.match is not None:
            lines += ["    else:", f"        t{i + 1} = None"]
    ran = f", ({', '.join(flags)},)" if any(f != "1" for f in flags) else ""
    return [
        *lines,
        "    te = clock()",
        "    if te - t0 > bound:",
        "        left += 1",
        "        if left >= strikes:  # slow again: time each hook again, and longer this time",
        "            settle = min(settle * 2, most)",
        "            left = settle",
        "            plan.emit = emit",
        "    elif left:",
        "        left = 0",
        "    r = Shared()",
        f"    r._plan = {of}",
        f"    r._ts = (t0, te{ran})",
    ]


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
