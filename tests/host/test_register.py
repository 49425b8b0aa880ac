"""Hooks from code (``register``, ``unregister``, ``enable``, ``disable``, ``@runner.hook``)
beside the manifest's hooks: one order, one override rule, the same checks and call styles."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sources import source

from hookrunner import HookRunner, HookTimeout, UnknownHook, ValidationError, Veto
from hookrunner.host.reload import Reload
from hookrunner.kernel.errors import shown_path
from hookrunner.kernel.runtime import dispatch, fastpath

WAIT = 10.0  # generous: CI machines are shared; a reload normally takes milliseconds
HERE = os.path.abspath(__file__)


def next_line() -> int:
    """The line after the caller's: where the register() call under test is written."""
    return sys._getframe(1).f_lineno + 1


def manifest(mod: str, *hooks: tuple[str, int], extra: str = "") -> str:
    lines = ["version: 1", extra, "hooks:"] if extra else ["version: 1", "hooks:"]
    for name, priority in hooks:
        lines.append(
            f"  - {{name: {name}, event: session_start, call: '{mod}:{name}', priority: {priority}}}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def mod(project):
    name = project.module(source("register_hooks"), "reg")
    return name


@pytest.fixture
def runner(project, mod):
    path = project.write("hooks.yaml", manifest(mod, ("first", 100), ("second", 300)))
    with HookRunner.from_files(path) as r:
        r.calls = importlib.import_module(mod).CALLS
        yield r


def names(runner, event: str = "session_start") -> list[str]:
    return [h.name for h in runner.hooks(event)]


def ran(runner, event: str = "session_start", **kw) -> list[str]:
    return [r.name for r in runner.emit(event, **kw).results]


# --------------------------------------------------------------------------- order and names


def test_registered_hooks_take_their_place_in_the_one_order(runner):
    seen = []
    runner.register("early", "session_start", lambda: seen.append("early"), priority=50)
    runner.register("tie", "session_start", lambda: seen.append("tie"), priority=300)
    runner.register("last", "session_start", lambda: seen.append("last"), trylast=True)
    runner.register("top", "session_start", lambda: seen.append("top"), tryfirst=True, priority=999)
    # Ties keep declaration order: the file's `second` (300) was declared before `tie` (300).
    assert names(runner) == ["top", "early", "first", "second", "tie", "last"]
    assert ran(runner, session_id="s") == names(runner)
    assert seen == ["top", "early", "tie", "last"] and runner.calls == ["first", "second"]


def test_a_registered_hook_replaces_a_files_hook_in_place_and_says_so(runner):
    line = next_line()
    diff = runner.register("first", "session_start", lambda session_id: "mine", priority=300)
    # In place: it keeps `first`'s declaration slot, so it stays ahead of `second` at 300.
    assert names(runner) == ["first", "second"]
    row = runner.describe("session_start")[0]
    assert row["source"] == f"python:{HERE}:{line}"
    assert row["overrides"] and row["overrides"].endswith("hooks.yaml:3")
    assert row["priority"] == 300 and row["kind"] == "call"
    assert [str(c) for c in diff.changed] == [
        "first (session_start: target, priority 100 → 300, code)"
    ]
    result = runner.emit("session_start", session_id="s")
    assert [r.value for r in result.results] == ["mine", None] and runner.calls == ["second"]
    # Unregistering brings the file's hook back, as the file has it.
    runner.unregister("first")
    assert runner.describe("session_start")[0]["source"].endswith("hooks.yaml:3")
    assert ran(runner, session_id="s") == ["first", "second"]
    assert runner.calls == ["second", "first", "second"]


def test_registering_a_name_again_replaces_the_registration_in_place(runner):
    runner.register("a", "session_start", lambda: "one", priority=700)
    runner.register("b", "session_start", lambda: "b", priority=700)
    runner.register("a", "session_start", lambda: "two", priority=700)
    assert names(runner) == ["first", "second", "a", "b"]  # `a` kept its place before `b`
    values = [r.value for r in runner.emit("session_start", session_id="s").results]
    assert values == [None, None, "two", "b"]
    assert runner.describe("session_start")[2]["overrides"] is None  # nothing from a file


def test_a_files_new_hook_with_a_registered_name_yields_to_the_registration(project, mod):
    path = project.write("hooks.yaml", manifest(mod, ("first", 100)))
    with HookRunner.from_files(path) as runner:
        runner.register("third", "session_start", lambda: "code", priority=100)
        assert names(runner) == ["first", "third"]
        # The file now declares `third` ahead of `first`: code keeps the last word, and the
        # registered hook takes the file's declaration slot.
        path.write_text(manifest(mod, ("third", 100), ("first", 100)))
        diff = runner.reload([path])
        assert names(runner) == ["third", "first"]
        row = runner.describe("session_start")[0]
        assert row["source"].startswith("python:") and row["overrides"].endswith(":3")
        assert len(diff.reordered) == 1 and not diff.changed  # the same hook, moved
        assert [r.value for r in runner.emit("session_start", session_id="s").results] == [
            "code",
            None,
        ]
        runner.unregister("third")
        assert runner.describe("session_start")[0]["source"].endswith("hooks.yaml:3")


def test_registering_an_equal_object_again_uses_the_new_one(runner):
    @dataclasses.dataclass
    class Hooks:
        tag: str = "same"

        def session_end(self):
            return id(self)

    one, two = Hooks(), Hooks()
    assert one == two and one is not two
    runner.register("h", None, one)
    runner.register("h", None, two)
    assert runner.emit("session_end").results[0].value == id(two)


def test_unregister(runner):
    runner.register("spy", "session_start", lambda: None)
    generation = runner.generation
    diff = runner.unregister("spy")
    assert [str(c) for c in diff.removed] == ["spy (session_start)"]
    assert runner.generation == generation + 1 and names(runner) == ["first", "second"]
    with pytest.raises(UnknownHook) as info:
        runner.unregister("spy")
    assert "no hook registered from code is named 'spy'" in str(info.value)
    with pytest.raises(UnknownHook) as info:
        runner.unregister("first")  # a file's hook: switched off, not unregistered
    assert "comes from" in str(info.value) and "disable('first')" in str(info.value)
    assert runner.generation == generation + 1  # a refused change makes no generation


def test_enable_and_disable_registered_and_file_hooks(project, runner):
    runner.register("spy", "session_start", lambda: "spy", enabled=False)
    assert ran(runner, session_id="s") == ["first", "second"]
    assert runner.describe("session_start")[2]["enabled"] is False
    runner.enable("spy")
    runner.disable("first")  # a file's hook: the switch is laid over the file
    assert ran(runner, session_id="s") == ["second", "spy"]
    assert [r["enabled"] for r in runner.describe("session_start")] == [False, True, True]
    runner.reload()  # the switch outlives a reload of the files
    assert ran(runner, session_id="s") == ["second", "spy"]
    runner.enable("first")
    assert ran(runner, session_id="s") == ["first", "second", "spy"]
    with pytest.raises(UnknownHook) as info:
        runner.disable("spyy")
    assert "did you mean 'spy'?" in str(info.value)


def test_enable_rearms_a_hook_the_circuit_breaker_switched_off(runner):
    failures = []

    def flaky():
        failures.append(1)
        raise RuntimeError("down")

    runner.register("flaky", "session_start", flaky, on_error="disable")
    runner.emit("session_start", session_id="s")
    runner.emit("session_start", session_id="s")
    assert len(failures) == 1 and runner.describe("session_start")[2]["enabled"] is False
    runner.enable("flaky")
    runner.emit("session_start", session_id="s")
    assert len(failures) == 2


def test_a_hooks_class_keeps_its_instance_across_registrations(project, mod):
    hooks_mod = project.module(
        "class Counting:\n"
        "    def __init__(self):\n"
        "        self.n = 0\n"
        "\n"
        "    def session_start(self):\n"
        "        self.n += 1\n"
        "        return self.n\n"
    )
    path = project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: counting, class: '{hooks_mod}:Counting'}}\n",
    )
    with HookRunner.from_files(path) as runner:
        assert runner.emit("session_start").results[0].value == 1
        runner.register("spy", "session_start", lambda: None)
        runner.disable("counting")
        runner.enable("counting")
        # Only what code changed is compiled again: the file's hooks object is the same one.
        assert runner.emit("session_start").results[0].value == 2
        runner.reload()  # a reload builds everything afresh, as before
        assert runner.emit("session_start").results[0].value == 1


# --------------------------------------------------------------------------- what can be registered


def test_hooks_objects_classes_and_modules(project, runner):
    from kedro.framework.hooks import hook_impl

    class Hooks:
        def __init__(self):
            self.seen = []

        def session_start(self, session_id):
            self.seen.append(("start", session_id))

        @hook_impl(tryfirst=True)
        def post_file_edit(self, file_path):
            self.seen.append(("edit", file_path))

        def helper(self):  # not an event: not a hook
            raise AssertionError

    obj = Hooks()
    runner.register("obj", None, obj, priority=200)
    assert names(runner) == ["first", "obj.session_start", "second"]
    runner.register("edit_file", "post_file_edit", lambda file_path: None)
    assert names(runner, "post_file_edit") == ["obj.post_file_edit", "edit_file"]  # tryfirst
    runner.emit("session_start", session_id="s")
    runner.emit("post_file_edit", file_path="a.py")
    assert obj.seen == [("start", "s"), ("edit", "a.py")]
    row = runner.describe("session_start")[1]
    assert row["kind"] == "class" and row["target"].endswith("Hooks().session_start")
    # `event` limits a hooks object to one event; a class is made without arguments.
    runner.register("only", "post_file_edit", Hooks)
    assert "only.post_file_edit" in names(runner, "post_file_edit")
    assert "only.session_start" not in names(runner)
    # A module: its functions named after events register.
    module = importlib.import_module(project.module("def session_end(session_id):\n    return 7\n"))
    runner.register("mod", None, module)
    assert runner.emit("session_end", session_id="s").results[0].value == 7


def test_objects_handed_over_are_not_subject_to_allowed_modules(project, mod):
    path = project.write(
        "hooks.yaml",
        "version: 1\nsettings: {allowed_modules: [nothing_here]}\nhooks: []\n",
    )
    with HookRunner.from_files(path) as runner:
        runner.register("local", "session_start", lambda: "ok", error_handler=print)
        assert runner.emit("session_start").results[0].value == "ok"


def test_the_decorator(runner):
    line = next_line()
    decorated = runner.hook("post_file_edit", priority=10)

    @decorated
    def on_edit(file_path):
        return file_path.upper()

    assert on_edit("x") == "X"  # the function itself, unchanged
    row = runner.describe("post_file_edit")[0]
    assert row["name"] == "on_edit" and row["source"] == f"python:{HERE}:{line}"
    assert runner.emit("post_file_edit", file_path="a.py").results[0].value == "A.PY"

    @runner.hook(name="renamed")
    class SessionHooks:
        def session_end(self):
            return "bye"

    assert runner.emit("session_end").results[0].name == "renamed.session_end"
    with pytest.raises(TypeError, match="did you mean 'priority'"):
        runner.hook("session_start", priorty=3)


# --------------------------------------------------------------------------- checked as an entry


def _problem(info) -> object:
    [problem] = info.value.problems
    return problem


def test_validation_errors_point_at_the_caller(runner):
    generation = runner.generation
    cases = []
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "sesion_start", lambda: None)
    cases.append((info, line, ("event",), "unknown event 'sesion_start'", "session_start"))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "post_file_edit", lambda file_pth: None)
    cases.append(
        (
            info,
            line,
            ("call",),
            "parameter 'file_pth' is not an argument of event 'post_file_edit'",
            "file_path",
        )
    )
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "before_node_run", lambda node: None, when={"nod": "clean_*"})
    cases.append((info, line, ("when",), "matcher key 'nod' is not an argument", "'node'"))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "session_start", lambda: None, when={"session_id": {"regex": "("}})
    cases.append((info, line, ("when",), "invalid regex", None))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "session_start", lambda: None, priority=5000)
    cases.append((info, line, ("priority",), "must be between 0 and 1000, got 5000", None))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "session_metadata", lambda original_func: None, mode="notify")
    cases.append((info, line, ("mode",), "mode 'notify' does not fit", "use mode: wrap"))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "session_start", "myproject.hooks:audit")
    cases.append((info, line, ("call",), "expected a callable or a hooks object", "manifest"))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", None, dataclasses.make_dataclass("Needs", ["db"]))
    cases.append((info, line, ("call",), "constructing Needs failed", "register an instance"))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", None, object())
    cases.append((info, line, ("call",), "has no method named after an event", None))
    with pytest.raises(ValidationError) as info:
        line = next_line()
        runner.register("x", "session_start", lambda: None, timeout="soon", error_handler=3)
    assert [p.path for p in info.value.problems] == [("timeout",), ("error_handler",)]
    for info, line, path, message, hint in cases:
        p = _problem(info)
        assert (p.file, p.line, p.path) == (HERE, line, path), str(p)
        assert message in p.message and (hint is None or hint in str(p))
        # Shown as a user reads it: relative to the current directory.
        assert str(p).startswith(f"{shown_path(HERE)}:{line}:9: hook 'x' → {path[0]}: ")
    assert runner.generation == generation and names(runner) == ["first", "second"]


def test_a_registered_hook_that_raises_is_named_with_its_register_call(runner):
    def boom(session_id):
        raise KeyError("missing")

    line = next_line()
    runner.register("boom", "post_file_edit", boom, on_error="raise")
    with pytest.raises(KeyError) as raised:
        runner.emit("post_file_edit", session_id="s1", file_path="a.py")
    where = f"python:{shown_path(HERE)}:{line}"
    assert raised.value.__notes__ == [
        f"raised by hook 'boom' (post_file_edit, {where}) [hookrunner]"
    ]
    # An argument the event does not take is refused at the emit's line, here.
    line = next_line()
    with pytest.raises(TypeError, match=rf"test_register.py:{line + 1}: .*'sesion_id'"):
        runner.emit("post_file_edit", sesion_id="s1")


def test_a_decorator_error_points_at_the_decorator(runner):
    with pytest.raises(ValidationError) as info:
        line = next_line()

        @runner.hook("session_start")
        def typo(sesion_id):
            pass

    assert (_problem(info).file, _problem(info).line) == (HERE, line + 1)


# --------------------------------------------------------------------------- the same semantics


def test_all_five_call_styles_policies_timeouts_and_matchers(project):
    path = project.write(
        "hooks.yaml",
        """
        version: 1
        events:
          pick: {args: [x], style: firstresult}
          choose: {args: [x], style: slot}
        hooks: []
        """,
    )
    with HookRunner.from_files(path) as runner:
        # notify: a returned mapping is merged into the session's metadata for later hooks.
        runner.register("tag", "session_start", lambda: {"tagged": True}, priority=1)
        runner.register("read", "session_start", lambda metadata: dict(metadata), priority=2)
        r = runner.emit("session_start", metadata={})
        assert r.changes == {"tagged": True} and r.results[1].value == {"tagged": True}
        # veto, with a matcher on the tool's name.
        runner.register("no_rm", "pre_tool_execution", lambda: False, when={"tool": "rm"})
        assert runner.emit("pre_tool_execution", tool_name="rm").vetoed
        assert not runner.emit("pre_tool_execution", tool_name="ls").vetoed

        def refuse(tool_name):
            raise Veto(f"{tool_name} refused")

        runner.register("refuse", "pre_tool_execution", refuse, when={"tool": ["sudo*"]})
        assert runner.emit("pre_tool_execution", tool_name="sudo ls").reason == "sudo ls refused"
        # firstresult
        runner.register("none", "pick", lambda x: None, priority=1)
        runner.register("double", "pick", lambda x: x * 2, priority=2)
        assert runner.emit("pick", x=4).value == 8
        # wrap: around the operation, changing its payload
        runner.register(
            "upper",
            "session_metadata",
            lambda original_func, metadata: original_func(
                {k: v.upper() for k, v in metadata.items()}
            ),
        )
        got = runner.wrap(
            "session_metadata",
            lambda metadata, **kw: metadata,
            action="update",
            session_id="s1",
            metadata={"a": "b"},
        )
        assert got.value == {"a": "B"}
        # wrap mode on a notify event: a wrapper around the event's other hooks
        runner.register(
            "around", "session_start", lambda original_func: original_func(), mode="wrap"
        )
        r = runner.emit("session_start", metadata={})
        assert [x.name for x in r.results] == ["around", "tag", "read"]
        # slot: the first enabled hook replaces the default
        runner.register("chosen", "choose", lambda x: f"chose {x}")
        assert runner.emit("choose", x=1).value == "chose 1"
        # error policies: raise, continue with the error handler and post_error
        handled = []

        def broken():
            raise RuntimeError("boom")

        runner.register(
            "broken", "post_file_edit", broken, error_handler=lambda e, h, ev: handled.append(ev)
        )
        errors = []
        runner.register("errors", "post_error", lambda error_info: errors.append(error_info))
        r = runner.emit("post_file_edit", file_path="a.py")
        assert not r.ok and handled == ["post_file_edit"] and errors[0]["hook"] == "broken"
        runner.register("broken", "post_file_edit", broken, on_error="raise")
        with pytest.raises(RuntimeError, match="boom"):
            runner.emit("post_file_edit", file_path="a.py")
        # timeouts: a sync hook is abandoned, an async one cancelled
        release = threading.Event()
        runner.register("slow", "user_prompt_submit", lambda: release.wait(5), timeout="50ms")

        async def slow_async():
            await asyncio.sleep(5)

        runner.register("slow_async", "session_end", slow_async, timeout=0.05)
        try:
            for event in ("user_prompt_submit", "session_end"):
                [result] = runner.emit(event).results
                assert isinstance(result.error, HookTimeout | asyncio.TimeoutError), result
        finally:
            release.set()

        async def greet(session_id):
            return f"hi {session_id}"

        runner.register("greet", "pre_session_end", greet)
        assert runner.emit("pre_session_end", session_id="s").results[0].value == "hi s"
        assert asyncio.run(runner.aemit("pre_session_end", session_id="t")).results[0].value == (
            "hi t"
        )


BEHAVIOURS = ("none", "none", "map", "false", "raise", "veto", "value")


def _behaving(i: int, box: dict):
    def hook(session_id):
        act = box[i]
        if act == "map":
            return {f"k{i}": i}
        if act == "false":
            return False
        if act == "raise":
            raise RuntimeError(f"h{i}")
        if act == "veto":
            raise Veto(f"v{i}")
        if act == "value":
            return i
        return None

    return hook


@pytest.fixture(scope="module")
def compiled_runner(tmp_path_factory):
    path = tmp_path_factory.mktemp("register_fastpath") / "hooks.yaml"
    path.write_text("version: 1\nhooks: []\n")
    box: dict = {}
    with HookRunner.from_files(path) as runner:
        for event in ("post_file_edit", "pre_tool_execution"):
            for i in range(4):
                runner.register(f"{event}_{i}", event, _behaving(i, box), priority=10 * i)
        yield runner, box


def _outcome(result):
    return (
        result.vetoed,
        result.reason,
        dict(result.changes),
        [(r.name, r.ok, r.value, type(r.error).__name__) for r in result.results],
    )


@settings(max_examples=60, deadline=None)
@given(
    event=st.sampled_from(["post_file_edit", "pre_tool_execution"]),
    behaviour=st.lists(st.sampled_from(BEHAVIOURS), min_size=4, max_size=4),
)
def test_registered_hooks_on_the_fast_path_agree_with_the_general_loop(
    compiled_runner, event, behaviour
):
    runner, box = compiled_runner
    box.update(enumerate(behaviour))
    plan = runner.registry.plans[event]
    assert fastpath.eligible(plan)
    fast = plan.emit({"session_id": "s"})
    general = dispatch.drive(dispatch.sequence(plan, plan.fill({"session_id": "s"})))
    assert _outcome(fast) == _outcome(general)


# --------------------------------------------------------------------------- live changes


def test_registered_hooks_survive_hot_reloads(project, mod):
    event = "events: {model_promoted: {args: [model_name]}}"
    path = project.write("hooks.yaml", manifest(mod, ("first", 100), ("second", 900), extra=event))
    reports: queue.Queue[Reload] = queue.Queue()
    with HookRunner.from_files(path, watch=True, on_reload=reports.put) as runner:
        runner.register("spy", "session_start", lambda: "spy", priority=500)
        runner.register("second", "session_start", lambda: "code", priority=50)
        runner.disable("first")
        assert names(runner) == ["second", "first", "spy"]
        # An in-place save of the files: a new hook, a priority moved.
        path.write_text(manifest(mod, ("first", 600), ("second", 900), ("third", 10), extra=event))
        report = reports.get(timeout=WAIT)
        assert report.ok, report.lines()
        assert names(runner) == ["third", "second", "spy", "first"]
        assert ran(runner, session_id="s") == ["third", "second", "spy"]  # first: still off
        row = runner.describe("session_start")[1]
        assert row["source"].startswith("python:") and row["overrides"].endswith("hooks.yaml:5")
        assert ran(runner, "model_promoted", model_name="m") == []
        # A rename save that drops `second` from the file: the registration stays, now after
        # the files' hooks.
        tmp = path.with_name("hooks.yaml.tmp")
        tmp.write_text(manifest(mod, ("first", 600), ("third", 10), extra=event))
        os.replace(tmp, path)
        report = reports.get(timeout=WAIT)
        assert report.ok, report.lines()
        assert names(runner) == ["third", "second", "spy", "first"]
        assert runner.describe("session_start")[1]["overrides"] is None
        # An edit that breaks a registration is an invalid edit, reported at the caller; the
        # last good generation stays live.
        generation = runner.generation
        line = next_line()
        runner.register("custom", "model_promoted", lambda model_name: None)
        path.write_text(manifest(mod, ("first", 600)))  # the custom event is gone
        report = reports.get(timeout=WAIT)
        assert not report.ok and runner.generation == generation + 1
        [problem] = report.problems
        assert (problem.file, problem.line) == (HERE, line) and "model_promoted" in problem.message
        assert names(runner, "model_promoted") == ["custom"]
        # Unregistering it unblocks the files' new content, with the other registrations.
        runner.unregister("custom")
        assert "model_promoted" not in runner.registry.events
        assert names(runner) == ["second", "spy", "first"]
        assert ran(runner, session_id="s") == ["second", "spy"]


def test_an_emit_in_flight_finishes_on_its_snapshot(runner):
    entered, release = threading.Event(), threading.Event()

    def gate():
        entered.set()
        assert release.wait(WAIT)

    runner.register("gate", "session_start", gate, priority=200)
    box = {}
    worker = threading.Thread(target=lambda: box.update(r=runner.emit("session_start")))
    worker.start()
    try:
        assert entered.wait(WAIT)  # the emit is inside `gate` now
        runner.register("late", "session_start", lambda: None, priority=250)
        runner.disable("second")
    finally:
        release.set()
        worker.join()
    old = box["r"]
    assert [r.name for r in old.results] == ["first", "gate", "second"]
    new = runner.emit("session_start", session_id="s")
    assert [r.name for r in new.results] == ["first", "gate", "late"]
    assert new.generation == old.generation + 2


def test_a_registration_during_a_stream_of_emits_from_threads(project, mod):
    path = project.write("hooks.yaml", manifest(mod, ("first", 100), ("second", 600)))
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def counting(name: str):
        def hook():
            with lock:
                calls[name] += 1
            time.sleep(0)  # mid-emit: let a registration swap generations right here

        return hook

    with HookRunner.from_files(path) as runner:
        file_calls = importlib.import_module(mod).CALLS
        expected = {runner.generation: names(runner)}
        main: Counter[str] = Counter()  # what this thread's own emits ran
        stop = threading.Event()
        seen: list[list[tuple[int, tuple[str, ...]]]] = [[] for _ in range(4)]
        latest = [0] * len(seen)

        def emitter(i: int) -> None:
            while not stop.is_set():
                r = runner.emit("session_start", session_id=f"t{i}")
                seen[i].append((r.generation, tuple(x.name for x in r.results)))
                latest[i] = r.generation
                time.sleep(0)  # let the registering thread in between emits, not only at 5 ms

        threads = [threading.Thread(target=emitter, args=(i,)) for i in range(len(seen))]
        for t in threads:
            t.start()
        try:
            for k in range(12):
                change = [
                    (f"c{k}", "session_start", counting(f"c{k}"), (k * 397) % 1000),
                    *([f"c{k - 2}"] if k % 4 == 3 else []),  # an unregistration
                    *([("first", "session_start", counting("first"), k)] if k % 5 == 4 else []),
                ]
                for step in change:
                    if isinstance(step, str):
                        runner.unregister(step)
                    else:
                        runner.register(*step[:3], priority=step[3])
                    expected[runner.generation] = names(runner)
                # Live on return: this thread's next emit runs on the new generation...
                mine = ran(runner, session_id="main")
                assert mine == expected[runner.generation]
                main.update(mine)
                # ...and every emitting thread gets to it too, while the next change is made.
                target = runner.generation
                deadline = time.monotonic() + WAIT
                while min(latest) < target:
                    assert time.monotonic() < deadline, "an emitting thread is stuck"
                    time.sleep(0.001)
        finally:
            stop.set()
            for t in threads:
                t.join()
        results = [item for per_thread in seen for item in per_thread]
        # Every emit ran exactly the hooks of one generation, in its order: nothing mixed.
        for generation, ran_names in results:
            assert list(ran_names) == expected[generation]
        assert len({g for g, _ in results}) > 5
        # Nothing lost: each hook was called once for every result that lists it (this
        # thread's own emits included), whether it came from the file or from code.
        listed = Counter(n for _, ran_names in results for n in ran_names) + main
        for name in listed:
            assert calls[name] + file_calls.count(name) == listed[name], name


def test_the_readme_example_runs_as_written(project, mod):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Hooks from code") :]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: audit, event: pre_tool_execution, call: "{mod}:first", priority: 900}}
        """,
    )
    app = project.write("app.py", example)
    done = subprocess.run(
        [sys.executable, str(app)], cwd=project.root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    lines = example.splitlines()
    guard_line, audit_line = (
        next(i for i, t in enumerate(lines, 1) if t.startswith(f'runner.register("{n}"'))
        for n in ("guard", "audit")
    )
    assert done.stdout.splitlines() == [
        "{'greeted': True}",
        "True",
        "False",
        f"guard.pre_tool_execution python:{app}:{guard_line}",
        f"audit python:{app}:{audit_line}",  # it replaced the file's `audit`
    ]


def test_registrations_from_several_threads_at_once(runner):
    start = runner.generation
    barrier = threading.Barrier(4)
    failures = []

    def register_five(t: int) -> None:
        try:
            barrier.wait(WAIT)
            for k in range(5):
                runner.register(f"t{t}_{k}", "post_file_edit", lambda file_path: None)
                assert f"t{t}_{k}" in names(runner, "post_file_edit")  # live on return
        except Exception as exc:  # reported below: a thread's assertion would be lost
            failures.append(exc)

    threads = [threading.Thread(target=register_five, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert sorted(names(runner, "post_file_edit")) == sorted(
        f"t{t}_{k}" for t in range(4) for k in range(5)
    )
    assert runner.generation == start + 20
