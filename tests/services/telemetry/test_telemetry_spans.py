"""Spans captured with the SDK's in-memory exporter: names, attributes and nesting for runs on
every runner (success and failure), host emits, sessions; and nothing installed when off."""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest
from opentelemetry.trace import SpanKind, StatusCode
from sources import source
from telemetry_kit import Tree, captured

from hookrunner import HookRunner, ValidationError
from hookrunner.pipeline.lifecycle import run_pipeline
from hookrunner.services import telemetry
from hookrunner.services.sessions.store import Store
from hookrunner.services.telemetry.config import resolve


@pytest.fixture(autouse=True)
def _no_otel_environment(monkeypatch):
    for name in (
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_SDK_DISABLED",
        "OTEL_SERVICE_NAME",
    ):
        monkeypatch.delenv(name, raising=False)


def _pipeline(project, total="total"):
    """extract → (left, right) → total, with a before_node_run and a before_pipeline_run
    hook; ``total`` fails with ``--params fail=true``."""
    nodes = project.module(source("telemetry_nodes"), "tn")
    hooks = project.module(source("telemetry_hooks"), "th")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        hooks:
          - {{name: begin, event: before_pipeline_run, call: {hooks}:begin}}
          - {{name: seen, event: before_node_run, call: {hooks}:seen}}
        """,
    )
    return project.write(
        "etl.yaml",
        f"""
        version: 1
        params: {{fail: false}}
        catalog:
          out: {{type: json, path: out/total.json}}
        nodes:
          - {{name: extract, func: {nodes}:extract, outputs: rows}}
          - {{name: left, func: {nodes}:double, inputs: rows, outputs: l}}
          - {{name: right, func: {nodes}:double, inputs: rows, outputs: r}}
          - name: total
            func: {nodes}:{total}
            inputs: {{rows: l, fail: "params:fail"}}
            outputs: out
        """,
    )


NODES = {"extract", "left", "right", "total"}


def _check_run(tree: Tree, result, failed: str | None = None) -> None:
    """The shape every runner must give a run: RUN → nodes → datasets and emits → hooks."""
    (run,) = tree.roots()
    assert run.name == "RUN etl" and run.kind is SpanKind.SERVER
    attrs = run.attributes
    assert attrs["cicd.pipeline.name"] == "etl"
    assert attrs["cicd.pipeline.run.id"] == result.session_id
    assert attrs["cicd.pipeline.action.name"] == "RUN"
    assert attrs["cicd.pipeline.result"] == ("failure" if failed else "success")
    nodes = {s.name: s for s in tree.kids(run) if "cicd.pipeline.task.name" in s.attributes}
    ran = NODES - ({"total"} - {failed} if failed else set())
    assert set(nodes) == ran
    for name, span in nodes.items():
        assert span.kind is SpanKind.INTERNAL
        assert span.attributes["cicd.pipeline.task.name"] == name
        assert span.attributes["cicd.pipeline.task.run.id"] == f"{result.session_id}/{name}"
        assert run.start_time <= span.start_time <= span.end_time <= run.end_time
        below = tree.below(span)
        # Each node's own before_node_run, with its hook inside, and nobody else's.
        emits = [s for s in below if s.name == "before_node_run"]
        assert len(emits) == 1 and tree.parent(emits[0]) is span
        (hook,) = tree.kids(emits[0])
        assert hook.name == "seen"
        assert hook.attributes["hookrunner.hook.name"] == "seen"
        assert hook.attributes["hookrunner.event"] == "before_node_run"
        assert hook.attributes["hookrunner.hook.outcome"] == "ok"
        assert hook.attributes["code.file.path"].endswith("hooks.yaml")
        assert hook.attributes["code.line.number"] == 4
        assert span.start_time <= hook.start_time <= hook.end_time <= span.end_time
    loads = [s for s in tree.below(nodes["left"]) if s.name == "load rows"]
    assert len(loads) == 1 and loads[0].attributes["hookrunner.dataset.name"] == "rows"
    assert loads[0].attributes["hookrunner.dataset.operation"] == "load"
    assert [s.name for s in tree.kids(nodes["extract"]) if s.name.startswith("save")] == [
        "save rows"
    ]
    # The run's own events nest under the run.
    begin = tree.one("before_pipeline_run")
    assert tree.parent(begin) is run and [k.name for k in tree.kids(begin)] == ["begin"]
    if failed:
        node = nodes[failed]
        assert node.attributes["cicd.pipeline.task.run.result"] == "failure"
        assert node.attributes["error.type"] == "ValueError"
        assert node.status.status_code is StatusCode.ERROR
        assert "row 7 is not a number" in node.status.description
        assert attrs["error.type"] == "ValueError"
        assert run.status.status_code is StatusCode.ERROR
        assert all(
            n.attributes["cicd.pipeline.task.run.result"] == "success"
            for k, n in nodes.items()
            if k != failed
        )
    else:
        assert all(
            n.attributes["cicd.pipeline.task.run.result"] == "success" for n in nodes.values()
        )
        assert "error.type" not in attrs
    # No event payload is formatted into an attribute unless asked.
    for s in tree.spans:
        assert not any(k.startswith("hookrunner.arg.") for k in s.attributes)
        assert not any(
            "[2, 4, 6]" in str(v) or "[1, 2, 3]" in str(v) for v in s.attributes.values()
        )


@pytest.mark.parametrize("fail", [False, True])
def test_sequential_run(project, fail):
    path = _pipeline(project)
    with captured() as exporter:
        result = run_pipeline(
            path, store=project.root / "s.db", params={"fail": fail} if fail else None
        )
    assert result.ok is not fail
    _check_run(Tree(exporter.get_finished_spans()), result, failed="total" if fail else None)


@pytest.mark.parametrize("fail", [False, True])
def test_thread_run_nests_each_node_under_the_run(project, fail):
    path = _pipeline(project)
    with captured() as exporter:
        result = run_pipeline(
            path,
            runner="thread",
            workers=2,
            store=project.root / "s.db",
            params={"fail": fail} if fail else None,
        )
    assert result.ok is not fail
    _check_run(Tree(exporter.get_finished_spans()), result, failed="total" if fail else None)
    # The store knows the lanes: every node ran on a pool thread, and so did its hooks.
    store = Store(project.root / "s.db")
    lanes = {n["node"]: n["lane"] for n in store.nodes(result.session_id)}
    assert set(lanes) == NODES
    assert all(lane.startswith("hookrunner-node") for lane in lanes.values())
    seen = [c for c in store.hook_calls(result.session_id) if c["hook"] == "seen"]
    assert len(seen) == 4 and all(c["lane"].startswith("hookrunner-node") for c in seen)
    begin = [c for c in store.hook_calls(result.session_id) if c["hook"] == "begin"]
    assert [c["lane"] for c in begin] == [None]  # the session's own thread


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


@pytest.mark.parametrize("fail", [False, True])
def test_dask_run_sends_the_workers_spans_back_under_the_run(project, cluster, fail):
    path = _pipeline(project, total="traced_total")
    with captured() as exporter:
        result = run_pipeline(
            path,
            runner="dask",
            address=cluster.scheduler_address,
            store=project.root / "s.db",
            params={"fail": fail} if fail else None,
        )
    assert result.ok is not fail, result.error
    tree = Tree(exporter.get_finished_spans())
    _check_run(tree, result, failed="total" if fail else None)
    nodes = [s for s in tree.spans if "cicd.pipeline.task.name" in s.attributes]
    assert all(s.attributes["hookrunner.worker"].startswith("tcp://") for s in nodes)
    # The node's own code made a span with the OpenTelemetry API on the worker: it came back
    # inside the node's span.
    (total,) = [s for s in nodes if s.name == "total"]
    mine = tree.one("add up")
    assert tree.parent(mine) is total
    if fail:
        assert mine.status.status_code is StatusCode.ERROR


# --------------------------------------------------------------------------- host emits


def _runner(project, settings: str = "") -> HookRunner:
    hooks = project.module(source("telemetry_hooks"), "th")
    manifest = project.write(
        "hooks.yaml",
        f"""
        version: 1
        {settings}
        hooks:
          - {{name: guard, event: pre_tool_execution, call: {hooks}:guard}}
          - name: upload
            event: post_file_edit
            call: {hooks}:broken
            with: {{token: "${{env:HK_TEST_UPLOAD_TOKEN,no-token}}"}}
          - {{name: note, event: session_start, call: {hooks}:note}}
          - {{name: explode, event: post_tool_execution, call: {hooks}:explode, on_error: raise}}
        """,
    )
    return HookRunner.from_files(manifest)


def test_a_host_emit_is_a_span_with_its_hooks_veto_and_secrets_scrubbed(project, monkeypatch):
    monkeypatch.setenv("HK_TEST_UPLOAD_TOKEN", "tok-3f9a1c77e2")
    with captured() as exporter:
        with _runner(project) as runner:
            assert runner.emit("pre_tool_execution", tool_name="rm", tool_input="-rf /").vetoed
            assert not runner.emit("post_file_edit", file_path="a.py").ok
    tree = Tree(exporter.get_finished_spans())
    veto = tree.one("pre_tool_execution")
    assert tree.parent(veto) is None
    assert veto.attributes["hookrunner.vetoed"] is True
    assert veto.attributes["hookrunner.veto.reason"] == "rm is not allowed"
    (guard,) = tree.kids(veto)
    assert guard.name == "guard"
    assert guard.attributes["hookrunner.hook.outcome"] == "vetoed"
    assert guard.attributes["hookrunner.veto.reason"] == "rm is not allowed"
    edit = tree.one("post_file_edit")
    assert edit.attributes["hookrunner.failures"] == 1
    (upload,) = tree.kids(edit)
    assert upload.attributes["hookrunner.hook.outcome"] == "error"
    assert upload.attributes["error.type"] == "ConnectionError"
    assert upload.status.status_code is StatusCode.ERROR
    assert "a.py" in upload.status.description
    # The token came from the environment: it never leaves in a span.
    # (an SDK Event has no repr of its own: its name and attributes are spelled out)
    exported = repr(
        [
            (
                s.name,
                dict(s.attributes),
                [(e.name, dict(e.attributes or {})) for e in s.events],
                s.status.description,
            )
            for s in tree.spans
        ]
    )
    assert "tok-3f9a1c77e2" not in exported and "<from env>" in upload.status.description
    (exception,) = upload.events
    assert (
        exception.name == "exception" and "<from env>" in exception.attributes["exception.message"]
    )
    # Payloads were not asked for: no argument is an attribute.
    assert not any(k.startswith("hookrunner.arg.") for s in tree.spans for k in s.attributes)


def test_a_hook_raising_out_of_an_emit_and_an_async_emit(project):
    with captured() as exporter:
        with _runner(project) as runner:
            with pytest.raises(RuntimeError, match="git blew up"):
                runner.emit("post_tool_execution", tool_name="git")
            asyncio.run(runner.aemit("pre_tool_execution", tool_name="rm"))
    tree = Tree(exporter.get_finished_spans())
    raised = tree.one("post_tool_execution")
    assert raised.status.status_code is StatusCode.ERROR
    assert raised.attributes["error.type"] == "RuntimeError"
    (hook,) = tree.kids(raised)
    assert hook.name == "explode" and hook.attributes["hookrunner.hook.outcome"] == "error"
    # aemit is observed like emit: its span and its hook's, after it ran.
    vetoed = tree.one("pre_tool_execution")
    assert vetoed.attributes["hookrunner.vetoed"] is True
    assert [k.name for k in tree.kids(vetoed)] == ["guard"]


def test_a_resumed_run_has_a_skip_span_for_each_node_it_did_not_run_again(project):
    nodes = project.module(source("telemetry_nodes"), "tn")
    path = project.write(
        "etl.yaml",
        f"""
        version: 1
        catalog:
          rows: {{type: json, path: out/rows.json}}
          out: {{type: json, path: out/total.json}}
        nodes:
          - {{name: extract, func: {nodes}:extract, outputs: rows}}
          - {{name: total, func: {nodes}:total, inputs: rows, outputs: out}}
        """,
    )
    first = run_pipeline(path, store=project.root / "s.db", nodes=["extract"])
    assert first.ok
    with captured() as exporter:
        again = run_pipeline(path, store=project.root / "s.db", resume=first.session_id)
    assert again.ok and again.nodes_skipped == ["extract"] and again.nodes_run == ["total"]
    tree = Tree(exporter.get_finished_spans())
    (run,) = tree.roots()
    results = {
        s.name: s.attributes["cicd.pipeline.task.run.result"]
        for s in tree.kids(run)
        if "cicd.pipeline.task.name" in s.attributes
    }
    assert results == {"extract": "skip", "total": "success"}


def test_payloads_asked_for_and_hook_calls_as_events(project):
    settings = "settings: {telemetry: {payloads: [tool_name], hook_calls: events}}"
    with captured() as exporter:
        with _runner(project, settings) as runner:
            runner.emit("pre_tool_execution", tool_name="rm", tool_input="secret stuff")
    (span,) = exporter.get_finished_spans()
    assert span.attributes["hookrunner.arg.tool_name"] == "rm"
    assert "hookrunner.arg.tool_input" not in span.attributes
    (event,) = span.events
    assert event.name == "guard" and event.attributes["hookrunner.hook.outcome"] == "vetoed"
    assert event.attributes["hookrunner.hook.duration_ms"] >= 0


def test_a_host_session_is_a_span_around_its_emits(project):
    with captured() as exporter:
        with _runner(project) as runner:
            with runner.session(session_id="agent-1", store=project.root / "s.db") as s:
                s.emit("pre_tool_execution", tool_name="ls")
    tree = Tree(exporter.get_finished_spans())
    (session,) = tree.roots()
    assert session.name == "session" and session.attributes["session.id"] == "agent-1"
    names = [k.name for k in tree.kids(session)]
    assert names == ["session_start", "pre_tool_execution"]
    assert all(k.attributes["session.id"] == "agent-1" for k in tree.kids(session))


# --------------------------------------------------------------------------- off


def test_off_installs_nothing(project, monkeypatch):
    with _runner(project) as runner:
        assert "emit" not in vars(runner) and runner.registry.state.observer is None
    # enabled: false wins over the environment.
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    with _runner(project, "settings: {telemetry: {enabled: false}}") as runner:
        assert "emit" not in vars(runner) and runner.registry.state.observer is None


def test_the_environment_turns_tracing_on_the_opentelemetry_way():
    assert resolve(None, {}) is None
    assert resolve(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}).exporters == ("otlp",)
    assert resolve(None, {"OTEL_TRACES_EXPORTER": "console,otlp"}).exporters == ("console", "otlp")
    assert resolve(None, {"OTEL_TRACES_EXPORTER": "none"}) is None
    assert resolve(None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "x", "OTEL_SDK_DISABLED": "true"}) is None
    assert resolve({"enabled": False}, {"OTEL_EXPORTER_OTLP_ENDPOINT": "x"}) is None
    config = resolve({"endpoint": "http://c:4318/", "service_name": "etl"}, {})
    assert config.endpoint == "http://c:4318/v1/traces" and config.service_name == "etl"
    assert resolve(None, {}, provider_given=True) is not None


def test_without_the_extra_settings_are_a_located_problem(project, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # not installed
    with pytest.raises(ValidationError) as info:
        _runner(project, "settings:\n          telemetry: {service_name: etl}")
    (problem,) = info.value.problems
    assert problem.file.endswith("hooks.yaml") and problem.line == 3
    assert "hookrunner[otel]" in problem.message and "enabled: false" in problem.hint
    # Asked for by the environment only: a warning (once a process), and the runner works
    # untraced.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(telemetry, "_warned", False)
    with caplog.at_level(logging.WARNING, "hookrunner.telemetry"):
        with _runner(project) as runner:
            assert runner.emit("pre_tool_execution", tool_name="rm").vetoed
            assert "emit" not in vars(runner)
    assert "OTEL_* variables ask for traces" in caplog.text and "hookrunner[otel]" in caplog.text
