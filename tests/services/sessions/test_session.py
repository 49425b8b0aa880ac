"""Sessions in host applications (``runner.session``) and the SQLite store under concurrency."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import threading

import pytest
from sources import source

from hookrunner import HookRunner, Veto
from hookrunner.services.sessions.store import Store

HOOKS = source("session_hooks")


@pytest.fixture
def runner(project):
    mod = project.module(HOOKS, "sess")
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: started, event: session_start, call: "{mod}:started"}}
          - {{name: ended, event: session_end, call: "{mod}:ended"}}
          - {{name: edited, event: post_file_edit, call: "{mod}:edited"}}
          - {{name: broken, event: post_file_edit, call: "{mod}:broken"}}
          - {{name: guard, event: session_metadata, call: "{mod}:guard"}}
          - {{name: feedback, event: session_feedback, call: "{mod}:feedback"}}
          - {{name: no_big, event: pre_checkpoint, call: "{mod}:no_big"}}
          - {{name: after_checkpoint, event: post_checkpoint, call: "{mod}:after_checkpoint"}}
        """,
    )
    with HookRunner.from_files(path) as r:
        r.seen = importlib.import_module(mod).SEEN
        yield r


def test_hooks_registered_from_code_are_recorded_like_the_files(project, runner):
    runner.register("greeter", "session_start", lambda: {"hello": "code"}, priority=1)
    runner.register("edited", "post_file_edit", lambda file_path: None)  # replaces the file's

    def fails(file_path):
        raise ValueError(file_path)

    runner.register("fails", "post_file_edit", fails)
    with runner.session(session_id="c1") as s:
        s.emit("post_file_edit", file_path="a.py")
        assert s.get_metadata()["hello"] == "code"
    store = Store(project.root / ".hookrunner" / "sessions.db")
    calls = [(c["event"], c["hook"], c["ok"]) for c in store.hook_calls("c1")]
    assert calls[:2] == [("session_start", "greeter", True), ("session_start", "started", True)]
    edits = [c for c in calls if c[0] == "post_file_edit"]
    assert edits == [
        ("post_file_edit", "edited", True),
        ("post_file_edit", "broken", False),
        ("post_file_edit", "fails", False),
    ]
    assert [c["error"] for c in store.hook_calls("c1", failed_only=True)][-1] == "ValueError: a.py"
    assert not [e for e in runner.seen if e[0] == "edit"]  # the file's `edited` was replaced


def test_session_lifecycle_metadata_feedback_checkpoints(project, runner):
    with runner.session(session_id="s1", metadata={"user": "ada"}) as s:
        s.emit("post_file_edit", file_path="a.py")
        r = s.update_metadata({"topic": "pipelines"})
        assert r.value["topic"] == "PIPELINES"  # the wrapper transformed the payload
        refused = s.update_metadata({"secret": "x"})
        assert refused.vetoed and refused.reason == "no secrets in metadata"
        assert s.get_metadata() == {"user": "ada", "greeted": True, "topic": "PIPELINES"}
        assert s.get_metadata(["cached"]) == {"cached": "from cache"}  # answered by the wrapper
        assert s.delete_metadata(["topic"]).value == ["topic"]
        s.add_feedback({"rating": "down", "comment": "slow"})
        assert s.checkpoint({"step": 1, "size": 3}) is True
        assert s.checkpoint({"step": 2, "size": 30}) is False
    assert runner.seen[0] == ("start", "s1", "ada", True)
    assert ("edit", "a.py", "s1") in runner.seen
    assert ("feedback", "down") in runner.seen
    assert [e for e in runner.seen if e[0] == "checkpoint"] == [("checkpoint", 1)]
    assert runner.seen[-1] == ("end", "s1", {"user": "ada", "greeted": True})

    store = Store(project.root / ".hookrunner" / "sessions.db")  # beside the manifest
    row = store.session("s1")
    assert row["status"] == "ok" and row["kind"] == "session"
    assert store.metadata("s1") == {"user": "ada", "greeted": True}
    [fb] = store.feedback("s1")
    assert (fb["rating"], fb["comment"]) == ("down", "slow")
    assert [c["data"]["step"] for c in store.checkpoints("s1")] == [1]
    calls = store.hook_calls("s1")
    failed = [c for c in calls if not c["ok"]]
    assert [(c["hook"], c["error"]) for c in failed] == [("broken", "RuntimeError: hook bug")]
    assert {c["event"] for c in calls} >= {
        "session_start",
        "post_file_edit",
        "session_metadata",
        "session_feedback",
        "pre_checkpoint",
        "post_checkpoint",
        "session_end",
    }


def test_metadata_given_to_end_goes_through_the_wrappers_and_hooks_see_it(project):
    mod = project.module(
        """
        SESSIONS = []
        SEEN = []

        def upper(original_func, action, metadata=None, keys=None):
            if action == "update":
                return original_func({k: str(v).upper() for k, v in metadata.items()})
            return original_func()

        def ended(metadata):
            SEEN.append(("hook argument", dict(metadata)))
            SEEN.append(("read back", SESSIONS[0].get_metadata()))
        """
    )
    path = project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: upper, event: session_metadata, call: "{mod}:upper"}}
          - {{name: ended, event: session_end, call: "{mod}:ended"}}
        """,
    )
    with HookRunner.from_files(path) as runner, runner.session(session_id="s3") as s:
        hooks = importlib.import_module(mod)
        hooks.SESSIONS.append(s)
        s.end("ok", metadata={"outcome": "done"})
    seen = hooks.SEEN
    # Through the wrapper (it upper-cases values), seen by the session's last hooks, stored.
    assert seen == [("hook argument", {"outcome": "DONE"}), ("read back", {"outcome": "DONE"})]
    store = Store(project.root / ".hookrunner" / "sessions.db")
    assert store.metadata("s3") == {"outcome": "DONE"}
    assert store.session("s3")["status"] == "ok"


def test_an_exception_in_the_block_still_ends_the_session(project, runner, tmp_path):
    store_path = tmp_path / "elsewhere.db"
    with pytest.raises(KeyError), runner.session(session_id="s2", store=store_path):
        raise KeyError("boom")
    assert runner.seen[-1][:2] == ("end", "s2")
    row = Store(store_path).session("s2")
    assert row["status"] == "failed" and "KeyError" in row["summary"]["error"]


def test_get_metadata_raises_when_refused(project):
    mod = project.module(
        """
        from hookrunner import Veto

        def deny(original_func, action):
            if action == "get":
                raise Veto("reads are off")
            return original_func()
        """
    )
    path = project.write(
        "hooks.yaml",
        f"version: 1\nhooks: [{{name: deny, event: session_metadata, call: '{mod}:deny'}}]\n",
    )
    with HookRunner.from_files(path) as r, r.session() as s:
        with pytest.raises(Veto, match="reads are off"):
            s.get_metadata()


def test_threads_share_one_session_safely(project, runner):
    # Tiny switch slices make threads interleave inside flush(): an append that lands in a
    # buffer while it is being written must survive.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _threads_share_one_session(runner)
    finally:
        sys.setswitchinterval(interval)
    store = Store(project.root / ".hookrunner" / "sessions.db")
    assert len(store.checkpoints("t1")) == 300
    edits = [c for c in store.hook_calls("t1") if c["event"] == "post_file_edit"]
    assert len(edits) == 600  # two hooks x 300 edits, none lost


def _threads_share_one_session(runner):
    with runner.session(session_id="t1") as s:
        s.flush_interval = 0  # flush on every checkpoint: maximum contention

        def work(n):
            for i in range(50):
                s.emit("post_file_edit", file_path=f"{n}-{i}.py")
                s.checkpoint({"step": i, "size": 1})

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


WRITER = source("session_writer")


def test_two_processes_write_the_same_store(project):
    manifest = project.write("hooks.yaml", "version: 1\nhooks: []\n")
    writer = project.write("writer.py", textwrap.dedent(WRITER))
    db = project.root / "shared.db"
    procs = [
        subprocess.Popen(
            [sys.executable, str(writer), str(manifest), str(db), sid],
            stderr=subprocess.PIPE,
            text=True,
        )
        for sid in ("p1", "p2")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    store = Store(db)
    for sid in ("p1", "p2"):
        assert store.session(sid)["status"] == "ok"
        assert [c["data"]["step"] for c in store.checkpoints(sid)] == list(range(150))
        assert store.metadata(sid) == {f"k{j}": 145 + j for j in range(5)}


def test_a_store_from_an_older_layout_is_refused_clearly(tmp_path):
    import sqlite3

    from hookrunner.services.sessions.store import StoreError

    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY, kind TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="layout version 1.*move the old file away"):
        Store(old).sessions()


def test_failed_calls_are_read_without_reading_every_call(project, runner):
    with runner.session(session_id="f1") as s:
        for i in range(12):
            s.emit("post_file_edit", file_path=f"{i}.py")  # 'edited' ok, 'broken' fails
    store = Store(project.root / ".hookrunner" / "sessions.db")
    failed = store.hook_calls("f1", failed_only=True, limit=10)
    assert [(c["hook"], c["ok"], c["error"]) for c in failed] == [
        ("broken", False, "RuntimeError: hook bug")
    ] * 10
    assert len(store.hook_calls("f1", failed_only=True)) == 12
    assert len([c for c in store.hook_calls("f1") if c["event"] == "post_file_edit"]) == 24
    from conftest import run_cli

    r = run_cli("sessions", "show", "f1", cwd=project.root)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("post_file_edit / broken: RuntimeError: hook bug") == 10
