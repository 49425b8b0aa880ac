"""Hooks registered from code take part in the pipeline runs of their runner
(``runner.run_pipeline``), laid over the run's hooks by the manifest's rule."""

from __future__ import annotations

import os
import threading

import pytest
from pipeline_kit import NODES, three_node_pipeline

from hookrunner import HookRunner
from hookrunner.services.sessions.store import Store


def _project(project):
    nodes = project.module(NODES, "nodes")
    mod = project.module(
        "CALLS = []\n\ndef mark(node, label):\n    CALLS.append((label, node.name))\n"
    )
    path = three_node_pipeline(project, "unused", nodes)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: file_mark, event: before_node_run, call: "{mod}:mark", with: {{label: file}}}}
          - {{name: switched_off, event: after_node_run, call: "{mod}:mark", with: {{label: off}}}}
        """,
    )
    return path


@pytest.mark.parametrize("runner_name", ["sequential", "thread"])
def test_registered_hooks_and_switches_apply_to_the_runs_of_their_runner(project, runner_name):
    path = _project(project)
    seen: list[tuple[str, str, int]] = []

    def from_code(node):
        seen.append(("code", node.name, threading.get_ident()))

    with HookRunner.from_files(project.root / "hooks.yaml") as runner:
        runner.register("from_code", "after_node_run", from_code)
        runner.disable("switched_off")
        result = runner.run_pipeline(path, runner=runner_name)
    assert result.ok, result.error
    assert sorted(name for _, name, _ in seen) == ["A", "B", "C"]
    calls = Store(result.store).hook_calls(result.session_id)
    hooks = [c["hook"] for c in calls if c["event"] in ("before_node_run", "after_node_run")]
    assert hooks.count("from_code") == 3 and hooks.count("file_mark") == 3
    assert "switched_off" not in hooks  # disabled from code, in the run too


def test_a_registered_hook_replaces_a_hook_of_its_name_in_the_run(project):
    path = _project(project)
    seen = []
    with HookRunner.from_files(project.root / "hooks.yaml") as runner:
        runner.register("file_mark", "before_node_run", lambda node: seen.append(node.name))
        result = runner.run_pipeline(path)
    assert result.ok, result.error
    assert seen == ["A", "B", "C"]
    hooks = [c["hook"] for c in Store(result.store).hook_calls(result.session_id)]
    assert hooks.count("file_mark") == 3


def test_under_dask_registered_node_hooks_run_in_the_driver(project):
    pytest.importorskip("distributed")
    path = _project(project)
    pids = []
    with HookRunner.from_files(project.root / "hooks.yaml") as runner:
        runner.register("from_code", "after_node_run", lambda node: pids.append(os.getpid()))
        result = runner.run_pipeline(path, runner="dask", workers=1)
    assert result.ok, result.error
    assert pids == [os.getpid()] * 3  # the driver: a closure cannot travel to the workers
