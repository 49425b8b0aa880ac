"""``mode: wrap`` hooks on notify, veto and firstresult events: pluggy's hookwrappers (§3)."""

from __future__ import annotations

import asyncio
import importlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sources import source
from test_fastpath import MODULE as FASTPATH_HOOKS

from hookrunner import HookRunner
from hookrunner.kernel.runtime import fastpath

HOOKS = source("wrap_mode_hooks")


def _runner(project, hooks: str, events: str = "") -> tuple[HookRunner, object]:
    mod = project.module(HOOKS)
    body = hooks.replace("M:", f"{mod}:")
    path = project.write(
        "hooks.yaml",
        "version: 1\nevents:\n  ping: {args: [x]}\n  gate: {args: [x], style: veto}\n"
        "  pick: {args: [x], style: firstresult}\n" + events + "hooks:\n" + body,
    )
    return HookRunner.from_files(path), importlib.import_module(mod)


def test_wrappers_nest_in_order_around_the_other_hooks(project):
    runner, mod = _runner(
        project,
        "  - {name: a, event: ping, call: M:a, priority: 1}\n"
        "  - {name: outer, event: ping, call: M:outer, mode: wrap, priority: 100}\n"
        "  - {name: scale, event: ping, call: M:scale, mode: wrap, priority: 200}\n"
        "  - {name: b, event: ping, call: M:b}\n",
    )
    with runner:
        r = runner.emit("ping", x=1)
    # The wrappers wrap every other hook whatever its priority; the first is the outermost,
    # and original_func(x=...) changes what the hooks inside receive.
    assert mod.LOG == [
        "outer in",
        "scale in",
        ("a", 10),
        ("b", 10),
        ("outer out", ["a", "b"], None, False),
    ]
    assert [(h.name, h.ok) for h in r.results] == [
        ("outer", True),
        ("scale", True),
        ("a", True),
        ("b", True),
    ]
    assert r.results[0].value == "kept in its result" and r.value is None


def test_a_wrapper_that_does_not_call_original_func_skips_the_hooks(project):
    runner, mod = _runner(
        project,
        "  - {name: a, event: ping, call: M:a}\n"
        "  - {name: skip, event: ping, call: M:skip, mode: wrap}\n",
    )
    with runner:
        r = runner.emit("ping", x=1)
    assert mod.LOG == ["skip"]
    assert [h.name for h in r.results] == ["skip"]


def test_a_wrapper_duration_leaves_out_the_hooks_it_wraps(project):
    runner, _ = _runner(
        project,
        "  - {name: slow, event: ping, call: M:slow}\n"
        "  - {name: outer, event: ping, call: M:outer, mode: wrap}\n",
    )
    with runner:
        r = runner.emit("ping", x=1)
    took = {h.name: h.duration_ms for h in r.results}
    assert took["slow"] >= 19
    assert took["outer"] < took["slow"]


def test_veto_and_firstresult_pass_through_wrappers(project):
    runner, mod = _runner(
        project,
        "  - {name: says_no, event: gate, call: M:no}\n"
        "  - {name: outer_gate, event: gate, call: M:outer, mode: wrap}\n"
        "  - {name: first, event: pick, call: M:first}\n"
        "  - {name: outer_pick, event: pick, call: M:outer, mode: wrap}\n"
        "  - {name: refuse, event: ping, call: M:refuse, mode: wrap}\n",
        events="",
    )
    with runner:
        gate = runner.emit("gate", x=1)
        pick = runner.emit("pick", x=2)
        assert gate.vetoed and gate.reason == "vetoed by says_no"
        assert pick.value == "first 2"
        assert ("outer out", ["says_no"], None, True) in mod.LOG
        assert ("outer out", ["first"], "first 2", False) in mod.LOG
        # A wrapper's Veto on a notify event is a failure like any other exception.
        ping = runner.emit("ping", x=1)
        assert not ping.vetoed and not ping.results[0].ok


def test_a_wrapper_can_veto_a_veto_event(project):
    runner, mod = _runner(
        project,
        "  - {name: a, event: gate, call: M:a}\n"
        "  - {name: refuse, event: gate, call: M:refuse, mode: wrap}\n",
    )
    with runner:
        r = runner.emit("gate", x=1)
    assert r.vetoed and r.reason == "not today" and mod.LOG == []
    assert [(h.name, h.ok, h.value) for h in r.results] == [("refuse", True, False)]


def test_wrapper_failures_follow_their_error_policy(project):
    runner, mod = _runner(
        project,
        "  - {name: a, event: ping, call: M:a}\n"
        "  - {name: broken, event: ping, call: M:broken, mode: wrap}\n"
        "  - {name: errors, event: post_error, call: M:errors}\n",
    )
    with runner:
        r = runner.emit("ping", x=1)
    # on_error: continue: the failure is recorded, post_error fires, the hooks' results stay.
    assert [(h.name, h.ok) for h in r.results] == [("broken", False), ("a", True)]
    assert str(r.results[0].error) == "wrapper broke"
    assert ("post_error", "broken") in mod.LOG

    raising, _ = _runner(
        project,
        "  - {name: broken, event: ping, call: M:broken, mode: wrap, on_error: raise}\n",
    )
    with raising, pytest.raises(RuntimeError, match="wrapper broke"):
        raising.emit("ping", x=1)


def test_an_inner_failure_reaches_the_emitter_or_the_wrapper(project, tmp_path):
    runner, mod = _runner(
        project,
        "  - {name: a, event: ping, call: M:a}\n"
        "  - {name: fails, event: ping, call: M:fails, on_error: raise}\n"
        "  - {name: outer, event: ping, call: M:outer, mode: wrap}\n"
        "  - {name: b, event: pick, call: M:fails, on_error: raise}\n"
        "  - {name: shield, event: pick, call: M:shield, mode: wrap}\n",
    )
    with runner, runner.session(store=tmp_path / "s.db") as s:
        with pytest.raises(KeyError, match="inner"):
            s.emit("ping", x=1)  # the wrapper does not catch it: it is not its failure
        r = s.emit("pick", x=1)  # this one does
        s.flush()
        calls = [(c["event"], c["hook"], c["ok"]) for c in s.store.hook_calls(s.id)]
    assert ("shielded", "'inner'") in mod.LOG
    assert [(h.name, h.ok) for h in r.results] == [("shield", True), ("b", False)]
    # The exception passed through outer: not outer's failure, and outer did not finish.
    assert ("ping", "a", True) in calls and ("ping", "fails", False) in calls
    assert ("pick", "shield", True) in calls and ("pick", "b", False) in calls
    assert not any(hook == "outer" for _, hook, _ in calls)


def test_wrap_mode_needs_original_func_and_fits_sequential_events_only(project, cli):
    mod = project.module(HOOKS)
    path = project.write(
        "hooks.yaml",
        f"version: 1\nevents:\n  ping: {{args: [x]}}\nhooks:\n"
        f"  - {{name: a, event: ping, call: {mod}:a, mode: wrap}}\n"
        f"  - {{name: s, event: build_s3_client, call: {mod}:outer, mode: wrap}}\n",
    )
    got = cli("validate", str(path), "--format", "json")
    assert got.returncode == 2
    messages = [p["message"] for p in json.loads(got.stdout)[0]["problems"]]
    assert any("'original_func' as its first parameter" in m for m in messages)
    assert any("mode 'wrap' does not fit event 'build_s3_client'" in m for m in messages)


def test_aemit_runs_wrappers_too(project):
    runner, mod = _runner(
        project,
        "  - {name: a, event: ping, call: M:a}\n"
        "  - {name: scale, event: ping, call: M:scale, mode: wrap}\n",
    )
    with runner:
        r = asyncio.run(runner.aemit("ping", x=2))
    assert mod.LOG == ["scale in", ("a", 20)]
    assert [h.name for h in r.results] == ["scale", "a"]


def test_list_shows_wrap_mode(project, cli):
    runner, _ = _runner(project, "  - {name: outer, event: ping, call: M:outer, mode: wrap}\n")
    runner.close()
    got = cli("list", "--hooks", str(project.root / "hooks.yaml"), "--format", "json")
    assert got.returncode == 0, got.stderr
    assert [(h["name"], h["mode"]) for h in json.loads(got.stdout)] == [("outer", "wrap")]


# The hooks inside are test_fastpath's (c0, c1... act as its BEHAVIOUR says); the wrapper
# acts as WRAP says.
PROPERTY = (
    FASTPATH_HOOKS
    + """
WRAP = ["through"]


def wrapper(original_func, x):
    how = WRAP[0]
    CALLS.append(("wrapper", how))
    if how == "skip":
        return "skipped"
    if how == "veto":
        raise Veto("wrapper says no")
    if how == "raise_before":
        raise RuntimeError("before")
    if how == "catch":
        try:
            r = original_func()
        except Exception as exc:
            CALLS.append(("caught", type(exc).__name__))
            return None
        return r.value
    r = original_func(x=x + 1) if how == "kwargs" else original_func()
    CALLS.append(("inside", [h.name for h in r.results], r.value, r.vetoed))
    if how == "raise_after":
        raise RuntimeError("after")
    return "done"
"""
)
WRAPS = ("through", "through", "kwargs", "skip", "veto", "raise_before", "raise_after", "catch")
INNERS = ("none", "none", "map", "false", "raise", "veto", "value")
KINDS = {"ping": "notify", "gate": "veto", "pick": "firstresult", "strict": "notify"}


@pytest.fixture(scope="module")
def wrapped(tmp_path_factory):
    from conftest import Project

    project = Project(tmp_path_factory.mktemp("wrapped"))
    mod = project.module(PROPERTY)
    lines = ["version: 1", "events:"]
    lines += [f"  {e}: {{args: [x], style: {style}}}" for e, style in KINDS.items()]
    lines.append("hooks:")
    for event in KINDS:
        policy = ", on_error: raise" if event == "strict" else ""
        lines.append(f"  - {{name: {event}_w, event: {event}, call: {mod}:wrapper, mode: wrap}}")
        for i in range(3):
            lines.append(f"  - {{name: {event}_{i}, event: {event}, call: {mod}:c{i}{policy}}}")
    path = project.write("hooks.yaml", "\n".join(lines) + "\n")
    with HookRunner.from_files(path) as runner:
        yield runner, importlib.import_module(mod)


def _wrapped_outcome(emit, kw, mod):
    from hookrunner.kernel.errors import Veto

    mod.CALLS.clear()
    try:
        r = emit(dict(kw))
    except (RuntimeError, Veto) as exc:
        return ("raised", type(exc).__name__, list(mod.CALLS))
    return (
        r.vetoed,
        r.reason,
        r.value,
        dict(r.changes),
        [(h.name, h.ok, h.value, type(h.error).__name__) for h in r.results],
        list(mod.CALLS),
    )


@settings(max_examples=200, deadline=None)
@given(
    event=st.sampled_from(list(KINDS)),
    how=st.sampled_from(WRAPS),
    inner=st.lists(st.sampled_from(INNERS), min_size=3, max_size=3),
)
def test_compiled_and_general_wrapping_agree(wrapped, event, how, inner):
    from hookrunner.kernel.runtime import dispatch

    runner, mod = wrapped
    mod.WRAP[0] = how
    mod.BEHAVIOUR.clear()
    mod.BEHAVIOUR.update(enumerate(inner))
    plan = runner.registry.plans[event]
    kw = {"x": 1}
    _wrapped_outcome(plan.emit, kw, mod)  # compiles on first use
    variants = list(fastpath.variants(plan.emit).values())
    assert variants and all(
        v.__code__.co_filename == f"<hookrunner plan {event}>" for v in variants
    )
    general = _wrapped_outcome(lambda k: dispatch.around(plan, plan.fill(k)), kw, mod)
    for emit in variants:
        assert _wrapped_outcome(emit, kw, mod) == general
