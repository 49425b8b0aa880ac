"""The §6 lifecycle, event by event, for success and both kinds of failure; Kedro parity."""

from __future__ import annotations

import importlib
import json

import pytest
from pipeline_kit import HEAD, NODES, RECORDER, node_events, tail, three_node_pipeline

from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.services.sessions.store import Store

A = node_events("A", ["x", "params:y"], ["s"])
B = node_events("B", ["s"], ["p", "q"])
C = node_events("C", ["p", "q"], ["r"])


def _setup(project, extra=""):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(NODES, "nodes")
    path = three_node_pipeline(project, rec, nodes, extra)
    return path, rec


def _events(rec):
    return importlib.import_module(rec).EVENTS


def test_success_sequence_event_by_event(project):
    path, rec = _setup(project)
    result = run_pipeline(path)
    assert result.ok and result.nodes_run == ["A", "B", "C"]
    assert _events(rec) == HEAD + A + B + C + tail(0, failed=False)
    assert json.loads((project.root / "out/r.json").read_text()) == 15  # (1+2)*2 + (1+2)*3
    store = Store(project.root / ".hookrunner/sessions.db")
    assert store.session(result.session_id)["status"] == "ok"
    assert [c["node"] for c in store.checkpoints(result.session_id)] == ["A", "B", "C"]
    calls = store.hook_calls(result.session_id)
    assert len(calls) == len(_events(rec))  # one row per hook call, all recorded
    assert {c["hook"] for c in calls} >= {"rec.before_node_run", "rec.session_end"}


def test_node_failure_sequence(project, monkeypatch):
    path, rec = _setup(project)
    monkeypatch.setenv("HK_FAIL_SPLIT", "1")
    result = run_pipeline(path)
    assert result.exit_code == 1 and result.nodes_failed == ["B"]
    assert "split exploded" in result.error
    b_fail = [
        ("before_dataset_loaded", "B", "s"),
        ("after_dataset_loaded", "B", "s"),
        ("before_node_run", "B", None),
        ("on_node_error", "B", None),
    ]
    assert _events(rec) == HEAD + A + b_fail + tail(1, failed=True)
    store = Store(project.root / ".hookrunner/sessions.db")
    assert store.session(result.session_id)["status"] == "failed"


def test_dataset_load_failure_sequence(project):
    path, rec = _setup(project)
    (project.root / "data/x.json").unlink()
    result = run_pipeline(path)
    assert result.exit_code == 1 and result.nodes_failed == ["A"]
    assert "x.json does not exist" in result.error
    # As in Kedro: a failed load is not a node error; the pipeline fails.
    assert _events(rec) == HEAD + [("before_dataset_loaded", "A", "x")] + tail(1, failed=True)


def test_before_node_run_overrides_inputs_and_rejects_non_mappings(project):
    hooks = project.module(
        """
        def bump(node, inputs):
            if node.name == "A":
                return {"params:y": 100}

        def bad(node):
            return 42
        """
    )
    path, rec = _setup(
        project,
        f"""
        hooks:
          - {{name: bump, event: before_node_run, call: "{hooks}:bump"}}
        """,
    )
    result = run_pipeline(path)
    assert result.ok
    assert json.loads((project.root / "out/r.json").read_text()) == 505  # (1+100)*5
    project.write(
        "pipeline.yaml",
        (project.root / "pipeline.yaml").read_text().replace(":bump", ":bad"),
    )
    result = run_pipeline(path)
    assert result.exit_code == 1 and "must return a mapping or None" in result.error


def test_run_params_and_catalog_arguments(project):
    hooks = project.module(
        """
        SEEN = {}

        def before(run_params, pipeline, catalog):
            SEEN["run_params"] = run_params
            SEEN["nodes"] = [n.name for n in pipeline.nodes]
            SEEN["free_inputs"] = sorted(pipeline.inputs())
            SEEN["y"] = catalog.load("params:y")

        def catalog_created(parameters, save_version, conf_catalog):
            SEEN["parameters"] = parameters
            SEEN["save_version"] = save_version
            SEEN["conf"] = sorted(conf_catalog)

        def after(run_result):
            SEEN["run_result"] = run_result
        """
    )
    path, _ = _setup(
        project,
        f"""
        hooks:
          - {{name: b, event: before_pipeline_run, call: "{hooks}:before"}}
          - {{name: c, event: after_catalog_created, call: "{hooks}:catalog_created"}}
          - {{name: a, event: after_pipeline_run, call: "{hooks}:after"}}
        """,
    )
    result = run_pipeline(path, params={"y": 5}, tags=[])
    seen = importlib.import_module(hooks).SEEN
    rp = seen["run_params"]
    assert rp["run_id"] == rp["session_id"] == result.session_id == seen["save_version"]
    # Kedro renders the runner object; hookrunner's name for it has a key of its own.
    assert rp["runner"].startswith("<kedro.runner.sequential_runner.SequentialRunner object at 0x")
    assert rp["runner_name"] == "sequential" and rp["extra_params"] == {"y": 5}
    assert rp["runtime_params"] == {"y": 5} and rp["tags"] == () and rp["node_names"] == ()
    assert seen["nodes"] == ["A", "B", "C"] and seen["free_inputs"] == ["params:y", "x"]
    # Kedro's parameter entries: all of them, then each one by name.
    assert seen["y"] == 5 and seen["parameters"] == {"parameters": {"y": 5}, "params:y": 5}
    assert seen["conf"] == ["r", "x"]
    # Kedro 1.x's run result: every free output's dataset (r is a file dataset).
    assert list(seen["run_result"]) == ["r"]
    assert seen["run_result"]["r"].load() == json.loads((project.root / "out/r.json").read_text())


def test_kedro_parity_same_hooks_class(project, monkeypatch):
    """Kedro's SequentialRunner and hookrunner call the same unmodified hooks class in the
    same order for the node and dataset events both fire."""
    kedro_runner = pytest.importorskip("kedro.runner")
    from kedro.framework.hooks.manager import _create_hook_manager
    from kedro.io import DataCatalog, MemoryDataset
    from kedro.pipeline import Pipeline, node

    hooks_mod = project.module(
        """
        from kedro.framework.hooks import hook_impl

        LOG = []

        class ProjectHooks:
            @hook_impl
            def before_dataset_loaded(self, dataset_name, node):
                LOG.append(("before_dataset_loaded", node.name, dataset_name))

            @hook_impl
            def after_dataset_loaded(self, dataset_name, data, node):
                LOG.append(("after_dataset_loaded", node.name, dataset_name))

            @hook_impl
            def before_node_run(self, node, catalog, inputs, is_async, run_id):
                LOG.append(("before_node_run", node.name, tuple(sorted(inputs))))
                if node.name == "B":
                    return {"s": inputs["s"] + 1}

            @hook_impl
            def after_node_run(self, node, inputs, outputs):
                LOG.append(("after_node_run", node.name, tuple(sorted(outputs))))

            @hook_impl
            def before_dataset_saved(self, dataset_name, data, node):
                LOG.append(("before_dataset_saved", node.name, dataset_name))

            @hook_impl
            def after_dataset_saved(self, dataset_name, data, node):
                LOG.append(("after_dataset_saved", node.name, dataset_name, data))
        """,
        "kh",
    )
    nodes_mod = project.module(NODES, "nodes")
    monkeypatch.syspath_prepend(str(project.root))
    mod = importlib.import_module(hooks_mod)
    nodes = importlib.import_module(nodes_mod)

    pipe = Pipeline(
        [
            node(nodes.add, ["x", "params:y"], "s", name="A"),
            node(nodes.split, "s", ["p", "q"], name="B"),
            node(nodes.combine, {"p": "p", "q": "q"}, {"r": "r"}, name="C"),
        ]
    )
    catalog = DataCatalog({"x": MemoryDataset(1), "params:y": MemoryDataset(2)})
    manager = _create_hook_manager()
    manager.register(mod.ProjectHooks())
    kedro_runner.SequentialRunner().run(pipe, catalog, manager, run_id="parity")
    kedro_log = list(mod.LOG)
    mod.LOG.clear()

    project.write("data/x.json", "1\n")
    project.write(
        "pipeline.yaml",
        f"""
        version: 1
        manifests: []
        hooks:
          - {{name: project, class: "{hooks_mod}:ProjectHooks"}}
        params: {{y: 2}}
        catalog:
          x: {{type: json, path: data/x.json}}
        nodes:
          - {{name: A, func: "{nodes_mod}:add", inputs: [x, "params:y"], outputs: s}}
          - {{name: B, func: "{nodes_mod}:split", inputs: s, outputs: [p, q]}}
          - {{name: C, func: "{nodes_mod}:combine", inputs: {{p: p, q: q}}, outputs: {{r: r}}}}
        """,
    )
    result = run_pipeline(project.root / "pipeline.yaml")
    assert result.ok
    assert mod.LOG == kedro_log
    assert ("after_dataset_saved", "C", "r", 20) in kedro_log  # the override reached B in both
    assert result.outputs == {"r": 20}


def test_a_wrap_mode_hook_wraps_the_node_hooks_and_keeps_their_changes(project):
    hooks = project.module(
        """
        SEEN = []

        def bump(node, inputs):
            if node.name == "A":
                return {"params:y": 100}

        def around(original_func, node):
            r = original_func()
            SEEN.append((node.name, [h.name for h in r.results], dict(r.changes)))
        """
    )
    path, _ = _setup(
        project,
        f"""
        hooks:
          - {{name: bump, event: before_node_run, call: "{hooks}:bump"}}
          - {{name: around, event: before_node_run, call: "{hooks}:around", mode: wrap}}
        """,
    )
    result = run_pipeline(path)
    assert result.ok, result.error
    assert json.loads((project.root / "out/r.json").read_text()) == 505  # (1+100)*5
    seen = importlib.import_module(hooks).SEEN
    assert seen[0] == ("A", ["rec.before_node_run", "bump"], {"params:y": 100})
    assert [name for name, _, _ in seen] == result.nodes_run
