"""Runners, selection, resume and atomic saves."""

from __future__ import annotations

import importlib
import json
import sys

import pytest
from pipeline_kit import NODES, RECORDER, node_events, three_node_pipeline
from sources import source

from hookrunner.pipeline.datasets import DatasetError, JSONDataset
from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.services.sessions.store import Store

# Two branches that can only finish if they run at the same time (a barrier of 2), joined by
# a third node: proves the thread runner's parallelism without timing anything.
PARALLEL_NODES = source("runners_parallel_nodes")


def _parallel_pipeline(project, rec, nodes):
    project.write("hooks.yaml", f"version: 1\nhooks: [{{name: rec, class: '{rec}:Recorder'}}]\n")
    return project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{seed: 7}}
        catalog:
          joined: {{type: json, path: out/joined.json}}
        nodes:
          - {{name: left, func: "{nodes}:left", inputs: "params:seed", outputs: a}}
          - {{name: right, func: "{nodes}:right", inputs: "params:seed", outputs: b}}
          - {{name: join, func: "{nodes}:join", inputs: [a, b], outputs: joined}}
        """,
    )


def test_thread_runner_runs_independent_nodes_in_parallel(project):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(PARALLEL_NODES, "par")
    path = _parallel_pipeline(project, rec, nodes)
    result = run_pipeline(path, runner="thread", workers=2)
    assert result.ok, result.error
    assert json.loads((project.root / "out/joined.json").read_text()) == {
        "left": [7, "left"],
        "right": [7, "right"],
    }
    events = importlib.import_module(rec).EVENTS
    # Every node's own events stay in order, whatever the interleaving.
    for name, inputs, outputs in [
        ("left", ["params:seed"], ["a"]),
        ("right", ["params:seed"], ["b"]),
        ("join", ["a", "b"], ["joined"]),
    ]:
        mine = [e for e in events if e[1] == name]
        expected = [e for e in node_events(name, inputs, outputs) if e[1] == name]
        assert mine == expected
    # Pipeline-level events once; a checkpoint per node.
    for event in ("before_pipeline_run", "after_pipeline_run", "session_start", "session_end"):
        assert [e[0] for e in events].count(event) == 1
    assert [e[0] for e in events].count("post_checkpoint") == 3
    join_start = events.index(("before_dataset_loaded", "join", "a"))
    assert events.index(("after_node_run", "left", None)) < join_start
    assert events.index(("after_node_run", "right", None)) < join_start


def test_thread_and_sequential_give_the_same_outputs(project):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(NODES, "nodes")
    path = three_node_pipeline(project, rec, nodes)
    assert run_pipeline(path, runner="thread", workers=3).ok
    threaded = (project.root / "out/r.json").read_text()
    assert run_pipeline(path).ok
    assert (project.root / "out/r.json").read_text() == threaded == "15\n"


def test_thread_runner_failure_stops_and_reports(project, monkeypatch):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(NODES, "nodes")
    path = three_node_pipeline(project, rec, nodes)
    monkeypatch.setenv("HK_FAIL_SPLIT", "1")
    result = run_pipeline(path, runner="thread")
    assert result.exit_code == 1 and result.nodes_failed == ["B"] and result.nodes_run == ["A"]
    names = [e[0] for e in importlib.import_module(rec).EVENTS]
    assert names.count("on_node_error") == 1 and "after_pipeline_run" not in names
    assert names[-4:] == ["session_metadata", "pre_session_end", "session_end", "after_command_run"]


def test_selection_by_tags_nodes_from_and_to(project):
    nodes = project.module(
        """
        def one(): return 1
        def inc(x): return x + 1
        """,
        "sel",
    )
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        catalog:
          a: {{type: json, path: a.json}}
          b: {{type: json, path: b.json}}
          c: {{type: json, path: c.json}}
        nodes:
          - {{name: n1, func: "{nodes}:one", outputs: a, tags: [first]}}
          - {{name: n2, func: "{nodes}:inc", inputs: a, outputs: b, tags: [middle, etl]}}
          - {{name: n3, func: "{nodes}:inc", inputs: b, outputs: c, tags: etl}}
        """,
    )
    assert run_pipeline(path).nodes_run == ["n1", "n2", "n3"]
    assert run_pipeline(path, tags=["etl"]).nodes_run == ["n2", "n3"]
    assert run_pipeline(path, nodes=["n2"]).nodes_run == ["n2"]
    assert run_pipeline(path, from_nodes=["n2"]).nodes_run == ["n2", "n3"]
    assert run_pipeline(path, to_nodes=["n2"]).nodes_run == ["n1", "n2"]
    assert run_pipeline(path, from_nodes=["n2"], to_nodes=["n2"]).nodes_run == ["n2"]
    with pytest.raises(ValueError, match="no node named 'nn2' \\(did you mean 'n2'"):
        run_pipeline(path, nodes=["nn2"])


def test_params_overrides_nest_and_are_checked(project):
    nodes = project.module("def f(depth, name):\n    return {'depth': depth, 'name': name}\n")
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{model: {{depth: 3}}}}
        catalog:
          out: {{type: json, path: out.json}}
        nodes:
          - {{name: f, func: "{nodes}:f", inputs: ["params:model.depth", "params:model.name"], outputs: out}}
        """,
    )
    from hookrunner.kernel.errors import ValidationError

    with pytest.raises(ValidationError, match="parameter 'model.name' does not exist"):
        run_pipeline(path)
    assert run_pipeline(path, params={"model.depth": 5, "model.name": "tree"}, params_new=True).ok
    assert json.loads((project.root / "out.json").read_text()) == {"depth": 5, "name": "tree"}


RESUME_NODES = source("runners_resume_nodes")


def _resume_pipeline(project, extra=""):
    nodes = project.module(RESUME_NODES, "res")
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        manifests: []
        catalog:
          a: {{type: json, path: out/a.json}}
          b: {{type: pickle, path: out/b.pkl}}
          c: {{type: json, path: out/c.json}}
        nodes:
          - {{name: first, func: "{nodes}:first", outputs: a}}
          - {{name: second, func: "{nodes}:second", inputs: a, outputs: b}}
          - {{name: third, func: "{nodes}:third", inputs: b, outputs: c}}
        {extra}
        """,
    )
    if str(project.root) not in sys.path:  # where a run would import it from, too
        sys.path.insert(0, str(project.root))
    return path, importlib.import_module(nodes)


def test_resume_after_failure_runs_only_what_is_left(project, monkeypatch):
    path, mod = _resume_pipeline(project)
    monkeypatch.setenv("HK_FAIL_THIRD", "1")
    failed = run_pipeline(path)
    assert failed.exit_code == 1 and mod.RAN == ["first", "second", "third"]
    monkeypatch.delenv("HK_FAIL_THIRD")
    mod.RAN.clear()
    resumed = run_pipeline(path, resume=failed.session_id[:15])  # a unique prefix is enough
    assert resumed.ok and mod.RAN == ["third"]
    assert resumed.nodes_skipped == ["first", "second"] and resumed.nodes_run == ["third"]
    assert json.loads((project.root / "out/c.json").read_text()) == 3
    store = Store(project.root / ".hookrunner/sessions.db")
    assert store.session(resumed.session_id)["resumed_from"] == failed.session_id
    # The resumed session carries the skipped checkpoints, so it can be resumed in turn.
    assert store.checkpointed_nodes(resumed.session_id) == {"first", "second", "third"}
    mod.RAN.clear()
    again = run_pipeline(path, resume=resumed.session_id)
    assert again.ok and mod.RAN == [] and again.nodes_skipped == ["first", "second", "third"]


def test_resume_reruns_a_node_whose_output_is_gone(project, monkeypatch):
    path, mod = _resume_pipeline(project)
    done = run_pipeline(path)
    (project.root / "out/b.pkl").unlink()
    mod.RAN.clear()
    resumed = run_pipeline(path, resume=done.session_id)
    assert mod.RAN == ["second", "third"]  # downstream of a re-run node runs again too
    assert resumed.nodes_skipped == ["first"]


def test_vetoed_checkpoint_is_not_resumable(project, monkeypatch):
    hooks = project.module(
        """
        def no_second(checkpoint_data):
            return checkpoint_data.get("node") != "second"
        """
    )
    path, mod = _resume_pipeline(
        project,
        f"""
        hooks:
          - {{name: veto, event: pre_checkpoint, call: "{hooks}:no_second"}}
        """,
    )
    monkeypatch.setenv("HK_FAIL_THIRD", "1")
    failed = run_pipeline(path)
    store = Store(project.root / ".hookrunner/sessions.db")
    assert store.checkpointed_nodes(failed.session_id) == {"first"}
    monkeypatch.delenv("HK_FAIL_THIRD")
    mod.RAN.clear()
    resumed = run_pipeline(path, resume=failed.session_id)
    assert resumed.ok and mod.RAN == ["second", "third"]


def test_resume_unknown_session_is_a_usage_error(project):
    path, _ = _resume_pipeline(project)
    run_pipeline(path)
    with pytest.raises(ValueError, match="no session 'nope'"):
        run_pipeline(path, resume="nope")
    other = project.write("other.yaml", path.read_text())
    first = run_pipeline(path)
    with pytest.raises(ValueError, match=f"session {first.session_id} ran .*pipeline.yaml, not"):
        run_pipeline(other, resume=first.session_id, store=project.root / ".hookrunner/sessions.db")


class _Exploding:
    def __str__(self) -> str:
        raise RuntimeError("cannot encode this value")


def test_a_save_that_raises_halfway_leaves_the_previous_file(tmp_path):
    target = tmp_path / "report.json"
    ds = JSONDataset(str(target))
    ds.save({"version": 1})
    with pytest.raises(DatasetError, match=r"data\['rows'\]\[2\] is a _Exploding"):
        ds.save({"version": 2, "rows": [1, 2, _Exploding()]})
    assert json.loads(target.read_text()) == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left


def test_a_node_whose_output_fails_halfway_keeps_the_old_csv(project):
    nodes = project.module(
        """
        def rows(fail):
            yield {"n": 1}
            yield {"n": 2}
            if fail:
                raise RuntimeError("source went away")
            yield {"n": 3}
        """,
        "gen",
    )
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{fail: false}}
        catalog:
          table: {{type: csv, path: out/table.csv}}
        nodes:
          - {{name: rows, func: "{nodes}:rows", inputs: "params:fail", outputs: table}}
        """,
    )
    assert run_pipeline(path).ok
    before = (project.root / "out/table.csv").read_text()
    assert before.splitlines() == ["n", "1", "2", "3"]
    result = run_pipeline(path, params={"fail": True})
    assert result.exit_code == 1 and "source went away" in result.error
    assert (project.root / "out/table.csv").read_text() == before
    assert sorted(p.name for p in (project.root / "out").iterdir()) == ["table.csv"]


def test_free_inputs_and_outputs_of_a_pipeline_and_of_its_selections():
    from hookrunner.pipeline.graph import Node, Pipeline

    nodes = [
        Node("a", len, ["raw", "params:k"], ["x", "log"]),
        Node("b", len, "x", {"y": "y", "z": "z"}),
        Node("c", len, ["y", "extra"], None),
    ]
    whole = Pipeline(nodes)
    assert whole.inputs() == {"raw", "params:k", "extra"}
    assert whole.outputs() == {"log", "z"}
    tail = whole.from_nodes("b")
    assert (tail.inputs(), tail.outputs()) == ({"x", "extra"}, {"z"})
    whole.outputs().add("mutated")  # a copy: the pipeline's own answer does not change
    assert whole.outputs() == {"log", "z"}


def test_a_checkpoint_resume_can_use_is_stored_before_the_next_node_runs(project):
    nodes = project.module(
        """
        import sqlite3

        SEEN = []

        def make(x):
            return {"v": x}

        def keep(x):
            return x

        def look(doc, kept, db):
            with sqlite3.connect(db) as conn:  # another connection: what a crash would leave
                SEEN.append(sorted(r[0] for r in conn.execute("SELECT node FROM checkpoints")))
            return 1
        """
    )
    db = project.root / "s.db"
    pipeline = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{start: 1, db: "{db}"}}
        catalog:
          doc: {{type: json, path: out/doc.json}}
        nodes:
          - {{name: a, func: "{nodes}:make", inputs: ["params:start"], outputs: doc}}
          - {{name: m, func: "{nodes}:keep", inputs: ["params:start"], outputs: kept}}
          - {{name: b, func: "{nodes}:look", inputs: [doc, kept, "params:db"], outputs: seen}}
        """,
    )
    result = run_pipeline(pipeline, store=db)
    assert result.ok
    # a's output is a file, so --resume could skip a: its checkpoint was written when a
    # finished. m's output lives in memory (never skipped) and may wait for the batch.
    assert "a" in importlib.import_module(nodes).SEEN[0]
    assert {c["node"] for c in Store(db).checkpoints(result.session_id)} == {"a", "m", "b"}
