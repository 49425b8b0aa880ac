"""A session whose process died (kill -9, os._exit) reads as crashed, not running, and the
store tells a dead owner from a live one by pid, machine (host name, boot id, PID namespace)
and start time; an owner of another machine, even one of the same host name, is left alone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hookrunner.services.sessions import owner
from hookrunner.services.sessions.store import Store

NODES = """\
import os
import time


def slow(delay):
    with open("started", "w") as fh:
        fh.write(str(os.getpid()))
    time.sleep(delay)
    return 1
"""

HOOKS = """\
import os


def vanish(node):
    os._exit(1)
"""


def _sessions(cli, root: Path) -> list[dict]:
    result = cli("sessions", "list", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_killed_with_kill_9_is_crashed_in_the_next_run_and_in_sessions(project, cli):
    nodes = project.module(NODES, prefix="crash_nodes")
    project.write(
        "pipeline.yaml",
        f"version: 1\nparams: {{delay: 60}}\n"
        f"nodes:\n  - {{name: slow, func: '{nodes}:slow', inputs: ['params:delay'], outputs: x}}\n",
    )
    run = subprocess.Popen(
        [sys.executable, "-m", "hookrunner", "run", "pipeline.yaml", "--quiet"],
        cwd=project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (project.root / "started").exists():
            assert run.poll() is None, "the run ended before its node started"
            assert time.monotonic() < deadline, "the node never started"
            time.sleep(0.01)
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(30)
    store = project.root / ".hookrunner" / "sessions.db"
    con = sqlite3.connect(store)
    [(killed, status)] = con.execute("SELECT id, status FROM sessions").fetchall()
    con.close()
    assert status == "running"  # as the killed process left it

    # The next run (resuming it) says it crashed and marks it.
    again = cli(
        "run",
        "pipeline.yaml",
        "--resume",
        killed,
        "--params",
        "delay=0",
        "--quiet",
        cwd=project.root,
    )
    assert again.returncode == 0, again.stderr
    assert f"note: session {killed} crashed" in again.stderr
    by_id = {s["id"]: s for s in _sessions(cli, project.root)}
    assert by_id[killed]["status"] == "crashed"
    assert "ended without closing the session" in by_id[killed]["summary"]["error"]
    [new] = [s for s in by_id.values() if s["id"] != killed]
    assert new["status"] == "ok" and new["resumed_from"] == killed
    shown = cli("sessions", "show", killed, cwd=project.root)
    assert shown.returncode == 0 and f"session {killed} (run) — crashed" in shown.stdout


def test_a_hook_that_calls_os_exit_leaves_a_crashed_session(project, cli):
    nodes = project.module(NODES, prefix="crash_nodes")
    hooks = project.module(HOOKS, prefix="crash_hooks")
    project.write(
        "pipeline.yaml",
        f"version: 1\nparams: {{delay: 0}}\n"
        f"hooks:\n  - {{name: vanish, event: after_node_run, call: '{hooks}:vanish'}}\n"
        f"nodes:\n  - {{name: slow, func: '{nodes}:slow', inputs: ['params:delay'], outputs: x}}\n",
    )
    result = cli("run", "pipeline.yaml", "--quiet", cwd=project.root)
    assert result.returncode == 1  # os._exit(1): nothing could run after it
    [s] = _sessions(cli, project.root)
    assert s["status"] == "crashed"


def test_the_store_tells_a_dead_owner_from_a_live_one(tmp_path):
    store = Store(tmp_path / "sessions.db")
    me = owner.current()
    store.begin("mine", "session", None, {})
    store.begin("other-host", "session", None, {})
    store.begin("reused-pid", "session", None, {})
    store.begin("dead", "session", None, {})
    store.begin("unknown", "session", None, {})
    init_token = owner.start_token(1)
    with store.transaction() as c:
        c.execute("UPDATE sessions SET host = 'elsewhere', pid = 1 WHERE id = 'other-host'")
        # pid 1 is alive, but it is not the process that started this session.
        c.execute("UPDATE sessions SET pid = 1, proc_start = 'x:1' WHERE id = 'reused-pid'")
        c.execute("UPDATE sessions SET pid = ? WHERE id = 'dead'", (_dead_pid(),))
        c.execute("UPDATE sessions SET host = NULL WHERE id = 'unknown'")  # an older writer
    status = {s["id"]: s["status"] for s in store.sessions()}
    assert status["mine"] == "running" and status["other-host"] == "running"
    assert status["unknown"] == "running"  # cannot be told: left as recorded
    assert status["dead"] == "crashed"
    if init_token is not None:  # Linux: the start time tells a reused pid
        assert status["reused-pid"] == "crashed"
    # What reading found is written back, so other readers (other hosts) see it too.
    con = sqlite3.connect(tmp_path / "sessions.db")
    written = dict(con.execute("SELECT id, status FROM sessions").fetchall())
    con.close()
    assert written["dead"] == "crashed"
    assert owner.host_name(me.host) == socket.gethostname() and me.pid == os.getpid()
    store.close()


OLD_LAYOUT = """
CREATE TABLE sessions (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT, status TEXT NOT NULL,
    started REAL NOT NULL, ended REAL, resumed_from TEXT, pid INTEGER, summary TEXT,
    calls INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, first_call INTEGER,
    last_call INTEGER, checkpoints INTEGER NOT NULL DEFAULT 0, first_checkpoint INTEGER,
    last_checkpoint INTEGER
);
INSERT INTO sessions (id, kind, status, started, pid) VALUES ('old', 'run', 'running', 1, 1);
PRAGMA user_version = 2;
"""


def test_an_existing_store_gains_the_owner_columns_in_place(tmp_path):
    path = tmp_path / "sessions.db"
    con = sqlite3.connect(path)
    con.executescript(OLD_LAYOUT)
    con.close()
    store = Store(path)
    store.begin("new", "run", None, {})
    rows = {s["id"]: s for s in store.sessions()}
    assert rows["old"]["status"] == "running" and rows["old"]["host"] is None
    assert rows["new"]["host"] == owner.machine() and rows["new"]["pid"] == os.getpid()
    store.finish("new", "ok", {})
    store.close()
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    con.close()
    assert "sessions_running" in names


def test_a_layout_3_store_without_the_owner_columns_gains_them_when_opened(tmp_path):
    """A store written by the hookrunner before owners were recorded (layout 3 already, with
    node rows) is not taken as current: the columns and the index are added in place."""
    from hookrunner.services.sessions import store as layout

    schema = layout._SCHEMA.replace(",\n    host TEXT,\n    proc_start TEXT\n", "\n").replace(
        "CREATE INDEX IF NOT EXISTS sessions_running ON sessions (status)"
        " WHERE status = 'running';\n",
        "",
    )
    assert "host TEXT" not in schema and "sessions_running" not in schema
    path = tmp_path / "sessions.db"
    con = sqlite3.connect(path)
    con.executescript(schema + ";\nPRAGMA user_version = 3;")
    con.execute(
        "INSERT INTO sessions (id, kind, status, started, pid) VALUES ('v3', 'run', 'running', 1, 1)"
    )
    con.commit()
    con.close()
    store = Store(path)
    store.begin("new", "run", None, {})
    rows = {s["id"]: s for s in store.sessions()}
    assert rows["v3"]["status"] == "running" and rows["v3"]["host"] is None  # cannot be told
    assert rows["new"]["host"] == owner.machine()
    store.finish("new", "ok", {})
    store.close()
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    columns = {r[1] for r in con.execute("PRAGMA table_info(sessions)")}
    assert con.execute("PRAGMA user_version").fetchone()[0] == layout.SCHEMA_VERSION
    con.close()
    assert "sessions_running" in names and {"host", "proc_start", "nodes"} <= columns


OPENS = """
import sys
from hookrunner.services.sessions.store import Store

store = Store(sys.argv[1])
if sys.argv[2] == "join":  # as each of an agent's hook processes does
    store.join("agent-1", "agent", "claude-code", {})
else:
    store.begin("run-1", "run", None, {})
store.close()
"""


def test_an_agent_session_outlives_the_process_that_opened_it(tmp_path):
    """An agent's session is written by a process per event, each ending at once: the one
    that opened it being gone is how it goes on, not a crash. A run's session whose process
    ended without closing it is crashed."""
    path = tmp_path / "sessions.db"
    for how in ("join", "begin"):
        done = subprocess.run([sys.executable, "-c", OPENS, str(path), how], timeout=60)
        assert done.returncode == 0
    store = Store(path)
    store.begin("later", "run", None, {})  # a later run sweeps this host's dead sessions
    status = {s["id"]: s["status"] for s in store.sessions()}
    assert status["agent-1"] == "running" and status["run-1"] == "crashed"
    assert store.crashed == ["run-1"]
    store.join("agent-1", "agent", "claude-code", {})  # the agent's next event
    store.finish("agent-1", "ok", {"reason": "exit"})  # its SessionEnd
    assert store.session("agent-1")["status"] == "ok"
    store.finish("later", "ok", {})
    store.close()


def _other_machines() -> list[str]:
    """Recorded machines of the same host name that are not this process's."""
    me = owner.machine()
    others = [socket.gethostname()]  # a hookrunner that kept the host name only
    if me != socket.gethostname():  # Linux: another PID namespace, another boot
        name, boot, ns = me.split("/")
        others += [f"{name}/{boot}/1", f"{name}/00000000-0000-0000-0000-000000000000/{ns}"]
    return others


def test_a_dead_pid_of_another_machine_with_the_same_host_name_is_not_crashed(tmp_path, cli):
    """Containers often share a host name and a bind-mounted store, and a pid of one is
    another process, or none, in the next: only an owner of exactly this machine is checked."""
    path = tmp_path / ".hookrunner" / "sessions.db"
    store = Store(path)
    others = _other_machines()
    for i in range(len(others)):
        store.begin(f"other-{i}", "run", None, {})
    store.begin("here", "run", None, {})
    with store.transaction() as c:
        dead = _dead_pid()
        for i, machine in enumerate(others):
            c.execute(
                "UPDATE sessions SET host = ?, pid = ? WHERE id = ?", (machine, dead, f"other-{i}")
            )
        c.execute("UPDATE sessions SET pid = ? WHERE id = 'here'", (dead,))
    store.close()
    later = Store(path)
    later.begin("later", "run", None, {})  # a run sweeps its machine's dead sessions
    assert later.crashed == ["here"]
    later.finish("later", "ok", {})
    later.close()
    rows = {s["id"]: s for s in _sessions(cli, tmp_path) if s["id"] != "later"}
    assert {sid: s["status"] for sid, s in rows.items()} == {
        **{f"other-{i}": "running" for i in range(len(others))},
        "here": "crashed",
    }
    assert f"pid {dead} on {socket.gethostname()})" in rows["here"]["summary"]["error"]


LIVE_IN_NAMESPACE = """
import sys
from hookrunner.services.sessions import owner
from hookrunner.services.sessions.store import Store

store = Store(sys.argv[1])
store.begin("contained", "run", None, {})
print(owner.current().pid, owner.machine(), flush=True)
sys.stdin.read()  # until the test is done looking
store.finish("contained", "ok", {})
store.close()
"""


def test_a_live_session_in_another_pid_namespace_is_not_crashed(tmp_path, cli):
    """A run in a container of the same host name (here: a new PID namespace, where it is
    pid 1) sharing the store: its pid names another process out here, yet it is not crashed."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    path = tmp_path / ".hookrunner" / "sessions.db"
    child = subprocess.Popen(
        ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]
        + [sys.executable, "-c", LIVE_IN_NAMESPACE, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        line = child.stdout.readline().split()
        if not line:
            child.wait(30)
            assert child.stderr is not None
            pytest.skip(f"cannot make a PID namespace here: {child.stderr.read().strip()}")
        pid, machine = int(line[0]), line[1]
        [row] = _sessions(cli, tmp_path)
        assert (row["id"], row["pid"], row["status"]) == ("contained", pid, "running")
        assert machine != owner.machine() and owner.host_name(machine) == socket.gethostname()
        store = Store(path)
        store.begin("outside", "run", None, {})  # sweeps this machine's dead sessions
        assert store.crashed == []
        store.finish("outside", "ok", {})
        store.close()
    finally:
        child.stdin.close()
        assert child.wait(30) == 0
        child.stdout.close()
        child.stderr and child.stderr.close()
    assert {s["id"]: s["status"] for s in _sessions(cli, tmp_path)} == {
        "contained": "ok",
        "outside": "ok",
    }


def test_sessions_list_while_a_writer_holds_the_store_shows_crashed_at_once(tmp_path, cli):
    """Reading writes back the crashed sessions it finds, but only if the store is free: a
    read behind a long write transaction shows them crashed without waiting (the busy
    timeout is 30 s) and leaves the write to a later reader."""
    path = tmp_path / ".hookrunner" / "sessions.db"
    store = Store(path)
    store.begin("dead", "run", None, {})
    with store.transaction() as c:
        c.execute("UPDATE sessions SET pid = ? WHERE id = 'dead'", (_dead_pid(),))
    store.close()
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's run, mid-transaction
    try:
        started = time.monotonic()
        for args in (("list", "--format", "json"), ("show", "dead")):
            result = subprocess.run(
                [sys.executable, "-m", "hookrunner", "sessions", *args],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=25,  # under the 30 s a write would wait
            )
            assert result.returncode == 0, result.stderr
            assert "Traceback" not in result.stderr
        assert (
            json.loads(
                subprocess.run(
                    [sys.executable, "-m", "hookrunner", "sessions", "list", "--format", "json"],
                    cwd=tmp_path,
                    capture_output=True,
                    text=True,
                    timeout=25,
                ).stdout
            )[0]["status"]
            == "crashed"
        )
        assert "session dead (run) — crashed" in result.stdout
        assert time.monotonic() - started < 25
        recorded = writer.execute("SELECT status FROM sessions").fetchone()[0]
        assert recorded == "running"  # not written back: the store was busy
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    [row] = _sessions(cli, tmp_path)
    assert row["status"] == "crashed"
    con = sqlite3.connect(path)
    assert con.execute("SELECT status FROM sessions").fetchone()[0] == "crashed"  # written now
    con.close()
