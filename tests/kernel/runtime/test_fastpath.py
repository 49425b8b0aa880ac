"""The compiled fast path behaves exactly like the general dispatch loop, in both modes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sources import source

from hookrunner import EventArgumentError, HookRunner
from hookrunner.kernel.runtime import fastpath

HOOKS = 5
BEHAVIOURS = ("none", "none", "map", "false", "raise", "veto", "value")

MODULE = source("fastpath_module")
MODULE += "".join(f"\ndef c{i}(x):\n    return _act({i})\n" for i in range(HOOKS))
MODULE += "".join(f"\ndef s{i}(session_id, **kw):\n    return _act({i})\n" for i in range(HOOKS))

EVENTS = ("plain", "gate", "first", "post_file_edit", "pre_tool_execution")


def _manifest(project, mod: str) -> str:
    lines = [
        "version: 1",
        "events:",
        "  plain: {args: [x, y]}",
        "  gate: {args: [x, y], style: veto}",
        "  first: {args: [x, y], style: firstresult}",
        "hooks:",
    ]
    for event in EVENTS:
        prefix = "s" if "_" in event else "c"
        for i in range(HOOKS):
            lines.append(f"  - {{name: {event}_{i}, event: {event}, call: {mod}:{prefix}{i}}}")
    return str(project.write("hooks.yaml", "\n".join(lines) + "\n"))


@pytest.fixture(scope="module")
def runners(tmp_path_factory):
    from conftest import Project

    project = Project(tmp_path_factory.mktemp("fastpath"))
    mod = project.module(MODULE)
    path = _manifest(project, mod)
    import importlib

    default = HookRunner.from_files(path)
    lean = HookRunner.from_files(path, lean=True)
    yield default, lean, importlib.import_module(mod)
    default.close()
    lean.close()


def _outcome(result, calls):
    return (
        result.vetoed,
        result.reason,
        result.value,
        dict(result.changes),
        [(r.name, r.ok, r.value, type(r.error).__name__) for r in result.results],
        list(calls),
    )


def _kw(event: str) -> dict:
    return {"x": 1, "y": 2} if event in ("plain", "gate", "first") else {"session_id": "s1"}


@settings(max_examples=150, deadline=None)
@given(
    event=st.sampled_from(EVENTS),
    behaviour=st.lists(st.sampled_from(BEHAVIOURS), min_size=HOOKS, max_size=HOOKS),
)
def test_compiled_and_general_paths_agree(runners, event, behaviour):
    default, lean, mod = runners
    mod.BEHAVIOUR.clear()
    mod.BEHAVIOUR.update(enumerate(behaviour))
    for runner in (default, lean):
        plan = runner.registry.plans[event]
        # Default mode has two compiled variants (a stamp per hook, and whole-emit timing).
        for emit in _variants(plan, _kw(event)):
            mod.CALLS.clear()
            fast = _outcome(emit(_kw(event)), mod.CALLS)
            assert emit.__code__.co_filename == f"<hookrunner plan {event}>"  # compiled
            mod.CALLS.clear()
            general = _outcome(plan._sequence(_kw(event)), mod.CALLS)
            assert fast == general


def _variants(plan, kw):
    plan.emit(dict(kw))  # compiles on first use
    return list(fastpath.variants(plan.emit).values())


def _until_whole(runner, event, kw, tries=20000):
    """Emit until the plan times its hooks as a whole (8 fast emits in a row are enough;
    a loaded machine may make a few of them slow)."""
    plan = runner.registry.plans[event]
    for _ in range(tries):
        runner.emit(event, **kw)
        if plan.emit.__name__ == "coarse":
            return plan
    raise AssertionError("the plan never switched to whole-emit timing")


def test_default_mode_records_every_hook_with_a_duration(runners):
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    seen = []
    default.set_observer(seen.append)
    try:
        r = default.emit("plain", x=1, y=2)
    finally:
        default.set_observer(None)
    assert [x.name for x in r.results] == [f"plain_{i}" for i in range(HOOKS)]
    assert all(x.ok and x.value is None and x.duration_ms >= 0 for x in r.results)
    assert seen == [r] and r.event == "plain" and r.generation == 1 and r.ok


def test_default_mode_times_hooks_before_and_after_a_handover(runners):
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    mod.BEHAVIOUR.update({2: "raise"})
    r = default.emit("plain", x=1, y=2)
    assert [(x.name, x.ok) for x in r.results] == [
        ("plain_0", True),
        ("plain_1", True),
        ("plain_2", False),
        ("plain_3", True),
        ("plain_4", True),
    ]
    assert isinstance(r.results[2].error, RuntimeError)
    assert all(x.duration_ms >= 0 for x in r.results)


def test_lean_mode_keeps_only_values_and_failures(runners):
    _, lean, mod = runners
    mod.BEHAVIOUR.clear()
    mod.BEHAVIOUR.update({1: "map", 3: "raise"})
    r = lean.emit("post_file_edit", session_id="s1", metadata={"a": 1})
    assert [(x.name, x.ok) for x in r.results] == [
        ("post_file_edit_1", True),
        ("post_file_edit_3", False),
    ]
    assert dict(r.changes) == {"k1": 1}
    mod.BEHAVIOUR.clear()
    quiet = lean.emit("plain", x=1, y=2)
    assert quiet.results == [] and quiet.ok and not quiet.vetoed


def test_arguments_are_checked_on_the_fast_path(project):
    mod = project.module(
        "SEEN = []\n"
        "def pos(a, b):\n    SEEN.append(('pos', a, b))\n"
        "def star(**kw):\n    SEEN.append(('star', sorted(kw.items())))\n"
    )
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          ev: {{args: [a, b]}}
        hooks:
          - {{name: p, event: ev, call: {mod}:pos}}
          - {{name: s, event: ev, call: {mod}:star}}
        """,
    )
    import importlib

    for lean in (False, True):
        with HookRunner.from_files(path, lean=lean) as runner:
            seen = importlib.import_module(mod).SEEN
            seen.clear()
            runner.emit("ev", b=2, a=1)
            assert seen == [("pos", 1, 2), ("star", [("a", 1), ("b", 2)])]
            # Every emit is checked, on the compiled path as on the general one: a missing
            # required argument or one the event does not take is refused, naming the caller.
            for bad, message in (
                ({"a": 1}, "ev needs argument 'b'"),
                (
                    {"a": 1, "c": 3},
                    "ev has no argument 'c'; ev needs argument 'b'; its arguments: a, b",
                ),
                ({"a": 1, "bb": 2}, "ev has no argument 'bb' (did you mean 'b'?)"),
                ({"a": 1, "b": 2, "c": 3}, "ev has no argument 'c'"),
            ):
                with pytest.raises(EventArgumentError, match=re.escape(message)) as got:
                    runner.emit("ev", **bad)
                assert str(got.value).startswith("tests/kernel/runtime/test_fastpath.py:")
            assert len(seen) == 2


def test_matchers_skip_hooks_on_the_fast_path(project):
    mod = project.module("def h(tool_name):\n    pass\n")
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: any, event: post_tool_execution, call: {mod}:h}}
          - {{name: bash_only, event: post_tool_execution, call: {mod}:h, when: {{tool: bash}}}}
          - {{name: last, event: post_tool_execution, call: {mod}:h}}
        """,
    )
    with HookRunner.from_files(path) as runner:
        names = [r.name for r in runner.emit("post_tool_execution", tool_name="ls").results]
        assert names == ["any", "last"]
        names = [r.name for r in runner.emit("post_tool_execution", tool_name="bash").results]
        assert names == ["any", "bash_only", "last"]


def test_disable_policy_recompiles_the_plan_without_the_hook(project):
    mod = project.module(
        "CALLS = []\n"
        "def bad(x):\n    CALLS.append('bad')\n    raise ValueError('no')\n"
        "def good(x):\n    CALLS.append('good')\n"
    )
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          ev: {{args: [x]}}
        hooks:
          - {{name: bad, event: ev, call: {mod}:bad, on_error: disable}}
          - {{name: good, event: ev, call: {mod}:good}}
        """,
    )
    import importlib

    with HookRunner.from_files(path) as runner:
        calls = importlib.import_module(mod).CALLS
        first = runner.emit("ev", x=1)
        assert [(r.name, r.ok) for r in first.results] == [("bad", False), ("good", True)]
        second = runner.emit("ev", x=1)
        assert [(r.name, r.ok) for r in second.results] == [("good", True)]
        assert calls == ["bad", "good", "good"]


def test_raise_policy_reaches_the_emitter(project):
    mod = project.module("def bad(x):\n    raise KeyError('boom')\n")
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        events:
          ev: {{args: [x]}}
        hooks:
          - {{name: bad, event: ev, call: {mod}:bad, on_error: raise}}
        """,
    )
    for lean in (False, True):
        with HookRunner.from_files(path, lean=lean) as runner, pytest.raises(KeyError):
            runner.emit("ev", x=1)


def test_veto_on_the_fast_path(project):
    mod = project.module(
        "from hookrunner import Veto\ndef deny(tool_name):\n    raise Veto('not ' + tool_name)\n"
    )
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: deny, event: pre_tool_execution, call: {mod}:deny}}
        """,
    )
    for lean in (False, True):
        with HookRunner.from_files(path, lean=lean) as runner:
            r = runner.emit("pre_tool_execution", tool_name="rm")
            assert r.vetoed and r.reason == "not rm"


def test_very_large_plans_use_the_general_loop(project, monkeypatch):
    monkeypatch.setattr(fastpath, "MAX_HOOKS", 2)
    mod = project.module("def h(x):\n    pass\n")
    hooks = "".join(f"  - {{name: h{i}, event: ev, call: {mod}:h}}\n" for i in range(3))
    path = project.write("hooks.yaml", f"version: 1\nevents:\n  ev: {{args: [x]}}\nhooks:\n{hooks}")
    with HookRunner.from_files(path) as runner:
        plan = runner.registry.plans["ev"]
        assert [r.name for r in plan.emit({"x": 1}).results] == ["h0", "h1", "h2"]
        assert plan.emit == plan._sequence


def test_fast_events_are_timed_as_a_whole_and_hooks_share_the_time(runners):
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    plan = _until_whole(default, "plain", {"x": 1, "y": 2})
    assert len(_variants(plan, {"x": 1, "y": 2})) == 2
    _until_whole(default, "plain", {"x": 1, "y": 2})
    r = default.emit("plain", x=1, y=2)
    assert type(r).__name__ == "SharedResult"
    assert [x.name for x in r.results] == [f"plain_{i}" for i in range(HOOKS)]
    share = r.results[0].duration_ms
    assert share >= 0
    assert all(x.duration_ms == pytest.approx(share, abs=1e-6) for x in r.results)
    assert r.ok and not r.vetoed and r.value is None


def _counter(plan):
    """The adaptive timing counter the compiled variants share (whole-emit timing: the slow
    emits in a row)."""
    code = plan.emit.__code__
    cells = dict(zip(code.co_freevars, plan.emit.__closure__, strict=True))
    return cells["left"].cell_contents


def _settled(runner, event, kw, tries=20000):
    """Timed as a whole, with no slow emit counted against it (a loaded machine may have
    made the last one slow)."""
    for _ in range(tries):
        plan = _until_whole(runner, event, kw)
        if _counter(plan) == 0:
            return plan
    raise AssertionError("never settled")


def test_a_slow_hook_brings_back_a_stamp_per_hook(runners):
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    plan = _settled(default, "plain", {"x": 1, "y": 2})
    mod.BEHAVIOUR[3] = "slow"
    default.emit("plain", x=1, y=2)  # timed as a whole: 5 ms is far over the bound
    assert plan.emit.__name__ == "coarse"  # once: maybe a descheduled thread
    default.emit("plain", x=1, y=2)  # twice in a row: a slow hook
    assert plan.emit.__name__ == "emit"
    r = default.emit("plain", x=1, y=2)
    durations = {x.name: x.duration_ms for x in r.results}
    assert durations["plain_3"] >= 4.5
    assert max(durations, key=durations.__getitem__) == "plain_3"  # its own time, not shared
    mod.BEHAVIOUR.clear()


def test_one_slow_emit_now_and_then_does_not_change_how_an_event_is_timed(runners):
    """A stall of the thread (another process on the core) is one slow emit among fast ones:
    whole-emit timing stays, and stamped emits still settle into it."""
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    plan = _settled(default, "gate", {"x": 1, "y": 2})
    for _ in range(5):
        mod.BEHAVIOUR[2] = "slow"
        default.emit("gate", x=1, y=2)
        assert plan.emit.__name__ == "coarse"  # one slow emit alone changes nothing
        mod.BEHAVIOUR.clear()
        _settled(default, "gate", {"x": 1, "y": 2})  # fast ones clear it
    # Stamped again (a slow hook), then one slow emit in three: it still settles.
    _settled(default, "gate", {"x": 1, "y": 2})
    mod.BEHAVIOUR[2] = "slow"
    default.emit("gate", x=1, y=2)
    default.emit("gate", x=1, y=2)
    assert plan.emit.__name__ == "emit"
    for i in range(3000):
        mod.BEHAVIOUR.clear()
        if i % 3 == 0 and i < 60:
            mod.BEHAVIOUR[2] = "slow"
        default.emit("gate", x=1, y=2)
        if plan.emit.__name__ == "coarse":
            break
    mod.BEHAVIOUR.clear()
    assert plan.emit.__name__ == "coarse"


def test_a_handover_from_whole_emit_timing_keeps_every_result(runners):
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    _until_whole(default, "first", {"x": 1, "y": 2})
    mod.BEHAVIOUR.update({1: "raise", 3: "value"})
    r = default.emit("first", x=1, y=2)
    assert [(x.name, x.ok) for x in r.results] == [
        ("first_0", True),
        ("first_1", False),
        ("first_2", True),
        ("first_3", True),
    ]
    assert r.value == "v3" and all(x.duration_ms >= 0 for x in r.results)
    mod.BEHAVIOUR.clear()


def test_whole_emit_timing_records_every_call_in_the_session_store(runners, tmp_path):
    default, _, mod = runners
    mod.BEHAVIOUR.clear()
    _until_whole(default, "post_file_edit", {"session_id": "warm"})
    with default.session(store=tmp_path / "s.db") as s:
        for _ in range(3):
            s.emit("post_file_edit", file_path="a.py")
        sid = s.id
        s.flush()
        calls = s.store.hook_calls(sid)
    edits = [c for c in calls if c["event"] == "post_file_edit"]
    assert [c["hook"] for c in edits] == [f"post_file_edit_{i}" for i in range(HOOKS)] * 3
    assert all(c["ok"] and c["duration_ms"] >= 0 for c in edits)


def test_timing_exact_stamps_every_hook_always(project):
    mod = project.module("def a(x):\n    pass\n\ndef b(x):\n    pass\n")
    path = project.write(
        "hooks.yaml",
        "version: 1\nsettings: {timing: exact}\nevents:\n  ping: {args: [x]}\nhooks:\n"
        f"  - {{name: a, event: ping, call: {mod}:a}}\n"
        f"  - {{name: b, event: ping, call: {mod}:b}}\n",
    )
    with HookRunner.from_files(path) as runner:
        for _ in range(200):
            r = runner.emit("ping", x=1)
        plan = runner.registry.plans["ping"]
        assert list(fastpath.variants(plan.emit)) == ["emit"]
        assert type(r).__name__ == "QuietResult" and [x.name for x in r.results] == ["a", "b"]


def test_store_rows_come_straight_from_the_stamps(runners):
    from hookrunner.kernel.runtime.results import QuietResult

    default, _, _ = runners
    plan = default.registry.plans["plain"]
    r = QuietResult()
    r._plan, r._ts = plan, (10.0, 10.001, 10.003, 10.006, 10.010, 10.015)
    rows = r.rows(99.0)
    assert [(row.ts, row.event, row.hook, row.ok) for row in rows] == [
        (99.0, "plain", f"plain_{i}", True) for i in range(HOOKS)
    ]
    assert [row.duration_ms for row in rows] == pytest.approx([1, 2, 3, 4, 5])
    r = QuietResult()
    r._plan, r._ts = plan, (10.0, 10.001, None, 10.006, None, 10.015)  # 1 and 3 skipped
    assert [(row.hook, row.duration_ms) for row in r.rows(1.0)] == [
        ("plain_0", pytest.approx(1)),
        ("plain_2", pytest.approx(5)),
        ("plain_4", pytest.approx(9)),
    ]


@settings(max_examples=60, deadline=None)
@given(
    event=st.sampled_from(EVENTS),
    behaviour=st.lists(st.sampled_from(BEHAVIOURS), min_size=HOOKS, max_size=HOOKS),
)
def test_aemit_of_sync_hooks_agrees_with_the_general_async_loop(runners, event, behaviour):
    """No hook awaits: ``aemit`` is the compiled emit, and it does what the generator the
    async path drives does."""
    import asyncio

    from hookrunner.kernel.runtime import dispatch

    default, lean, mod = runners
    mod.BEHAVIOUR.clear()
    mod.BEHAVIOUR.update(enumerate(behaviour))
    loop = asyncio.new_event_loop()
    try:
        for runner in (default, lean):
            plan = runner.registry.plans[event]
            assert not plan.awaits
            mod.CALLS.clear()
            fast = _outcome(loop.run_until_complete(runner.aemit(event, **_kw(event))), mod.CALLS)
            assert plan.emit.__code__.co_filename == f"<hookrunner plan {event}>"
            mod.CALLS.clear()
            step = dispatch.sequence(plan, plan.fill(_kw(event)))
            general = _outcome(loop.run_until_complete(dispatch.adrive(step)), mod.CALLS)
            assert fast == general
    finally:
        loop.close()


def test_aemit_awaits_on_the_general_path_when_a_hook_is_async(project):
    import asyncio

    mod = project.module(
        "import asyncio\nSEEN = []\n"
        "def a(x):\n    SEEN.append('a')\n"
        "async def b(x):\n    await asyncio.sleep(0)\n    SEEN.append('b')\n    return 7\n"
    )
    path = project.write(
        "hooks.yaml",
        "version: 1\nevents:\n  ping: {args: [x]}\n  pong: {args: [x]}\nhooks:\n"
        f"  - {{name: a, event: ping, call: {mod}:a}}\n"
        f"  - {{name: b, event: ping, call: {mod}:b}}\n"
        f"  - {{name: c, event: pong, call: {mod}:a}}\n",
    )
    with HookRunner.from_files(path) as runner:
        plans = runner.registry.plans
        assert plans["ping"].awaits and not plans["pong"].awaits
        r = asyncio.run(runner.aemit("ping", x=1))
        assert [(x.name, x.value) for x in r.results] == [("a", None), ("b", 7)]
        r = asyncio.run(runner.aemit("pong", x=1))
        assert [x.name for x in r.results] == ["c"] and r.ok
