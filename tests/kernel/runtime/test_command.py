"""Command hooks that fork, linger or flood: their own process group, killed whole at the
timeout, never waited on past the command's exit, output kept to MAX_OUTPUT per stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from processes import wait_group_gone

from hookrunner import HookRunner, HookTimeout
from hookrunner.kernel.runtime import command

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")


def _gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for a parent that is not us to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _wait_pid(path: Path, timeout: float = 10.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text().strip() if path.exists() else ""
        if text:
            return int(text)
        time.sleep(0.01)
    raise AssertionError(f"{path} not written in time")


def _runner(project, argv: list[str], timeout: str | None = None, event: str = "post_file_edit"):
    extra = f"    timeout: {timeout}\n" if timeout else ""
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - name: cmd\n    event: {event}\n    command: {argv!r}\n{extra}",
    )
    return HookRunner.from_files(project.root / "hooks.yaml")


def test_a_background_grandchild_does_not_hold_the_call(project):
    """``sleep 30 & echo started``: the call returns when sh exits, not when sleep does."""
    pidfile = project.root / "bg.pid"
    script = f"sleep 30 & echo $! > {pidfile}; echo started"
    with _runner(project, ["sh", "-c", script], timeout="20s") as runner:
        t0 = time.monotonic()
        r = runner.emit("post_file_edit", file_path="a.py")
        took = time.monotonic() - t0
    pid = _wait_pid(pidfile)
    try:
        assert r.ok, r.results
        assert took < 15, f"waited {took:.1f}s for the grandchild's pipes"
        assert not _gone(pid)  # not killed either: it was not timed out
    finally:
        os.kill(pid, signal.SIGKILL)


def test_the_timeout_kills_the_whole_process_group(project):
    pidfile = project.root / "gc.pid"
    script = f"sleep 30 & echo $! > {pidfile}; sleep 30"
    with _runner(project, ["sh", "-c", script], timeout="500ms") as runner:
        r = runner.emit("post_file_edit", file_path="a.py")
    error = r.results[0].error
    assert isinstance(error, HookTimeout) and "process group was killed" in str(error)
    grandchild = _wait_pid(pidfile)
    deadline = time.monotonic() + 10
    while not _gone(grandchild):
        if time.monotonic() > deadline:
            os.kill(grandchild, signal.SIGKILL)
            pytest.fail(f"grandchild {grandchild} outlived the command's timeout")
        time.sleep(0.01)


def test_output_capture_is_bounded(project, monkeypatch):
    monkeypatch.setattr(command, "MAX_OUTPUT", 64 * 1024)
    flood = (
        "import sys; sys.stdout.write('x' * 5_000_000); "
        "sys.stderr.write('e' * 3_000_000 + '\\nthe last line\\n'); sys.exit(1)"
    )
    code, out, err, cut = command._run([sys.executable, "-c", flood], b"{}", dict(os.environ), 30)
    assert code == 1 and cut
    assert len(out) == 64 * 1024 and len(err) <= 64 * 1024
    assert err.endswith(b"the last line\n")  # the end of stderr is what explains a failure
    with _runner(project, [sys.executable, "-c", flood]) as runner:
        r = runner.emit("post_file_edit", file_path="a.py")
    # Its output as a failing command's is shown (the last lines), each line shortened.
    text = str(r.results[0].error)
    assert text.startswith("command exited with 1:\n") and text.endswith("\n  the last line")
    assert len(text) < 1000


def test_a_cut_off_result_is_no_result(project, monkeypatch):
    monkeypatch.setattr(command, "MAX_OUTPUT", 1024)
    big = "import json; print(json.dumps({'k': 'v' * 5000}))"
    small = "import json; print(json.dumps({'k': 'v'}))"
    with _runner(project, [sys.executable, "-c", big], event="user_prompt_submit") as runner:
        assert runner.emit("user_prompt_submit", prompt="p").changes == {}
    with _runner(project, [sys.executable, "-c", small], event="user_prompt_submit") as runner:
        assert runner.emit("user_prompt_submit", prompt="p").changes == {"k": "v"}


def test_a_large_payload_to_a_command_that_never_reads_it(project):
    """Event arguments bigger than a pipe buffer go to a command that exits without reading
    stdin: no deadlock, no broken-pipe failure."""
    with _runner(project, ["true"], timeout="20s", event="user_prompt_submit") as runner:
        r = runner.emit("user_prompt_submit", prompt="p" * 2_000_000)
    assert r.ok, r.results


def test_a_command_killed_by_a_signal_says_so(project):
    with _runner(project, ["sh", "-c", "kill -9 $$"]) as runner:
        r = runner.emit("post_file_edit", file_path="a.py")
    assert str(r.results[0].error).startswith("command was killed by signal 9")


def test_stdin_is_fed_after_the_output_pipes_close_without_a_pidfd(project, monkeypatch):
    """A command that closes stdout and stderr before reading all of stdin: without a pidfd
    (the fallback that polls the process) the rest of the payload is still sent."""
    monkeypatch.delattr(os, "pidfd_open")
    script = "exec >/dev/null 2>&1; cat >/dev/null"
    t0 = time.monotonic()
    code, _, _, _ = command._run(["sh", "-c", script], b"x" * 500_000, dict(os.environ), 20)
    assert code == 0
    assert time.monotonic() - t0 < 10, "the payload stopped being sent"


def test_ctrl_c_kills_commands_of_a_parallel_event(project):
    """Hooks of a ``parallel: true`` event run on a pool's threads; Ctrl-C in the emitting
    thread kills their commands (the pool's threads are joined at exit: a command left
    running there would hold the process, then outlive it)."""
    pidfile = project.root / "cmd.pid"
    project.write(
        "hooks.yaml",
        "version: 1\nevents: {fan: {args: [x], parallel: true}}\nhooks:\n"
        f"  - {{name: c, event: fan, command: [sh, -c, 'echo $$ > {pidfile}; sleep 30']}}\n",
    )
    script = (
        "from hookrunner import HookRunner\n"
        "with HookRunner.from_files('hooks.yaml') as r:\n"
        "    r.emit('fan', x=1)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=project.root, stderr=subprocess.PIPE, text=True
    )
    pgid = 0
    try:
        pgid = _wait_pid(pidfile, 60)
        assert os.getpgid(pgid) == pgid  # the command leads a group of its own
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert "KeyboardInterrupt" in err
        assert wait_group_gone(pgid), "the command outlived the interrupted emit"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if pgid:
            wait_group_gone(pgid, 0)


def test_no_command_outlives_the_process(project):
    """A command running on a daemon thread when the process ends through an exception is
    killed at exit (the atexit handler), not left behind."""
    pidfile = project.root / "cmd.pid"
    project.write(
        "hooks.yaml",
        "version: 1\nhooks:\n"
        f"  - {{name: c, event: post_file_edit, command: [sh, -c, 'echo $$ > {pidfile}; sleep 30']}}\n",
    )
    script = (
        "import os, threading, time\n"
        "from hookrunner import HookRunner\n"
        "r = HookRunner.from_files('hooks.yaml')\n"
        "threading.Thread(target=r.emit, args=('post_file_edit',), kwargs={'file_path': 'a'},"
        " daemon=True).start()\n"
        "while not os.path.exists('cmd.pid') or not open('cmd.pid').read().strip():\n"
        "    time.sleep(0.01)\n"
        "raise RuntimeError('the program fails')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project.root,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    pgid = _wait_pid(pidfile)
    assert proc.returncode == 1 and "the program fails" in proc.stderr
    assert wait_group_gone(pgid), "the command outlived its process"
