"""The session store's cheap paths: connections reused within a process, rows written straight
from the fast path's stamps, and the run's garbage-collector freeze. Each test checks what a
user would see (rows, files, order), not just that the shortcut was taken."""

from __future__ import annotations

import gc
import importlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sources import source

from hookrunner import HookRunner
from hookrunner.kernel.runtime.results import CallRow
from hookrunner.pipeline.graph import Node
from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.pipeline.runners import _checkpoint_json
from hookrunner.services.sessions.store import Store, StoreError


def _write_session(path, sid: str) -> Store:
    store = Store(path)
    store.begin(sid, "test", None, {"who": sid})
    store.flush(sid, [CallRow(time.time(), "post_file_edit", "edited", True, None, 0.5)], [])
    store.finish(sid, "ok", {})
    store.close()
    return store


def test_a_closed_store_hands_its_connection_to_the_next_store_on_that_file(tmp_path):
    db = tmp_path / "s.db"
    first = Store(db)
    first.begin("a", "test", None, {})
    conn = first._conn
    first.close()
    # What it wrote is committed: another connection (another process) sees it at once.
    with sqlite3.connect(db) as other:
        assert other.execute("SELECT status FROM sessions WHERE id = 'a'").fetchone() == (
            "running",
        )
    second = Store(db)
    assert second._conn is conn  # no new connection, no second open/close cost
    assert second.session("a")["status"] == "running"
    second.close()


def test_a_moved_or_replaced_store_file_is_not_written_through_an_old_connection(tmp_path):
    db = tmp_path / "s.db"
    _write_session(db, "old")
    os.rename(db, tmp_path / "moved.db")
    os.replace(str(db) + "-wal", tmp_path / "moved.db-wal")
    os.replace(str(db) + "-shm", tmp_path / "moved.db-shm")
    _write_session(db, "new")  # a new file at the same path
    assert [s["id"] for s in Store(db).sessions()] == ["new"]
    assert [s["id"] for s in Store(tmp_path / "moved.db").sessions()] == ["old"]

    # Replaced by a file of an older layout while a connection to the old one is idle.
    _write_session(db, "again")
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, kind TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="layout version 1"):
        Store(db).sessions()


def test_idle_connections_are_closed_at_exit(tmp_path):
    db = tmp_path / "s.db"
    script = textwrap.dedent(
        f"""
        import time
        from hookrunner.services.sessions.store import Store
        s = Store({str(db)!r})
        from hookrunner.kernel.runtime.results import CallRow
        s.begin("x", "test", None, {{}})
        s.flush("x", [CallRow(time.time(), "post_file_edit", "edited", True, None, 0.5)], [])
        s.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    # The last close checkpointed the log into the database file and removed it.
    assert not os.path.exists(str(db) + "-wal")
    conn = sqlite3.connect(f"file:{db}?immutable=1", uri=True)
    assert conn.execute("SELECT calls FROM sessions WHERE id = 'x'").fetchone() == (1,)
    conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_uses_the_parents_idle_connection(tmp_path):
    db = tmp_path / "s.db"
    parent = _write_session(db, "parent")
    pid = os.fork()
    if pid == 0:  # the child: a fresh connection of its own, then leave without cleanup
        try:
            child = Store(db)
            ok = child._conn is not parent._db and _write_session(db, "child") is not None
        except BaseException:
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _write_session(db, "parent-again")  # the parent's idle connection still works
    assert {s["id"] for s in Store(db).sessions()} == {"parent", "child", "parent-again"}


RACER = source("store_racer")


def test_two_processes_creating_a_new_store_at_the_same_moment_both_succeed(project):
    racer = project.write("racer.py", RACER)
    rounds = 8
    procs = [
        subprocess.Popen(
            [sys.executable, str(racer), str(project.root), me, other, str(rounds)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in (("a", "b"), ("b", "a"))
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for r in range(rounds):
        ids = {s["id"] for s in Store(project.root / f"new-{r}.db").sessions()}
        assert ids == {f"a-{r}", f"b-{r}"}


def _fine_and_picky(project) -> Path:
    """A manifest with two post_file_edit hooks; ``picky`` fails for ``bad.py``."""
    mod = project.module(
        """
        def fine(file_path):
            pass

        def picky(file_path):
            if file_path == "bad.py":
                raise ValueError("not this one")
        """
    )
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: fine, event: post_file_edit, call: "{mod}:fine"}}
          - {{name: picky, event: post_file_edit, call: "{mod}:picky"}}
        """,
    )
    return path


def test_failed_calls_keep_their_place_among_the_calls_that_went_well(project):
    path = _fine_and_picky(project)
    db = project.root / "s.db"
    with HookRunner.from_files(path) as runner, runner.session(session_id="o", store=db) as s:
        for name in ("a.py", "bad.py", "c.py"):
            s.emit("post_file_edit", file_path=name)
    store = Store(db)
    edits = [c for c in store.hook_calls("o") if c["event"] == "post_file_edit"]
    assert [(c["hook"], c["ok"], c["error"]) for c in edits] == [
        ("fine", True, None),
        ("picky", True, None),
        ("fine", True, None),
        ("picky", False, "ValueError: not this one"),
        ("fine", True, None),
        ("picky", True, None),
    ]
    assert all(c["duration_ms"] >= 0 for c in edits)
    stats = {s["hook"]: s for s in store.hook_stats("o") if s["event"] == "post_file_edit"}
    assert (stats["picky"]["calls"], stats["picky"]["failures"]) == (3, 1)
    assert store.session("o")["failures"] == 1


def test_a_hook_its_when_skipped_leaves_no_row_and_the_others_keep_their_own_time(project):
    mod = project.module(
        """
        import time

        def slow(file_path):
            time.sleep(0.02)

        def fast(file_path):
            pass
        """
    )
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: slow, event: post_file_edit, call: "{mod}:slow"}}
          - {{name: only_md, event: post_file_edit, call: "{mod}:fast", when: {{file_path: "*.md"}}}}
          - {{name: fast, event: post_file_edit, call: "{mod}:fast"}}
        """,
    )
    db = project.root / "s.db"
    with HookRunner.from_files(path) as runner, runner.session(session_id="w", store=db) as s:
        s.emit("post_file_edit", file_path="a.py")
        s.emit("post_file_edit", file_path="b.md")
    edits = [c for c in Store(db).hook_calls("w") if c["event"] == "post_file_edit"]
    assert [c["hook"] for c in edits] == ["slow", "fast", "slow", "only_md", "fast"]
    by_hook = {}
    for c in edits:
        by_hook.setdefault(c["hook"], []).append(c["duration_ms"])
    assert min(by_hook["slow"]) >= 15  # each call's own time, not the time since the emit began
    assert max(by_hook["fast"] + by_hook["only_md"]) < 15


def test_the_checkpoint_text_is_what_json_dumps_writes():
    for outputs in ([], ["d1"], ["a", 'b"é\n\\'], {"key": "ds"}):
        node = Node('n"ö\t', len, None, outputs)
        expected = json.dumps({"node": node.name, "outputs": node.outputs})
        assert _checkpoint_json(node) == expected


RUN_HOOKS = """
class Hooks:
    def before_node_run(self, node, inputs):
        pass

    def after_node_run(self, node, outputs):
        pass
"""


def _chain(project, k: int):
    hooks = project.module(RUN_HOOKS)
    nodes = project.module(
        "import gc\n\nFROZEN = []\n\n"
        "def step(x):\n    FROZEN.append(gc.get_freeze_count())\n    return x + 1\n"
    )
    project.write("hooks.yaml", f"version: 1\nhooks:\n  - {{name: h, class: '{hooks}:Hooks'}}\n")
    lines = ["version: 1", "manifests: [hooks.yaml]", "params: {start: 0}", "nodes:"]
    for i in range(k):
        source = "params:start" if i == 0 else f"d{i}"
        lines.append(
            f"  - {{name: n{i}, func: '{nodes}:step', inputs: [{source}], outputs: d{i + 1}}}"
        )
    project.nodes = nodes
    return project.write("pipeline.yaml", "\n".join(lines) + "\n")


def test_a_run_records_every_node_and_leaves_the_collector_as_it_found_it(project):
    pipeline = _chain(project, 5)
    assert gc.get_freeze_count() == 0
    result = run_pipeline(pipeline)
    assert result.ok and result.outputs == {"d5": 5}
    frozen_during = importlib.import_module(project.nodes).FROZEN
    assert len(frozen_during) == 5 and min(frozen_during) > 0  # frozen while nodes ran
    assert gc.get_freeze_count() == 0  # thawed at its end
    store = Store(project.root / ".hookrunner" / "sessions.db")
    calls = store.hook_calls(result.session_id)
    node_calls = [(c["event"], c["hook"]) for c in calls if c["event"].endswith("node_run")]
    assert (
        node_calls
        == [("before_node_run", "h.before_node_run"), ("after_node_run", "h.after_node_run")] * 5
    )
    checkpoints = store.checkpoints(result.session_id)
    assert [c["data"] for c in checkpoints] == [
        {"node": f"n{i}", "outputs": [f"d{i + 1}"]} for i in range(5)
    ]

    gc.freeze()  # a host application that froze its own objects is left alone
    try:
        frozen = gc.get_freeze_count()
        assert run_pipeline(pipeline).ok
        # Not thawed (that would be 0) and nothing more frozen; frozen objects that died
        # during the run leave the permanent generation, so the count may only shrink a bit.
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_a_run_ends_in_one_transaction_its_outcome_metadata_with_its_status(project):
    pipeline = _chain(project, 2)
    assert run_pipeline(pipeline).ok
    db = project.root / ".hookrunner" / "sessions.db"
    with sqlite3.connect(db) as conn:  # the store refuses to close any session from now on
        conn.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE OF status ON sessions"
            " BEGIN SELECT RAISE(ABORT, 'closing refused'); END"
        )
    result = run_pipeline(pipeline)
    assert not result.ok and "closing refused" in result.error
    # Nothing of the failed end was written: no outcome half-recorded beside a running status.
    assert Store(db).session(result.session_id)["status"] == "running"
    assert Store(db).metadata(result.session_id) == {
        "pipeline": str(pipeline.resolve()),
        "command": f"hookrunner run {pipeline}",
    }


def test_a_sessions_hook_stats_are_what_the_store_reads_back(project):
    from hookrunner.services.aws.delivery import Failure

    path = _fine_and_picky(project)
    db = project.root / "s.db"
    with HookRunner.from_files(path) as runner, runner.session(session_id="h", store=db) as s:
        for name in ("a.py", "bad.py", "c.py", "bad.py"):
            s.emit("post_file_edit", file_path=name)
        s.record_remote(
            [CallRow(time.time(), "post_file_edit", "fine", True, None, 2.5)], "worker-1"
        )
        s._delivery_failed(Failure("sns", "topic", "h", "notify", 3, "down", "now"))
        counted = s.hook_stats()
    stored = Store(db).hook_stats("h")
    key = lambda st: (st["event"], st["hook"])  # noqa: E731
    assert sorted(counted, key=key) == sorted(stored, key=key)
    by_hook = {key(st): st for st in counted}
    assert by_hook["post_file_edit", "picky"]["failures"] == 2
    assert by_hook["post_file_edit", "fine"]["calls"] == 5
    assert by_hook["delivery", "notify"]["failures"] == 1
    assert [st["total_ms"] for st in counted] == sorted(
        (st["total_ms"] for st in counted), reverse=True
    )


@pytest.mark.parametrize("n", [1, 31, 32, 33, 70])
def test_rows_written_in_blocks_keep_their_order_and_count(tmp_path, n):
    store = Store(tmp_path / "s.db")
    store.begin("b", "test", None, {})
    store.begin("other", "test", None, {})
    calls = [
        CallRow(1000.0 + i, "post_file_edit", f"h{i % 3}", True, None, i / 8) for i in range(n)
    ]
    checkpoints = [(2000.0 + i, f"n{i}", json.dumps({"step": i})) for i in range(n)]
    theirs = [CallRow(3000.0 + i, "post_file_edit", "x", True, None, 0.0) for i in range(5)]
    store.flush("other", theirs, [])  # another session's rows before and after
    store.flush("b", calls, checkpoints)
    store.flush("other", theirs, [])
    got = store.hook_calls("b")
    assert [(c["ts"], c["hook"], c["duration_ms"]) for c in got] == [
        (c.ts, c.hook, c.duration_ms) for c in calls
    ]
    assert [(c["ts"], c["node"], c["data"]) for c in store.checkpoints("b")] == [
        (ts, node, json.loads(data)) for ts, node, data in checkpoints
    ]
    row = store.session("b")
    assert (row["calls"], row["checkpoints"]) == (n, n)
    assert len(store.hook_calls("other")) == 10


def test_session_ids_are_short_sortable_and_unique():
    from hookrunner.services.sessions.store import new_session_id

    ids = [new_session_id() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 11 and i.isalnum() and i == i.lower() for i in ids)
    assert [i[:8] for i in ids] == sorted(i[:8] for i in ids)  # by start time
    assert len({i[:8] for i in ids}) == len(ids)  # strictly increasing within a process


def test_last_and_the_nearest_store_above(tmp_path, monkeypatch):
    from hookrunner.services.sessions.store import StoreError, find_store

    db = Store(tmp_path / ".hookrunner" / "sessions.db")
    with pytest.raises(StoreError, match="no session recorded"):
        db.session("last")
    db.begin("aaa", "run", "/p/one.yaml", {})
    db.begin("bbb", "run", "/p/two.yaml", {})
    assert db.session("last")["id"] == "bbb"
    assert db.latest(source="/p/one.yaml")["id"] == "aaa"
    assert db.latest(source="/p/none.yaml") is None
    db.close()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_store().path == tmp_path / ".hookrunner" / "sessions.db"
    assert find_store(tmp_path / "a").path.resolve() == db.path.resolve()


def test_a_store_busy_past_the_wait_is_a_store_error_and_the_store_stays_usable(tmp_path):
    """'database is locked' on BEGIN is a StoreError (a CLI reports it, no traceback), and the
    connection is left outside any transaction for the next write."""
    path = tmp_path / "sessions.db"
    store = Store(path).connect()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process mid-write
    try:
        with pytest.raises(StoreError, match="locked"):
            with store.transaction(wait=0.05):
                raise AssertionError("the transaction began behind another writer")
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.begin("after", "run", None, {})
    store.finish("after", "ok", {})
    assert store.session("after")["status"] == "ok"
    store.close()
