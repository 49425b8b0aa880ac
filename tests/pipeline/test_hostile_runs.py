"""Runs that are interrupted, or whose hooks and nodes try to end the process: the session
still ends (session_end fires), records exactly what ran, and the exit code says why."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest
from processes import wait_group_gone
from sources import source

from hookrunner import HookRunner
from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.pipeline.runners import ThreadRunner
from hookrunner.services.sessions.store import Store

MODULE = source("hostile_run_hooks")


def _pipeline(project, hooks: str, nodes: str) -> str:
    m = project.module(MODULE, prefix="hostile")
    project.write(
        "pipeline.yaml",
        "version: 1\n"
        "catalog:\n  q: {type: json, path: out/q.json}\n  s: {type: json, path: out/s.json}\n"
        + ("hooks:\n" + hooks if hooks else "")
        + "nodes:\n"
        + nodes,
    )
    return m


def _session(project) -> dict:
    store = Store(project.root / ".hookrunner" / "sessions.db")
    [s] = store.sessions()
    s["calls_made"] = [(c["event"], c["hook"], c["ok"]) for c in store.hook_calls(s["id"])]
    store.close()
    return s


def test_ctrl_c_with_the_thread_runner_stops_at_once_and_records_what_ran(project):
    m = _pipeline(
        project,
        "  - {name: after, event: after_node_run, call: 'M:after'}\n",
        "  - {name: quick, func: 'M:quick', outputs: q}\n  - {name: slow, func: 'M:slow', outputs: s}\n",
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    run = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "run", "pipeline.yaml", "--runner", "thread"],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (
            (project.root / "slow.started").exists() and (project.root / "out/q.json").exists()
        ):
            assert run.poll() is None and time.monotonic() < deadline, "the nodes never started"
            time.sleep(0.01)
        t0 = time.monotonic()
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
        took = time.monotonic() - t0
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 130, out
    assert took < 15, f"took {took:.1f}s to stop; the slow node sleeps 30 s"
    assert "AFTER quick" in out and "AFTER slow" not in out
    assert not (project.root / "out/s.json").exists()  # the slow node's output: never saved
    s = _session(project)
    assert s["status"] == "interrupted"
    # Exactly what ran: quick's after_node_run, nothing of slow after its function started.
    assert s["calls_made"] == [("after_node_run", "after", True)]
    assert s["summary"]["nodes_run"] == 1


@pytest.mark.parametrize(
    "runner",
    [["thread"], ["dask", "--workers", "1"]],
    ids=["thread", "dask"],
)
def test_ctrl_c_kills_a_node_hooks_command(project, runner):
    """A command hook runs in a process group of its own, out of reach of the terminal's
    Ctrl-C; when it runs on a node's thread (or a Dask worker the run started) the run's
    stop must kill it."""
    pidfile = project.root / "cmd.pid"
    m = _pipeline(
        project,
        "  - {name: c, event: before_node_run, command: "
        f"[sh, -c, 'echo $$ > {pidfile}; sleep 30']}}\n",
        "  - {name: quick, func: 'M:quick', outputs: q}\n",
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    run = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "run", "pipeline.yaml", "--runner", *runner],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pgid = 0
    try:
        deadline = time.monotonic() + 60
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert run.poll() is None and time.monotonic() < deadline, "the hook never started"
            time.sleep(0.01)
        pgid = int(pidfile.read_text())
        assert os.getpgid(pgid) == pgid  # the command leads a group of its own
        run.send_signal(signal.SIGINT)
        out, _ = run.communicate(timeout=60)
        assert run.returncode == 130, out
        assert wait_group_gone(pgid), "the command hook outlived the interrupted run"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if pgid:
            wait_group_gone(pgid, 0)
    assert not (project.root / "out/q.json").exists()


def _interrupt_when(ready: Callable[[], bool]) -> list[float]:
    """Send this process SIGINT (Ctrl-C) once ``ready()``; the list gets the time it was sent."""
    sent: list[float] = []

    def watch() -> None:
        deadline = time.monotonic() + 60
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.01)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, daemon=True).start()
    return sent


def test_ctrl_c_with_every_worker_inside_a_node_function_stops_at_once(project, monkeypatch):
    """Two workers inside long node functions and a third node queued behind them: Ctrl-C
    waits for no one (the queued node never started, the running ones are abandoned)."""
    monkeypatch.setattr(ThreadRunner, "STOP_GRACE", 30.0)  # a wait for it cannot pass
    m = _pipeline(
        project,
        "",
        "".join(f"  - {{name: h{i}, func: 'M:held', outputs: o{i}}}\n" for i in range(3)),
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    sent = _interrupt_when(lambda: len(list(project.root.glob("held.*.started"))) == 2)
    monkeypatch.chdir(project.root)
    try:
        result = run_pipeline(project.root / "pipeline.yaml", runner="thread", workers=2)
        took = time.monotonic() - sent[0]
    finally:
        (project.root / "release").write_text("")
    assert result.exit_code == 130
    assert took < 10, f"took {took:.1f}s to stop: it waited for nodes inside their function"
    assert len(list(project.root.glob("held.*.started"))) == 2  # the third never started


@pytest.mark.parametrize("step", ["loaded", "saved"])
def test_ctrl_c_during_a_dataset_step_runs_no_after_hook(project, monkeypatch, step):
    """A dataset step in progress at Ctrl-C finishes (within the grace); the
    ``after_dataset_*`` hook after it does not run: the run is stopping."""
    monkeypatch.setattr(ThreadRunner, "STOP_GRACE", 30.0)
    m = _pipeline(
        project,
        f"  - {{name: p, event: before_dataset_{step}, call: 'M:pause'}}\n"
        f"  - {{name: a, event: after_dataset_{step}, call: 'M:after_data'}}\n",
        "  - {name: quick, func: 'M:quick', outputs: q}\n"
        "  - {name: use, func: 'M:use', inputs: q, outputs: s}\n",
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    _interrupt_when((project.root / "pause.started").exists)
    monkeypatch.chdir(project.root)
    result = run_pipeline(project.root / "pipeline.yaml", runner="thread")
    assert result.exit_code == 130
    assert (project.root / "pause.started").exists()
    assert not (project.root / "after_data.fired").exists()


EXITS = {
    "sys.exit": ("before_exits", "sys.exit(3)"),
    "GeneratorExit": ("before_generator_exit", "GeneratorExit"),
    "BaseException": ("before_fatal", "Fatal: fatal"),
}


@pytest.mark.parametrize("timeout", ["", ", timeout: 5s"], ids=["direct", "timeout thread"])
@pytest.mark.parametrize("kind", EXITS)
def test_a_hook_that_exits_fails_the_run_and_the_session_still_ends(project, kind, timeout):
    fn, said = EXITS[kind]
    m = _pipeline(
        project,
        f"  - {{name: bad, event: before_node_run, call: 'M:{fn}'{timeout}}}\n"
        "  - {name: end, event: session_end, call: 'M:session_end'}\n",
        "  - {name: quick, func: 'M:quick', outputs: q}\n",
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    with HookRunner.from_files([]) as runner:
        old = os.getcwd()
        os.chdir(project.root)  # the hooks write their marker files here
        try:
            result = runner.run_pipeline(project.root / "pipeline.yaml")
        finally:
            os.chdir(old)
    assert result.exit_code == 1 and said in (result.error or ""), result.error
    s = _session(project)
    assert s["status"] == "failed"
    assert (project.root / "session_end.fired").read_text() == s["id"] + "\n"
    assert ("before_node_run", "bad", False) in s["calls_made"]


def test_a_hook_that_exits_under_continue_is_only_recorded(project, cli):
    m = _pipeline(
        project,
        "  - {name: bad, event: before_node_run, call: 'M:before_exits', on_error: continue}\n"
        "  - {name: end, event: session_end, call: 'M:session_end'}\n",
        "  - {name: quick, func: 'M:quick', outputs: q}\n",
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    result = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert result.returncode == 0, result.stderr
    assert json.loads((project.root / "out/q.json").read_text()) == {"done": True}
    s = _session(project)
    assert s["status"] == "ok" and ("before_node_run", "bad", False) in s["calls_made"]
    assert (project.root / "session_end.fired").exists()


def test_a_node_that_calls_sys_exit_fails_the_node_not_the_process(project, cli):
    m = _pipeline(
        project,
        "  - {name: err, event: on_node_error, call: 'M:node_error'}\n"
        "  - {name: end, event: session_end, call: 'M:session_end'}\n",
        "  - {name: bye, func: 'M:exits_node', outputs: q}\n",
    )
    text = (project.root / "pipeline.yaml").read_text().replace("M:", f"{m}:")
    (project.root / "pipeline.yaml").write_text(text)
    result = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert result.returncode == 1, (result.returncode, result.stderr)
    # The culprit is named with its line in the pipeline file (issue 16's failure report).
    assert re.search(r"node 'bye' \(pipeline\.yaml:\d+\) failed: SystemExit: 2", result.stderr)
    assert "Traceback" not in result.stderr
    assert (project.root / "on_node_error.fired").read_text() == "bye SystemExit\n"
    assert _session(project)["status"] == "failed"
    assert (project.root / "session_end.fired").exists()
