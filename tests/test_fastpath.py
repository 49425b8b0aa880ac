"""The compiled fast path behaves exactly like the general dispatch loop, in both modes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookrunner import HookRunner

HOOKS = 5
BEHAVIOURS = ("none", "none", "map", "false", "raise", "veto", "value")

MODULE = """
from hookrunner import Veto

BEHAVIOUR = {}
CALLS = []


def _act(i):
    CALLS.append(i)
    b = BEHAVIOUR.get(i, "none")
    if b == "raise":
        raise RuntimeError(f"hook {i} broke")
    if b == "veto":
        raise Veto(f"hook {i} says no")
    if b == "false":
        return False
    if b == "map":
        return {f"k{i}": i}
    if b == "value":
        return f"v{i}"
    return None
"""
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
        mod.CALLS.clear()
        fast = _outcome(plan.emit(_kw(event)), mod.CALLS)
        assert plan.emit.__code__.co_filename == f"<hookrunner plan {event}>"  # compiled
        mod.CALLS.clear()
        general = _outcome(plan._sequence(_kw(event)), mod.CALLS)
        assert fast == general


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


def test_missing_arguments_default_to_none(project):
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
            runner.emit("ev", a=1)
            runner.emit("ev", b=2, a=1)
            assert seen == [
                ("pos", 1, None),
                ("star", [("a", 1), ("b", None)]),
                ("pos", 1, 2),
                ("star", [("a", 1), ("b", 2)]),
            ]


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
    from hookrunner import fastpath

    monkeypatch.setattr(fastpath, "MAX_HOOKS", 2)
    mod = project.module("def h(x):\n    pass\n")
    hooks = "".join(f"  - {{name: h{i}, event: ev, call: {mod}:h}}\n" for i in range(3))
    path = project.write("hooks.yaml", f"version: 1\nevents:\n  ev: {{args: [x]}}\nhooks:\n{hooks}")
    with HookRunner.from_files(path) as runner:
        plan = runner.registry.plans["ev"]
        assert [r.name for r in plan.emit({"x": 1}).results] == ["h0", "h1", "h2"]
        assert plan.emit == plan._sequence
