"""Error policies (continue / raise / disable) with error_handler and post_error, and timeouts."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import threading
import time

import pytest
from sources import source

from hookrunner import HookRunner, HookTimeout

HOOKS = source("policies_hooks")


def _runner(project, body: str):
    m = project.module(HOOKS)
    project.write("hooks.yaml", "version: 1\n" + body.replace("{m}", m))
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    return runner, importlib.import_module(m), m


POST_ERROR = '  - {name: pe, event: post_error, call: "{m}:record_post_error"}\n'


def test_continue_records_calls_handler_fires_post_error_and_goes_on(project):
    runner, mod, _ = _runner(
        project,
        "hooks:\n"
        '  - {name: boom, event: session_start, call: "{m}:boom", error_handler: "{m}:handler"}\n'
        '  - {name: after, event: session_start, call: "{m}:after"}\n' + POST_ERROR,
    )
    r = runner.emit("session_start", session_id="s1")
    assert [(h.name, h.ok) for h in r.results] == [("boom", False), ("after", True)]
    assert isinstance(r.results[0].error, ValueError) and not r.ok
    assert [f.name for f in r.failures] == ["boom"]
    assert mod.handled == [("ValueError", "boom s1", "boom", "session_start")]
    assert mod.post_errors == [
        (
            "s1",
            {"hook": "boom", "event": "session_start", "type": "ValueError", "message": "boom s1"},
            "ValueError",
        )
    ]
    assert mod.ran == [("boom", "s1"), ("after", "s1")]
    # continue does not switch the hook off
    runner.emit("session_start", session_id="s2")
    assert ("boom", "s2") in mod.ran


def test_raise_propagates_and_still_calls_the_handler(project):
    runner, mod, _ = _runner(
        project,
        "hooks:\n"
        '  - {name: boom, event: session_start, call: "{m}:boom", on_error: raise,'
        ' error_handler: "{m}:handler"}\n'
        '  - {name: after, event: session_start, call: "{m}:after"}\n' + POST_ERROR,
    )
    with pytest.raises(ValueError, match="boom s1"):
        runner.emit("session_start", session_id="s1")
    assert mod.handled == [("ValueError", "boom s1", "boom", "session_start")]
    assert mod.ran == [("boom", "s1")]  # the rest did not run


def test_pipeline_events_default_to_raise_and_settings_do_not_change_that(project):
    runner, _, _ = _runner(
        project,
        "settings: {on_error: continue}\nhooks:\n"
        '  - {name: node_boom, event: before_node_run, call: "{m}:node_boom"}\n'
        '  - {name: soft, event: after_node_run, call: "{m}:node_boom", on_error: continue}\n',
    )
    assert runner.hooks("before_node_run")[0].on_error == "raise"
    node = {"node": "n", "catalog": None, "inputs": {}, "is_async": False, "run_id": "r"}
    with pytest.raises(KeyError, match="node hook failed") as raised:
        runner.emit("before_node_run", **node)
    # The hook's own exception reaches the emitter, with a note naming the hook.
    assert any("raised by hook 'node_boom' (before_node_run, " in n for n in raised.value.__notes__)
    r = runner.emit("after_node_run", **node, outputs={})
    assert not r.results[0].ok


def test_settings_on_error_sets_the_default_elsewhere(project):
    runner, _, _ = _runner(
        project,
        'settings: {on_error: raise}\nhooks:\n  - {name: boom, event: session_start, call: "{m}:boom"}\n',
    )
    assert runner.hooks("session_start")[0].on_error == "raise"
    with pytest.raises(ValueError):
        runner.emit("session_start", session_id="x")


def test_disable_is_a_circuit_breaker_that_survives_reload(project, cli):
    runner, mod, _ = _runner(
        project,
        "hooks:\n"
        '  - {name: boom, event: session_start, call: "{m}:boom", on_error: disable,'
        ' error_handler: "{m}:handler"}\n'
        '  - {name: after, event: session_start, call: "{m}:after"}\n' + POST_ERROR,
    )
    r = runner.emit("session_start", session_id="s1")
    assert [(h.name, h.ok) for h in r.results] == [("boom", False), ("after", True)]
    assert len(mod.post_errors) == 1 and len(mod.handled) == 1
    r = runner.emit("session_start", session_id="s2")
    assert [h.name for h in r.results] == ["after"]
    assert mod.ran == [("boom", "s1"), ("after", "s1"), ("after", "s2")]
    assert runner.hooks("session_start")[0].describe()["enabled"] is False
    runner.reload()
    r = runner.emit("session_start", session_id="s3")
    assert [h.name for h in r.results] == ["after"]


def test_a_failing_error_handler_does_not_hide_the_error(project):
    runner, mod, _ = _runner(
        project,
        "hooks:\n"
        '  - {name: boom, event: session_start, call: "{m}:boom", error_handler: "{m}:broken_handler"}\n'
        + POST_ERROR,
    )
    r = runner.emit("session_start", session_id="s")
    assert isinstance(r.results[0].error, ValueError)
    assert mod.post_errors[0][1]["type"] == "ValueError"


def test_failing_post_error_hook_does_not_recurse(project):
    runner, mod, m = _runner(
        project,
        'hooks:\n  - {name: boom, event: session_start, call: "{m}:boom"}\n'
        '  - {name: pe_boom, event: post_error, call: "{m}:boom"}\n',
    )
    r = runner.emit("session_start", session_id="s")
    assert not r.ok
    assert mod.ran == [("boom", "s"), ("boom", "s")]  # post_error ran once, no loop


# --------------------------------------------------------------------------- timeouts


def test_sync_timeout_abandons_the_hook(project):
    runner, mod, _ = _runner(
        project,
        "hooks:\n"
        '  - {name: stuck, event: session_end, call: "{m}:stuck", timeout: 200ms}\n'
        '  - {name: quick, event: session_end, call: "{m}:quick"}\n' + POST_ERROR,
    )
    try:
        r = runner.emit("session_end")
        assert [(h.name, h.ok) for h in r.results] == [("stuck", False), ("quick", True)]
        error = r.results[0].error
        assert isinstance(error, HookTimeout)
        assert str(error) == "hook 'stuck' timed out after 0.2s (abandoned)"
        assert mod.post_errors[0][1]["type"] == "HookTimeout"
    finally:
        mod.release.set()


def test_abandoned_sync_hooks_are_bounded_and_then_not_started(project):
    """200 timed-out emits leave at most MAX_ABANDONED threads; the calls past the bound fail
    at once, as timeouts that say why, until an abandoned call returns."""
    from hookrunner.kernel.runtime import invoke

    runner, mod, _ = _runner(
        project, 'hooks:\n  - {name: stuck, event: session_end, call: "{m}:stuck", timeout: 20ms}\n'
    )
    before = threading.active_count()
    try:
        errors = [str(runner.emit("session_end").results[0].error) for _ in range(200)]
        assert threading.active_count() - before <= invoke.MAX_ABANDONED
        assert sum("not started" in e for e in errors) == 200 - invoke.MAX_ABANDONED
        assert mod.ran.count("stuck") <= invoke.MAX_ABANDONED
        assert errors[0] == "hook 'stuck' timed out after 0.02s (abandoned)"
        assert errors[-1].startswith(
            f"hook 'stuck' not started: {invoke.MAX_ABANDONED} earlier calls of it are still "
            "running past their timeout"
        )
    finally:
        mod.release.set()
    deadline = time.monotonic() + 10
    while invoke.abandoned_calls() and time.monotonic() < deadline:
        time.sleep(0.01)  # the released calls return
    assert invoke.abandoned_calls() == 0
    mod.release.clear()
    r = runner.emit("session_end")  # started again: it times out (abandoned), not refused
    mod.release.set()
    assert "(abandoned)" in str(r.results[0].error)


def test_the_bound_on_abandoned_calls_outlives_a_reload(project):
    """The calls abandoned before a reload are still running after it: the rebuilt hook
    counts them (the bound is per hook name, not per compiled invoker)."""
    from hookrunner.kernel.runtime import invoke

    runner, mod, m = _runner(
        project, 'hooks:\n  - {name: stuck, event: session_end, call: "{m}:stuck", timeout: 20ms}\n'
    )
    try:
        for _ in range(invoke.MAX_ABANDONED):
            assert "(abandoned)" in str(runner.emit("session_end").results[0].error)
        project.write(
            "hooks.yaml",
            f'version: 1\nhooks:\n  - {{name: stuck, event: session_end, call: "{m}:stuck", '
            "timeout: 30ms}\n",
        )
        runner.reload()
        assert runner.hooks("session_end")[0].timeout == 0.03
        error = str(runner.emit("session_end").results[0].error)
        assert error.startswith(
            f"hook 'stuck' not started: {invoke.MAX_ABANDONED} earlier calls of it"
        ), error
    finally:
        mod.release.set()
    deadline = time.monotonic() + 10
    while invoke.abandoned_calls() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert invoke.abandoned_calls() == 0
    mod.release.clear()


def test_async_timeout_cancels_the_hook(project):
    runner, mod, _ = _runner(
        project,
        "settings: {timeout: 0.2}\nhooks:\n"
        '  - {name: slow, event: session_end, call: "{m}:slow_async"}\n'
        '  - {name: quick, event: session_end, call: "{m}:quick", timeout: 5s}\n',
    )
    assert [h.timeout for h in runner.hooks("session_end")] == [0.2, 5.0]
    r = runner.emit("session_end")
    assert [(h.name, h.ok) for h in r.results] == [("slow", False), ("quick", True)]
    assert isinstance(r.results[0].error, HookTimeout)
    assert mod.cancelled == ["slow_async"]

    r = asyncio.run(runner.aemit("session_end"))
    assert isinstance(r.results[0].error, HookTimeout)
    assert mod.cancelled == ["slow_async", "slow_async"]


def test_async_timeout_under_raise_propagates(project):
    runner, _, _ = _runner(
        project,
        'hooks:\n  - {name: slow, event: after_pipeline_run, call: "{m}:slow_async", timeout: 0.1}\n',
    )
    with pytest.raises(HookTimeout, match="timed out after 0.1s"):
        runner.emit("after_pipeline_run", run_params={}, run_result={}, pipeline=None, catalog=None)


def test_command_timeout_kills_the_process(project):
    pidfile = project.root / "child.pid"
    script = (
        "import os, sys, time; "
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); "
        "sys.stdout.flush(); time.sleep(60)"
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: slow_cmd
            event: post_file_edit
            command: [{sys.executable!r}, -c, {script!r}]
            timeout: 3s
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    r = runner.emit("post_file_edit", file_path="a.py")
    error = r.results[0].error
    assert isinstance(error, HookTimeout) and "killed" in str(error)
    if not pidfile.exists():  # killed before the interpreter even got going
        return
    pid = int(pidfile.read_text())
    for _ in range(50):  # the kill is delivered; give the OS a moment to reap
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"command process {pid} still alive after its timeout")


def test_timeouts_through_the_cli(project, cli):
    m = project.module(HOOKS)
    project.write(
        "hooks.yaml",
        f'version: 1\nhooks:\n  - {{name: slow, event: session_end, call: "{m}:slow_async", timeout: 0.2}}\n',
    )
    result = cli("emit", "session_end", cwd=project.root)
    assert result.returncode == 1
    assert "hook 'slow' failed: HookTimeout: hook 'slow' timed out after 0.2s" in result.stderr


def test_wrap_failure_refuses_or_raises_by_policy(project):
    m = project.module(
        "def refuse(original_func, action):\n    raise LookupError('store is read-only')\n"
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: soft, event: session_metadata, call: "{m}:refuse"}}
          - {{name: hard, event: session_feedback, call: "{m}:refuse", on_error: raise}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    called = []
    r = runner.wrap(
        "session_metadata", lambda **kw: called.append(kw), action="update", session_id="s"
    )
    assert r.vetoed and r.reason == "refused by soft: LookupError: store is read-only"
    with pytest.raises(LookupError, match="read-only"):
        runner.wrap(
            "session_feedback", lambda **kw: called.append(kw), action="add", session_id="s"
        )
    assert called == []


def test_operation_errors_reach_the_emitter_unchanged(project):
    m = project.module("def passthrough(original_func, action):\n    return original_func()\n")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: p, event: session_metadata, call: '{m}:passthrough'}}\n",
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")

    def store(**_):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runner.wrap("session_metadata", store, action="update", session_id="s")


def test_async_slot_and_wrap_hooks_time_out_as_hook_timeouts(project):
    m = project.module(
        "import asyncio\n"
        "async def slow_slot(session_kwargs, client_kwargs):\n    await asyncio.sleep(30)\n"
        "def fallback(session_kwargs, client_kwargs):\n    return 'fallback'\n"
        "async def slow_wrap(original_func, action):\n    await asyncio.sleep(30)\n"
    )
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: slow, event: build_s3_client, call: "{m}:slow_slot", timeout: 0.1}}
          - {{name: fallback, event: build_s3_client, call: "{m}:fallback"}}
          - {{name: slow_wrap, event: session_metadata, call: "{m}:slow_wrap", timeout: 0.1}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    r = runner.emit("build_s3_client", session_kwargs={}, client_kwargs={})
    assert r.value == "fallback"
    assert isinstance(r.results[0].error, HookTimeout)
    r = runner.wrap("session_metadata", lambda **_: "done", action="get", session_id="s")
    assert r.vetoed and "HookTimeout" in r.reason
