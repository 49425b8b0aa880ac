"""``--runner dask`` on a real LocalCluster of two worker processes (one per module)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys

import pytest
from pipeline_kit import HEAD, NODES, RECORDER, node_events, tail, three_node_pipeline
from sources import source

from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.services.sessions.store import Store

# Hooks that keep state in the process they run in.
STATEFUL = source("dask_runner_stateful")

# Two nodes that can only finish together: each announces itself with a file and waits for
# the other's (a barrier across processes), so passing proves they ran at the same time.
MEET = source("dask_runner_meet")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    c = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.WARNING,
    )
    yield c
    c.close()


def _log(path):
    return [tuple(json.loads(line)) for line in path.read_text().splitlines()]


def _setup(project, extra_hooks="", nodes_source=NODES):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(nodes_source, "nodes")
    log = project.root / "events.jsonl"
    path = three_node_pipeline(project, rec, nodes)
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: rec
            class: {rec}:Recorder
            args: {{log: {str(log)!r}, stamped: true}}
        {extra_hooks}
        """,
    )
    return path, log


def test_same_outputs_events_once_in_order_and_workers_in_the_store(project, cluster):
    path, log = _setup(project)
    result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
    assert result.startup_s == 0.0  # an existing cluster: nothing started
    assert result.ok, result.error
    assert result.nodes_run == ["A", "B", "C"]
    dask_out = (project.root / "out/r.json").read_text()
    entries = _log(log)
    events = [tuple(e[0]) for e in entries]
    driver = os.getpid()
    # Each node's own events: in the sequential order, exactly once, all on one worker.
    for name, inputs, outputs in [
        ("A", ["x", "params:y"], ["s"]),
        ("B", ["s"], ["p", "q"]),
        ("C", ["p", "q"], ["r"]),
    ]:
        mine = [e for e in entries if e[0][1] == name]
        assert [tuple(e[0]) for e in mine] == [
            e for e in node_events(name, inputs, outputs) if e[1] == name
        ]
        assert len({e[1] for e in mine}) == 1 and mine[0][1] != driver
    # Pipeline and session events in the driver, in §6 order, a checkpoint per node.
    rest = [e for e in entries if e[0][1] is None]
    assert {e[1] for e in rest} == {driver}
    checkpoints = [("pre_checkpoint", None, None), ("post_checkpoint", None, None)] * 3
    assert [tuple(e[0]) for e in rest] == HEAD + checkpoints + tail(0, failed=False)
    # The store: one row per call, node events with the worker they ran on.
    store = Store(project.root / ".hookrunner/sessions.db")
    calls = store.hook_calls(result.session_id)
    assert len(calls) == len(events)
    workers = set(cluster.scheduler_info["workers"])
    for call in calls:
        if call["event"] in ("before_node_run", "after_dataset_loaded", "after_dataset_saved"):
            assert call["worker"] in workers
        if call["event"] in ("before_pipeline_run", "session_start", "post_checkpoint"):
            assert call["worker"] is None
    assert [c["node"] for c in store.checkpoints(result.session_id)] == ["A", "B", "C"]
    # Same outputs as the sequential runner.
    (project.root / "out/r.json").unlink()
    assert run_pipeline(path).ok
    assert (project.root / "out/r.json").read_text() == dask_out == "15\n"


def test_node_failure_fires_on_node_error_on_the_worker_and_stops(project, cluster):
    path, log = _setup(
        project, nodes_source=NODES.replace("if os.environ", "if True or os.environ")
    )
    result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
    assert result.exit_code == 1
    assert result.nodes_failed == ["B"] and result.nodes_run == ["A"]
    assert "split exploded" in result.error
    # The worker's traceback (project frames) comes back with the failure.
    assert result.failure.kind == "node" and result.failure.node == "B"
    assert " in split\n" in result.failure.traceback
    entries = _log(log)
    names = [e[0][0] for e in entries]
    driver = os.getpid()
    on_node = [e for e in entries if e[0][0] == "on_node_error"]
    assert len(on_node) == 1 and on_node[0][0][1] == "B" and on_node[0][1] != driver
    assert [e[1] for e in entries if e[0][0] == "on_pipeline_error"] == [driver]
    assert "after_pipeline_run" not in names
    assert not [e for e in entries if e[0][1] == "C"]  # never started
    assert names[-4:] == ["session_metadata", "pre_session_end", "session_end", "after_command_run"]
    store = Store(project.root / ".hookrunner/sessions.db")
    assert store.session(result.session_id)["status"] == "failed"
    errors = [c for c in store.hook_calls(result.session_id) if c["event"] == "on_node_error"]
    assert len(errors) == 1 and errors[0]["worker"] in set(cluster.scheduler_info["workers"])


def test_independent_nodes_overlap_on_two_workers(project, cluster):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(MEET, "meet")
    log = project.root / "events.jsonl"
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks: [{{name: rec, class: '{rec}:Recorder', args: {{log: '{log}', stamped: true}}}}]\n",
    )
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{folder: {str(project.root)!r}}}
        nodes:
          - {{name: left, func: "{nodes}:left", inputs: "params:folder", outputs: a}}
          - {{name: right, func: "{nodes}:right", inputs: "params:folder", outputs: b}}
          - {{name: join, func: "builtins:sorted", inputs: [a], outputs: c}}
        """,
    )
    result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
    assert result.ok, result.error
    # Free outputs kept in memory come back as the run result.
    assert result.outputs == {"b": "right", "c": ["e", "f", "l", "t"]}
    entries = _log(log)
    span = {}
    for name in ("left", "right"):
        start = next(e for e in entries if e[0] == ["before_node_run", name, None])
        end = next(e for e in entries if e[0] == ["after_node_run", name, None])
        span[name] = (start[2], end[2], start[1])
    assert span["left"][2] != span["right"][2]  # two worker processes
    assert max(s[0] for s in span.values()) < min(s[1] for s in span.values())  # overlap


def test_driver_hooks_keep_state_in_the_driver_and_overrides_work(project, cluster):
    state = project.module(STATEFUL, "state")
    path, log = _setup(
        project,
        f"""
          - name: remember
            event: after_node_run
            call: {state}:remember
            where: driver
          - name: on_worker
            event: after_node_run
            call: {state}:remember
            priority: 400
          - name: override
            event: before_node_run
            call: {state}:double_s
          - name: flaky
            event: after_node_run
            call: {state}:flaky
            on_error: continue
          - name: saved
            event: after_dataset_saved
            call: {state}:saved
            where: driver
        """,
    )
    result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
    assert result.ok, result.error
    # B's input s = 3 became 30: r = 30*2 + 30*3
    assert json.loads((project.root / "out/r.json").read_text()) == 150
    module = importlib.import_module(state)
    # Only the driver-side hook ran in this process, once per node, in node order.
    assert module.SEEN == [("A", os.getpid()), ("B", os.getpid()), ("C", os.getpid())]
    # A driver-side dataset hook gets the data the worker saved.
    assert module.SAVED == [("s", 3), ("p", 60), ("q", 90), ("r", 150)]
    calls = Store(project.root / ".hookrunner/sessions.db").hook_calls(result.session_id)
    by_hook = {}
    for c in calls:
        by_hook.setdefault(c["hook"], []).append(c["worker"])
    assert by_hook["remember"] == [None, None, None]
    assert len(by_hook["on_worker"]) == 3 and None not in by_hook["on_worker"]
    # A worker hook failing under `continue`: recorded there, post_error fired in the driver.
    failed = [c for c in calls if c["hook"] == "flaky"]
    assert [c["ok"] for c in failed] == [False] * 3 and None not in by_hook["flaky"]
    assert failed[0]["error"] == "ValueError: flaky on A"
    post = [e for e in _log(log) if e[0][0] == "post_error"]
    assert len(post) == 3 and {e[1] for e in post} == {os.getpid()}


def test_cli_local_cluster_and_usage_errors(project, cli):
    path, log = _setup(project)
    result = cli("run", str(path), "--runner", "dask", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert (project.root / "out/r.json").read_text() == "15\n"
    # The cluster's start is part of the run, and said apart from it.
    started = [x for x in result.stdout.splitlines() if x.startswith("workers: local cluster")]
    assert len(started) == 1 and "started in" in started[0], result.stdout
    store = project.root / ".hookrunner/sessions.db"
    sid = Store(store).sessions()[0]["id"]
    shown = cli("sessions", "show", sid, "--calls", "--store", str(store))
    assert shown.returncode == 0 and "worker" in shown.stdout and "tcp://127.0.0.1:" in shown.stdout
    bad = cli("run", str(path), "--runner", "dask", "--address", "localhost")
    assert bad.returncode == 2 and "tcp://HOST:8786" in bad.stderr
    assert "Traceback" not in bad.stderr
    wrong = cli("run", str(path), "--address", "tcp://127.0.0.1:1")
    assert wrong.returncode == 2 and "--address needs --runner dask" in wrong.stderr


def test_missing_extra_is_an_invalid_run_naming_the_extra(project):
    path, _ = _setup(project)
    code = (
        "import sys, runpy; sys.modules['distributed'] = None; "
        f"sys.argv = ['hookrunner', 'run', {str(path)!r}, '--runner', 'dask']; "
        "runpy.run_module('hookrunner', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "pip install 'hookrunner[dask]'" in result.stderr
    assert "Traceback" not in result.stderr


S3_SLOT = source("dask_runner_s3_slot")


def test_s3_datasets_load_and_save_on_the_workers_through_the_manifest_slot(project, cluster, aws):
    import uuid

    import boto3

    bucket = f"d-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/x.json", Body=b"4")
    slot = project.module(S3_SLOT, "slot")
    nodes = project.module(NODES, "nodes")
    log = project.root / "slot.jsonl"
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: s3_client
            event: build_s3_client
            call: {slot}:build
            with: {{endpoint: {aws.url!r}, log: {str(log)!r}}}
        """,
    )
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{y: 1}}
        catalog:
          x: {{type: json, path: "s3://{bucket}/in/x.json"}}
          s: {{type: json, path: "s3://{bucket}/out/s.json"}}
        nodes:
          - {{name: A, func: "{nodes}:add", inputs: [x, "params:y"], outputs: s}}
        """,
    )
    result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
    assert result.ok, result.error
    body = s3.get_object(Bucket=bucket, Key="out/s.json")["Body"].read()
    assert json.loads(body) == 5
    pids = {json.loads(line) for line in log.read_text().splitlines()}
    assert pids and os.getpid() not in pids  # the worker built its own client from the slot


def test_worker_registry_rebuilt_from_shipped_texts_cached_by_content_and_generation(project):
    from hookrunner.kernel.registry import build
    from hookrunner.kernel.runtime.hook import State
    from hookrunner.pipeline import remote
    from hookrunner.pipeline.spec import hook_manifest, load_document

    state = project.module(STATEFUL, "state")
    project.write(
        "common/base.yaml",
        f"""
        version: 1
        hooks:
          - {{name: base, event: after_node_run, call: "{state}:remember"}}
          - {{name: up_there, event: after_node_run, call: "{state}:remember", where: driver}}
        """,
    )
    project.write("hooks.yaml", "version: 1\ninclude: [common/base.yaml]\n")
    nodes = project.module(NODES, "nodes")
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        hooks:
          - {{name: local, event: before_node_run, call: "{state}:double_s"}}
        nodes:
          - {{name: A, func: "{nodes}:add", inputs: [x, y], outputs: s}}
        """,
    )
    doc, shape = load_document(path)
    source = remote.RunSource.of(build(hook_manifest(doc, shape=shape), State(), generation=1))
    reloaded = remote.RunSource.of(build(hook_manifest(doc, shape=shape), State(), generation=2))
    assert source.pipeline == str(path.resolve())
    assert source.manifests == (str((project.root / "hooks.yaml").resolve()),)
    assert reloaded.texts == source.texts and reloaded.key != source.key
    # The worker needs only the shipped texts: not even the files are left on disk.
    for name in ("hooks.yaml", "common/base.yaml", "pipeline.yaml"):
        (project.root / name).unlink()
    ctx = remote.context_for(source)
    assert [h.name for h in ctx.plans["after_node_run"].hooks] == ["base"]  # not up_there
    assert [h.name for h in ctx.plans["before_node_run"].hooks] == ["local"]
    assert remote.context_for(source) is ctx  # cached
    newer = remote.context_for(reloaded)  # a new generation: built again
    assert newer is not ctx and newer.plans["after_node_run"].generation == 2


# An installed plugin: a hooks object and a shipped manifest, both with node hooks.
PLUGIN = source("dask_runner_plugin")


def _add_path(path):
    import importlib as il
    import sys as s

    if path not in s.path:
        s.path.insert(0, path)
    il.invalidate_caches()


def _drop_path(path):
    import importlib as il
    import sys as s

    while path in s.path:
        s.path.remove(path)
    il.invalidate_caches()


def test_entry_point_plugin_node_hooks_run_on_the_workers(project, cluster, monkeypatch):
    from distributed import Client

    n = f"{os.getpid()}_{id(project)}"
    pkg, dist = f"hkdaskplug_{n}", f"hk-dask-plugin-{n}"
    site = project.root / "site"
    (site / pkg).mkdir(parents=True)
    (site / pkg / "__init__.py").write_text(PLUGIN)
    (site / pkg / "hooks.yaml").write_text(
        "version: 1\n"
        "hooks:\n"
        f"  - {{name: shipped, event: after_node_run, call: '{pkg}:shipped'}}\n"
        f"  - {{name: clash, event: after_node_run, call: '{pkg}:clash'}}\n"
    )
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[hookrunner.hooks]\nobject = {pkg}:hooks\nshipped = {pkg}:hooks.yaml\n"
    )
    monkeypatch.syspath_prepend(str(site))
    path, _ = _setup(project)
    own = project.module(
        f"from importlib import import_module\n\n"
        f"def own_clash(node):\n    import_module('{pkg}').record('own clash', node)\n",
        "own",
    )
    # The project's `clash` wins over the plugin's, as in a sequential run.
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        plugins: {{discover: true}}
        hooks:
          - {{name: clash, event: after_node_run, call: "{own}:own_clash"}}
        """,
    )
    calls = site / pkg / "calls.jsonl"
    assert run_pipeline(path).ok
    sequential = sorted(tuple(c[:2]) for c in _log(calls))
    assert sequential == sorted(
        (tag, node) for tag in ("object", "shipped", "own clash") for node in "ABC"
    )
    calls.unlink()
    with Client(cluster.scheduler_address) as client:
        client.run(_add_path, str(site))
        try:
            result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
        finally:
            client.run(_drop_path, str(site))
    assert result.ok, result.error
    entries = _log(calls)
    assert sorted(tuple(c[:2]) for c in entries) == sequential
    assert os.getpid() not in {c[2] for c in entries}  # all of them on the workers


def test_after_a_failure_queued_nodes_never_start(project, cluster):
    rec = project.module(RECORDER, "rec")
    nodes = project.module(
        """
        import time

        def boom(x):
            raise RuntimeError("boom")

        def nap(x):
            time.sleep(1)
            return x
        """,
        "naps",
    )
    log = project.root / "events.jsonl"
    project.write(
        "hooks.yaml",
        f"version: 1\nhooks: [{{name: rec, class: '{rec}:Recorder', args: {{log: '{log}', stamped: true}}}}]\n",
    )
    naps = "\n".join(
        f'  - {{name: s{i}, func: "{nodes}:nap", inputs: "params:x", outputs: o{i}}}'
        for i in range(6)
    )
    path = project.write(
        "pipeline.yaml",
        f'version: 1\nparams: {{x: 1}}\nnodes:\n  - {{name: f, func: "{nodes}:boom", '
        f'inputs: "params:x", outputs: z}}\n{naps}\n',
    )
    result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
    assert result.exit_code == 1 and result.nodes_failed == ["f"]
    entries = [e[0] for e in _log(log)]
    started = {e[1] for e in entries if e[0] == "before_dataset_loaded"} - {"f"}
    finished = {e[1] for e in entries if e[0] == "after_dataset_saved"}
    # Four went to the two workers at once (one running and one queued on each). The queued
    # ones were stopped; at most one per worker had started, and what started finished.
    assert len(started) <= 2 and started == finished == set(result.nodes_run)


def _set_env(name, value):
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def test_secrets_never_travel_with_the_tasks_and_never_come_back(project, cluster, monkeypatch):
    """Params, a dataset argument and a path from ${env:} reach the workers as that text (each
    worker reads its own environment); what the workers report (hook errors, the node's own
    error) comes back sealed too. Everything is captured where it passes: the task payloads
    and errors on the scheduler, the workers' logs, the store, the log records."""
    import cloudpickle
    from distributed import Client
    from distributed.diagnostics.plugin import SchedulerPlugin
    from secret_kit import Marker, dump_stores

    marker = Marker.new()
    folder = "HRDIR" + marker.head
    monkeypatch.setenv("HR_SECRET", marker.value)
    monkeypatch.setenv("HR_SECRET_DIR", folder)
    (project.root / "out" / folder).mkdir(parents=True)
    mod = project.module(source("secret_hooks"), "sec")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - name: parse
            event: before_node_run
            call: {mod}:to_int
            with: {{token: "${{env:HR_SECRET}}"}}
            on_error: continue
        """,
    )
    path = project.write(
        "pipeline.yaml",
        f"""
        version: 1
        params: {{token: "${{env:HR_SECRET}}", label: "x-${{env:HR_SECRET}}"}}
        catalog:
          kept:
            type: "{mod}:SecretDataset"
            path: "out/${{env:HR_SECRET_DIR}}/kept.txt"
            secret_key: "${{env:HR_SECRET}}"
        nodes:
          - {{name: keep, func: "{mod}:keep", inputs: "params:token", outputs: kept}}
          - {{name: parse, func: "{mod}:node_to_int", inputs: "params:label", outputs: n}}
        """,
    )

    class Capture(SchedulerPlugin):
        name = "hookrunner-test-capture"

        def __init__(self, scheduler):
            self.scheduler = scheduler
            self.seen: list[bytes] = []

        def transition(self, key, start, finish, *args, stimulus_id=None, **kwargs):
            ts = self.scheduler.tasks.get(key)
            parts = [key, start, finish, kwargs]
            if ts is not None:
                parts += [ts.run_spec, ts.exception, ts.exception_text, ts.traceback_text]
            self.seen.append(cloudpickle.dumps(parts) + repr(parts).encode())

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(logging.Formatter().format(record) + repr(record.__dict__))

    handler = Keep(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    capture = Capture(cluster.scheduler)
    with Client(cluster.scheduler_address) as client:
        for name in ("HR_SECRET", "HR_SECRET_DIR"):  # the workers' own environment
            client.run(_set_env, name, os.environ[name])
        cluster.scheduler.add_plugin(capture)
        try:
            result = run_pipeline(path, runner="dask", address=cluster.scheduler_address)
        finally:
            cluster.scheduler.remove_plugin(name=capture.name)
            logging.getLogger().removeHandler(handler)
        worker_logs = repr(client.get_worker_logs())
        for name in ("HR_SECRET", "HR_SECRET_DIR"):
            client.run(_set_env, name, None)
    assert result.exit_code == 1 and result.nodes_failed == ["parse"]
    # The failure names the node and its line in the pipeline file.
    assert result.error == (
        f"node 'parse' ({path.resolve()}:{result.failure.source.rpartition(':')[2]}) failed: "
        "ValueError: invalid literal for int() with base 10: 'x-<from env>'"
    )
    assert result.failure.kind == "node" and "x-<from env>" in result.failure.traceback
    # The worker read the values from its environment: the path, the argument, the param.
    saved = (project.root / "out" / folder / "kept.txt").read_text(encoding="utf-8")
    assert saved == f"{marker.value}|{marker.value}"
    # The worker-side hook's failure is in the store, masked.
    calls = Store(project.root / ".hookrunner/sessions.db").hook_calls(result.session_id)
    errors = [c["error"] for c in calls if c["hook"] == "parse"]
    assert errors and all(
        e == "ValueError: invalid literal for int() with base 10: '<from env>'" for e in errors
    )
    assert capture.seen, "the plugin saw no task"
    payloads = b"\n".join(capture.seen).decode("utf-8", "replace")
    everything = [payloads, worker_logs, *records, *dump_stores(project.root), repr(result)]
    marker.assert_absent("\n".join(everything))
