"""Layout 3 of the session store: node rows (when and where each node ran), the lane of calls
made off the session's thread, veto reasons; a store written by layout 2 is migrated and
stays readable, a newer one is refused clearly."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from hookrunner.kernel.runtime.results import CallRow
from hookrunner.services.sessions.store import SCHEMA_VERSION, NodeRun, Store, StoreError

# The layout hookrunner wrote before node rows existed (version 2), as it wrote it.
LAYOUT_2 = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT,
    status TEXT NOT NULL, started REAL NOT NULL, ended REAL, resumed_from TEXT, pid INTEGER,
    summary TEXT, calls INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
    first_call INTEGER, last_call INTEGER, checkpoints INTEGER NOT NULL DEFAULT 0,
    first_checkpoint INTEGER, last_checkpoint INTEGER);
CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE metadata (session_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT,
    updated REAL NOT NULL, PRIMARY KEY (session_id, key));
CREATE TABLE feedback (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, ts REAL NOT NULL,
    rating TEXT, comment TEXT, data TEXT);
CREATE INDEX feedback_session ON feedback (session_id);
CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, session INTEGER NOT NULL, ts REAL NOT NULL,
    node TEXT, data TEXT);
CREATE TABLE hook_calls (id INTEGER PRIMARY KEY, session INTEGER NOT NULL, ts REAL NOT NULL,
    event INTEGER NOT NULL, hook INTEGER NOT NULL, ok INTEGER NOT NULL, error TEXT,
    duration_ms REAL NOT NULL);
CREATE TABLE hook_call_workers (call INTEGER PRIMARY KEY, worker INTEGER NOT NULL);
INSERT INTO names VALUES (1, 'post_file_edit'), (2, 'edited');
INSERT INTO sessions (id, kind, status, started, ended, calls, first_call, last_call)
    VALUES ('old-1', 'session', 'ok', 1000.0, 1001.0, 1, 1, 1);
INSERT INTO hook_calls VALUES (1, 1, 1000.5, 1, 2, 1, NULL, 2.5);
PRAGMA user_version = 2;
"""


def test_a_layout_2_store_is_migrated_and_its_sessions_stay_readable(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(LAYOUT_2)
    store = Store(db)
    assert store.session("old-1")["status"] == "ok"
    (call,) = store.hook_calls("old-1")
    assert (call["hook"], call["ok"], call["duration_ms"], call["lane"]) == (
        "edited",
        True,
        2.5,
        None,
    )
    assert store.nodes("old-1") == []
    # New sessions in the same file get node rows.
    store.begin("new-1", "run", None, {})
    store.flush("new-1", [], [], nodes=[NodeRun("a", 2000.0, 2000.25, "t1")])
    assert store.nodes("new-1") == [
        {"node": "a", "lane": "t1", "started": 2000.0, "ended": 2000.25, "error": None, "ok": True}
    ]
    store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    assert {"nodes", "first_node", "last_node"} <= columns


def test_a_store_of_a_newer_layout_is_refused_with_what_to_do(tmp_path):
    db = tmp_path / "new.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(LAYOUT_2.replace("user_version = 2", "user_version = 99"))
    with pytest.raises(StoreError, match="layout version 99.*upgrade hookrunner"):
        Store(db).sessions()


def test_node_rows_lanes_and_vetoes_round_trip(tmp_path):
    store = Store(tmp_path / "s.db")
    store.begin("r", "run", None, {})
    calls = [
        CallRow(10.0, "before_node_run", "audit", True, None, 1.0, None, "pool-1"),
        CallRow(11.0, "pre_checkpoint", "policy", True, "vetoed: not needed", 0.1),
        CallRow(12.0, "after_node_run", "notify", False, "ConnectionError: down", 0.2),
        CallRow(13.0, "after_node_run", "notify", True, None, 0.2, "tcp://w:1"),
    ]
    nodes = [
        NodeRun(f"n{i}", 10.0 + i, 10.5 + i, None if i % 2 else "pool-1") for i in range(40)
    ] + [NodeRun("bad", 60.0, 61.0, "pool-2", "ValueError: nope")]
    store.flush("r", calls, [], nodes=nodes[:35])
    store.flush("r", [], [], nodes=nodes[35:])
    got = store.hook_calls("r")
    assert [(c["lane"], c["worker"], c["vetoed"], c["ok"]) for c in got] == [
        ("pool-1", None, False, True),
        (None, None, True, True),
        (None, None, False, False),
        (None, "tcp://w:1", False, True),
    ]
    assert got[1]["error"] == "vetoed: not needed"
    assert store.session("r")["failures"] == 1  # a veto is no failure
    read = store.nodes("r")
    assert [(n["node"], n["lane"], n["started"], n["ended"]) for n in read] == [
        (n.node, n.lane, n.started, n.ended) for n in nodes
    ]
    assert [n["ok"] for n in read].count(False) == 1 and read[-1]["error"] == "ValueError: nope"


def test_a_session_names_the_lane_of_calls_made_on_other_threads(project):
    from hookrunner import HookRunner

    hooks = project.module("def seen(file_path):\n    pass\n")
    manifest = project.write(
        "hooks.yaml",
        f"version: 1\nhooks: [{{name: seen, event: post_file_edit, call: '{hooks}:seen'}}]\n",
    )
    with HookRunner.from_files(manifest) as runner:
        with runner.session(session_id="t", store=project.root / "s.db") as s:
            s.emit("post_file_edit", file_path="here.py")
            worker = threading.Thread(
                target=s.emit,
                args=("post_file_edit",),
                kwargs={"file_path": "there.py"},
                name="agent-tool-thread",
            )
            worker.start()
            worker.join()
            s.record_node("n", time.time(), time.time(), s.lane())
    store = Store(project.root / "s.db")
    assert [c["lane"] for c in store.hook_calls("t")] == [None, "agent-tool-thread"]
    assert [n["lane"] for n in store.nodes("t")] == [None]
