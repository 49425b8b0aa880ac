"""A failed run names its culprit (hook, node or dataset) with its place and a traceback."""

from __future__ import annotations

import json

import pytest

from hookrunner import HookRunner
from hookrunner.pipeline.lifecycle import run_pipeline

NODES = """
def make():
    return {"total": 3}


def boom(x):
    return x["missing"]


def odd():
    return {"tags": {"a", "b"}}
"""

HOOKS = """
def strict(outputs):
    return outputs["nothing_like_this"]


def fine(node):
    pass
"""


def _project(project, node: str = "make", hooks: str = "") -> None:
    nodes = project.module(NODES, "nodes")
    mod = project.module(HOOKS, "hooks")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: fine, event: before_node_run, call: {mod}:fine}}
        {hooks.format(mod=mod)}
        catalog:
          report: {{type: json, path: out/report.json}}
        nodes:
          - name: first
            func: {nodes}:{node}
            outputs: report
        """,
    )


@pytest.mark.parametrize("runner", ["sequential", "thread"])
def test_a_hook_that_raises_is_the_culprit_not_its_node(project, runner):
    _project(
        project,
        hooks="  - {{name: check, event: after_node_run, call: {mod}:strict}}",
    )
    result = run_pipeline(project.root / "pipeline.yaml", runner=runner)
    assert result.exit_code == 1
    failure = result.failure
    assert failure.kind == "hook" and failure.hook == "check" and failure.node == "first"
    assert failure.event == "after_node_run"
    assert failure.source == f"{project.root / 'pipeline.yaml'}:4"
    assert failure.message.startswith("hook 'check' (after_node_run, ")
    assert failure.message.endswith(
        "pipeline.yaml:4) failed on node 'first': KeyError: 'nothing_like_this'"
    )
    assert 'in strict\n    return outputs["nothing_like_this"]' in failure.traceback
    assert "hookrunner/" not in failure.traceback  # project frames only
    assert "Traceback (most recent call last)" in failure.traceback_full
    assert result.nodes_failed == ["first"]


def test_a_node_that_raises_is_named_with_its_line(project):
    _project(project, node="boom")
    project.write(
        "pipeline.yaml",
        (project.root / "pipeline.yaml").read_text().replace("outputs: report", "inputs: report"),
    )
    project.write("out/report.json", "{}")
    result = run_pipeline(project.root / "pipeline.yaml")
    failure = result.failure
    assert failure.kind == "node" and failure.hook is None
    assert failure.message.endswith("failed: KeyError: 'missing'")
    assert "pipeline.yaml:8) failed" in failure.message
    assert failure.traceback.splitlines()[0].endswith(" in boom")


def test_a_json_dataset_refuses_what_json_cannot_hold_and_keeps_the_old_file(project):
    _project(project, node="odd")
    project.write("out/report.json", '{"old": true}\n')
    result = run_pipeline(project.root / "pipeline.yaml")
    failure = result.failure
    assert failure.kind == "dataset" and failure.dataset == "report"
    assert "pipeline.yaml:6) failed on node 'first': saving dataset 'report' failed: " in (
        failure.message
    )
    assert (
        "data['tags'] is a set ({'a', 'b'}), which JSON cannot hold: convert it first "
        "(list(...) or sorted(...)), or save it to a pickle dataset"
        in failure.message
        or "data['tags'] is a set ({'b', 'a'})" in failure.message
    )
    assert json.loads((project.root / "out" / "report.json").read_text()) == {"old": True}


def test_the_failure_is_stored_in_the_session(project):
    _project(
        project,
        hooks="  - {{name: check, event: after_node_run, call: {mod}:strict}}",
    )
    result = run_pipeline(project.root / "pipeline.yaml")
    from hookrunner.services.sessions.store import Store

    session = Store(project.root / ".hookrunner" / "sessions.db").session(result.session_id)
    stored = session["summary"]["failure"]
    assert stored["kind"] == "hook" and stored["hook"] == "check"
    assert stored["traceback"] == result.failure.traceback


def test_the_python_api_names_the_hook_in_the_exception_notes(project):
    mod = project.module(HOOKS, "hooks")
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks:\n  - {{name: check, event: session_start, call: {mod}:strict, "
        "on_error: raise, with: {outputs: {}}}\n",
    )
    with HookRunner.from_files(project.root / "hooks.yaml") as runner:
        with pytest.raises(KeyError) as raised:
            runner.emit("session_start")
    notes = raised.value.__notes__
    assert notes == ["raised by hook 'check' (session_start, hooks.yaml:3) [hookrunner]"] or (
        len(notes) == 1 and notes[0].startswith("raised by hook 'check' (session_start, ")
    )
