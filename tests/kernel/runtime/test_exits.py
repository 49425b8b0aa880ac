"""Hooks that call sys.exit(), raise GeneratorExit or another BaseException: a failure of the
hook under its on_error, in every dispatcher; only KeyboardInterrupt interrupts."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from sources import source

from hookrunner import HookRunner, ValidationError
from hookrunner.kernel.errors import HookExited

HOOKS = source("exit_hooks")
KINDS = {"exits": SystemExit, "base": "Fatal", "generator_exit": GeneratorExit}


def _runner(project, body: str, settings: str = ""):
    m = project.module(HOOKS)
    project.write("hooks.yaml", "version: 1\n" + settings + body.replace("{m}", m))
    return HookRunner.from_files(project.root / "hooks.yaml"), importlib.import_module(m)


def _is(error: BaseException | None, kind: object) -> bool:
    assert isinstance(error, HookExited), error
    original = error.original
    return type(original).__name__ == kind if isinstance(kind, str) else type(original) is kind


def _two(fn: str, on_error: str, first: str = "", extra: str = "") -> str:
    """``first`` (optional), the failing hook, then ``after``, all on session_start."""
    lines = ["hooks:"]
    if first:
        lines.append(f'  - {{name: first, event: session_start, call: "{{m}}:{first}"}}')
    lines.append(
        f'  - {{name: bad, event: session_start, call: "{{m}}:{fn}", on_error: {on_error}{extra}}}'
    )
    lines.append('  - {name: after, event: session_start, call: "{m}:after"}')
    return "\n".join(lines) + "\n"


# The compiled fast path ("" first), the general loop after a handover ("returns" first),
# the timeout thread, and exact timing: each dispatcher that calls a sync hook.
PATHS = {
    "fast path": ("", "", ""),
    "general loop": ("returns", "", ""),
    "timeout thread": ("", ", timeout: 5s", ""),
    "exact timing": ("", "", "settings: {timing: exact}\n"),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fn", KINDS)
def test_continue_records_the_failure_and_goes_on(project, fn, path):
    first, extra, settings = PATHS[path]
    runner, mod = _runner(project, _two(fn, "continue", first, extra), settings)
    with runner:
        for _ in range(3):  # the first emits compile the plan; later ones run it
            r = runner.emit("session_start", session_id="s")
            bad = next(x for x in r.results if x.name == "bad")
            assert not bad.ok and _is(bad.error, KINDS[fn])
            assert "after" in [x.name for x in r.results]
        assert mod.ran.count("after") == 3


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fn", KINDS)
def test_raise_hands_the_emitter_a_hook_failure_not_an_exit(project, fn, path):
    first, extra, settings = PATHS[path]
    runner, mod = _runner(project, _two(fn, "raise", first, extra), settings)
    with runner:
        with pytest.raises(HookExited) as caught:
            runner.emit("session_start", session_id="s")
        assert isinstance(caught.value, Exception) and _is(caught.value, KINDS[fn])
        assert "hook 'bad' raised" in str(caught.value)
        assert "after" not in mod.ran


@pytest.mark.parametrize("path", PATHS)
def test_an_exit_raised_out_of_an_emit_names_its_hook(project, path):
    """The HookExited an exit becomes is named with its hook, event and manifest line, as
    any error raised out of an emit is (culprit and note)."""
    from hookrunner.kernel.blame import culprit

    first, extra, settings = PATHS[path]
    runner, _ = _runner(project, _two("exits", "raise", first, extra), settings)
    with runner:
        with pytest.raises(HookExited) as caught:
            runner.emit("session_start", session_id="s")
    who = culprit(caught.value)
    assert who is not None and (who.hook, who.event) == ("bad", "session_start")
    lines = (project.root / "hooks.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "name: bad" in text)
    assert who.source.endswith(f"hooks.yaml:{line}")
    notes = getattr(caught.value, "__notes__", [])
    assert any(n.startswith("raised by hook 'bad' (session_start, ") for n in notes), notes


def test_disable_switches_the_exiting_hook_off(project):
    runner, mod = _runner(project, _two("exits", "disable"))
    with runner:
        first = runner.emit("session_start", session_id="s")
        assert not first.ok and "sys.exit(3)" in str(first.failures[0].error)
        second = runner.emit("session_start", session_id="s")
        assert second.ok and mod.ran.count("exits") == 1


@pytest.mark.parametrize("first", ["", "returns"])
def test_keyboard_interrupt_still_interrupts(project, first):
    runner, mod = _runner(project, _two("interrupts", "continue", first))
    with runner, pytest.raises(KeyboardInterrupt):
        runner.emit("session_start", session_id="s")
    assert "after" not in mod.ran


def test_async_hook_exit_is_a_failure_in_emit_and_aemit(project):
    runner, mod = _runner(project, _two("async_exits", "continue"))
    with runner:
        r = runner.emit("session_start", session_id="s")
        assert _is(r.failures[0].error, SystemExit) and mod.ran[-1] == "after"
        r = asyncio.run(runner.aemit("session_start", session_id="s"))
        assert _is(r.failures[0].error, SystemExit) and mod.ran[-1] == "after"


def test_parallel_hooks(project):
    runner, _ = _runner(
        project,
        "events: {fan: {args: [session_id], parallel: true}}\n"
        "hooks:\n"
        '  - {name: bad, event: fan, call: "{m}:exits"}\n'
        '  - {name: other, event: fan, call: "{m}:generator_exit"}\n'
        '  - {name: after, event: fan, call: "{m}:after"}\n',
    )
    with runner:
        for r in (
            runner.emit("fan", session_id="s"),
            asyncio.run(runner.aemit("fan", session_id="s")),
        ):
            assert [x.ok for x in r.results] == [False, False, True]
            assert _is(r.results[0].error, SystemExit)
            assert _is(r.results[1].error, GeneratorExit)


def test_wrap_event_wrapper_that_exits_refuses_the_operation(project):
    runner, _ = _runner(
        project,
        'hooks:\n  - {name: w, event: session_metadata, call: "{m}:wrapper_exits"}\n',
    )
    with runner:
        r = runner.wrap("session_metadata", lambda **kw: "done", action="get", session_id="s")
        assert r.vetoed and "sys.exit(5)" in (r.reason or "")


@pytest.mark.parametrize("wrappers", [1, 2])  # one is compiled, two go through around()
def test_wrap_mode_wrapper_that_exits(project, wrappers):
    body = "hooks:\n" + "".join(
        f'  - {{name: w{i}, event: session_start, mode: wrap, call: "{{m}}:wrapper_exits"}}\n'
        for i in range(wrappers)
    )
    body += '  - {name: after, event: session_start, call: "{m}:after"}\n'
    runner, _ = _runner(project, body)
    with runner:
        r = runner.emit("session_start", session_id="s")
        assert _is(r.results[0].error, SystemExit)
        with_raise = body.replace("mode: wrap,", "mode: wrap, on_error: raise,")
    runner, _ = _runner(project, with_raise)
    with runner, pytest.raises(HookExited):
        runner.emit("session_start", session_id="s")


def test_slot_hook_that_exits_falls_back(project):
    runner, _ = _runner(
        project,
        "events: {pick: {args: [session_kwargs, client_kwargs], style: slot}}\n"
        'hooks:\n  - {name: s, event: pick, call: "{m}:slot_exits"}\n',
    )
    with runner:
        r = runner.emit("pick", session_kwargs={}, client_kwargs={})
        assert _is(r.results[0].error, SystemExit) and r.value is None


def test_error_handler_that_exits_is_logged_and_the_emit_goes_on(project, caplog):
    runner, mod = _runner(
        project, _two("base", "continue", extra=', error_handler: "{m}:handler_exits"')
    )
    with runner:
        r = runner.emit("session_start", session_id="s")
        assert mod.ran[-1] == "after" and not r.ok
        assert ("handler", "HookExited") in mod.ran
    assert "error_handler of hook 'bad' failed" in caplog.text


def test_exit_while_loading_is_a_located_problem(project):
    m = project.module(HOOKS)
    importer = project.module(source("exit_at_import"))
    project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        f'  - {{name: k, class: "{m}:ExitsOnConstruction"}}\n'
        f'  - {{name: i, event: session_start, call: "{importer}:hook"}}\n',
    )
    with pytest.raises(ValidationError) as caught:
        HookRunner.from_files(project.root / "hooks.yaml")
    text = str(caught.value)
    assert (
        "hooks.yaml:3:" in text and "constructing ExitsOnConstruction failed: sys.exit(8)" in text
    )
    assert "hooks.yaml:4:" in text and f"importing '{importer}' failed" in text
    assert "exit(9)" in text or "SystemExit(9)" in text


def test_an_unprintable_or_huge_error_is_recorded_readably(project, tmp_path):
    """An exception whose __str__ raises, and one with a 15 MB message: both are recorded,
    reported to post_error and stored, readable and short."""
    from hookrunner.services.sessions.store import Store

    body = (
        "hooks:\n"
        '  - {name: a, event: session_start, call: "{m}:unprintable"}\n'
        '  - {name: b, event: session_start, call: "{m}:huge_message"}\n'
        '  - {name: after, event: session_start, call: "{m}:after"}\n'
    )
    runner, mod = _runner(project, body)
    with runner, runner.session(store=tmp_path / "sessions.db") as s:
        pass
    store = Store(tmp_path / "sessions.db")
    [call_a, call_b, _] = store.hook_calls(s.id)
    assert call_a["error"] == "Unprintable: <Unprintable whose message cannot be read>"
    assert call_b["error"].startswith("ValueError: mmm") and len(call_b["error"]) < 2100
    assert mod.ran[-1] == "after"
    store.close()
