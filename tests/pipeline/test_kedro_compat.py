"""A hooks class written as in Kedro's docs, loaded with `class:`, gets what pluggy gives it.

The same class is registered with a real pluggy PluginManager carrying Kedro's own hook specs
(``kedro.framework.hooks.specs``, via Kedro's hook manager factory); every event is called in
both systems with the same arguments, and the recorded calls must be identical.
"""

from __future__ import annotations

import importlib
import json

import pytest
from kedro.framework.hooks.manager import _create_hook_manager
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import node
from sources import source

from hookrunner import HookRunner
from hookrunner.kernel.events import BUILTIN

PROJECT_HOOKS = source("kedro_compat_project_hooks")


def _identity(x):
    return x


@pytest.fixture
def kedro_project(project):
    m = project.module(PROJECT_HOOKS)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: project_hooks
            class: {m}:ProjectHooks
            args: {{prefix: docs}}
        """,
    )
    runner = HookRunner.from_files(project.root / "hooks.yaml")
    return runner, importlib.import_module(m), m, project


def _arguments() -> dict[str, dict]:
    """Arguments for every Kedro event, built from real Kedro objects."""
    catalog = DataCatalog({"x": MemoryDataset(1)})
    n = node(_identity, "x", "y", name="identity")
    error = ValueError("node failed")
    run_params = {"session_id": "s1", "pipeline_name": "__default__"}
    values = {
        "context": object(),
        "catalog": catalog,
        "conf_catalog": {"x": {"type": "MemoryDataset"}},
        "conf_creds": {},
        "parameters": {"alpha": 1},
        "save_version": "2024-01-01T00.00.00.000Z",
        "load_versions": {},
        "run_params": run_params,
        "pipeline": object(),
        "run_result": {"y": 2},
        "error": error,
        "node": n,
        "inputs": {"x": 1},
        "outputs": {"y": 2},
        "is_async": False,
        "run_id": "run-1",
        "dataset_name": "x",
        "data": 1,
    }
    kedro_events = [e for e in BUILTIN.values() if e.group == "pipeline"]
    return {e.name: {a: values[a] for a in e.args} for e in kedro_events}


def test_class_receives_exactly_what_pluggy_passes(kedro_project):
    runner, mod, m, _ = kedro_project
    hooks_class = mod.ProjectHooks

    manager = _create_hook_manager()
    manager.register(hooks_class(prefix="docs"))
    arguments = _arguments()
    pluggy_returns = {}
    for event, kwargs in arguments.items():
        pluggy_returns[event] = getattr(manager.hook, event)(**kwargs)
    via_pluggy = list(mod.calls)
    mod.calls.clear()

    ours = {}
    for event, kwargs in arguments.items():
        ours[event] = runner.emit(event, **kwargs)
    via_hookrunner = list(mod.calls)

    assert len(via_pluggy) == 10  # every method but the helper
    assert [c[0] for c in via_hookrunner] == [c[0] for c in via_pluggy]
    for (event, theirs), (_, mine) in zip(via_pluggy, via_hookrunner, strict=True):
        assert mine.keys() == theirs.keys(), event
        for key in theirs:
            assert mine[key] is theirs[key] or mine[key] == theirs[key], (event, key)
    # The defaulted parameter received the event's node in both, and *args/**kwargs got nothing.
    saved = dict(via_hookrunner)["after_dataset_saved"]
    assert saved["node"] is arguments["after_dataset_saved"]["node"]
    assert dict(via_hookrunner)["on_pipeline_error"]["args"] == ()
    assert dict(via_hookrunner)["on_pipeline_error"]["kwargs"] == {}
    # Return values: pluggy collects them, hookrunner merges a mapping into the inputs.
    assert pluggy_returns["before_node_run"] == [{"x": 2}]
    assert dict(ours["before_node_run"].changes) == {"x": 2}


def test_markers_and_specname_show_in_list(kedro_project, cli):
    _, _, m, project = kedro_project
    result = cli("list", "--format", "json", cwd=project.root)
    assert result.returncode == 0, result.stderr
    rows = {r["event"]: r for r in json.loads(result.stdout)}
    assert rows["before_node_run"]["order"] == "tryfirst"
    assert rows["on_node_error"]["order"] == "trylast"
    assert rows["after_node_run"]["order"] == "normal"
    assert rows["after_pipeline_run"]["name"] == "project_hooks.after_pipeline_run"
    assert rows["after_pipeline_run"]["target"] == f"{m}:ProjectHooks.report"
    assert all(r["kind"] == "class" for r in rows.values())
    assert len(rows) == 10


def test_kedro_hookwrapper_is_rejected_with_a_hint(project, cli):
    m = project.module(
        "from kedro.framework.hooks import hook_impl\n\n"
        "class Wrapping:\n"
        "    @hook_impl(hookwrapper=True)\n"
        "    def before_node_run(self, node):\n"
        "        yield\n"
    )
    project.write("hooks.yaml", f"version: 1\nhooks:\n  - name: w\n    class: {m}:Wrapping\n")
    result = cli("validate", "hooks.yaml", cwd=project.root)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "hooks.yaml:4:12: hooks[0] 'w' → class: Wrapping.before_node_run is a pluggy hookwrapper"
    )


def test_kedro_method_asking_for_an_unknown_argument(project, cli):
    m = project.module(
        "from kedro.framework.hooks import hook_impl\n\n"
        "class Typo:\n"
        "    @hook_impl\n"
        "    def after_node_run(self, node, output):\n"
        "        pass\n"
    )
    project.write("hooks.yaml", f"version: 1\nhooks:\n  - name: t\n    class: {m}:Typo\n")
    result = cli("validate", "hooks.yaml", cwd=project.root)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "hooks.yaml:4:12: hooks[0] 't' → class: Typo.after_node_run: parameter 'output'"
    )
    assert "did you mean 'outputs'?" in result.stderr
