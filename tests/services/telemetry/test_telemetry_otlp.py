"""Runs exporting over OTLP/HTTP to a receiver on a free loopback port, started by the test;
what it receives is decoded with opentelemetry-proto."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from sources import source


class Receiver:
    """An OTLP/HTTP traces endpoint: keeps every request's path, headers and decoded body."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], ExportTraceServiceRequest]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                headers = {k.lower(): v for k, v in self.headers.items()}
                received.append((self.path, headers, ExportTraceServiceRequest.FromString(body)))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spans(self) -> list[tuple[dict[str, str], str, Span]]:
        """(resource attributes, scope name, span) of everything received."""
        out = []
        for _, _, req in self.requests:
            for rs in req.resource_spans:
                resource = {a.key: a.value.string_value for a in rs.resource.attributes}
                for ss in rs.scope_spans:
                    out += [(resource, ss.scope.name, span) for span in ss.spans]
        return out


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def _attrs(span: Span) -> dict[str, object]:
    out: dict[str, object] = {}
    for a in span.attributes:
        v = a.value
        out[a.key] = getattr(v, v.WhichOneof("value"))
    return out


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(OTEL_BSP_SCHEDULE_DELAY="50", **extra)
    return env


def _project(project, settings: str = "") -> None:
    nodes = project.module(source("telemetry_nodes"), "tn")
    hooks = project.module(source("telemetry_hooks"), "th")
    project.write(
        "hooks.yaml",
        f"""
        version: 1
        {settings}
        hooks:
          - {{name: seen, event: before_node_run, call: {hooks}:seen}}
          - {{name: guard, event: pre_tool_execution, call: {hooks}:guard}}
        """,
    )
    project.write(
        "etl.yaml",
        f"""
        version: 1
        nodes:
          - {{name: extract, func: {nodes}:extract, outputs: rows}}
          - {{name: total, func: {nodes}:total, inputs: rows, outputs: out}}
        """,
    )


def _hookrunner(project, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookrunner", *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_configured_by_otel_variables_reaches_the_collector(project, receiver):
    _project(project)
    env = _env(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_SERVICE_NAME="etl-nightly")
    done = _hookrunner(project, "run", "etl.yaml", "--quiet", env=env)
    assert done.returncode == 0, done.stderr
    assert receiver.requests and {path for path, _, _ in receiver.requests} == {"/v1/traces"}
    assert all(h["content-type"] == "application/x-protobuf" for _, h, _ in receiver.requests)
    got = receiver.spans()
    assert {r["service.name"] for r, _, _ in got} == {"etl-nightly"}
    assert {scope for _, scope, _ in got} == {"hookrunner"}
    spans = {s.span_id: s for _, _, s in got}
    (run,) = [s for s in spans.values() if s.name == "RUN etl"]
    assert run.parent_span_id == b"" and run.kind == Span.SPAN_KIND_SERVER
    assert _attrs(run)["cicd.pipeline.result"] == "success"
    nodes = [s for s in spans.values() if "cicd.pipeline.task.name" in _attrs(s)]
    assert sorted(s.name for s in nodes) == ["extract", "total"]
    assert all(s.parent_span_id == run.span_id and s.trace_id == run.trace_id for s in nodes)
    for node in nodes:
        (emit,) = [
            s
            for s in spans.values()
            if s.parent_span_id == node.span_id and s.name == "before_node_run"
        ]
        (hook,) = [s for s in spans.values() if s.parent_span_id == emit.span_id]
        assert hook.name == "seen" and _attrs(hook)["hookrunner.hook.outcome"] == "ok"
    saves = [s for s in spans.values() if s.name == "save rows"]
    assert [_attrs(s)["hookrunner.dataset.name"] for s in saves] == ["rows"]


def test_settings_telemetry_with_a_secret_header_and_a_host_emit(project, receiver):
    settings = f"""settings:
          telemetry:
            endpoint: {receiver.url}
            service_name: agent
            headers: {{x-collector-token: "${{env:HK_COLLECTOR_TOKEN}}"}}
            payloads: [tool_name]"""
    _project(project, settings)
    env = _env(HK_COLLECTOR_TOKEN="ct-90210-secret")
    done = _hookrunner(
        project, "emit", "pre_tool_execution", "--data", '{"tool_name": "rm"}', env=env
    )
    assert done.returncode == 2 and "rm is not allowed" in done.stderr  # vetoed
    assert {h.get("x-collector-token") for _, h, _ in receiver.requests} == {"ct-90210-secret"}
    got = receiver.spans()
    assert {r["service.name"] for r, _, _ in got} == {"agent"}
    (emit,) = [s for _, _, s in got if s.name == "pre_tool_execution"]
    attrs = _attrs(emit)
    assert attrs["hookrunner.vetoed"] is True and attrs["hookrunner.arg.tool_name"] == "rm"
    (guard,) = [s for _, _, s in got if s.parent_span_id == emit.span_id]
    assert _attrs(guard)["hookrunner.hook.outcome"] == "vetoed"
    assert "ct-90210-secret" not in repr([req for _, _, req in receiver.requests])


def test_claude_hook_traces_its_event_and_the_hook_calls(project, receiver):
    """``settings.telemetry`` is read by ``hookrunner claude hook`` too: the event's span and
    its hook's span under it (the agent's record of the calls does not replace tracing's)."""
    _project(project, f"settings:\n          telemetry: {{endpoint: {receiver.url}}}")
    payload = {
        "session_id": "abc",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": "ls"},
        "cwd": str(project.root),
    }
    done = subprocess.run(
        [sys.executable, "-m", "hookrunner", "claude", "hook"],
        input=json.dumps(payload),
        cwd=project.root,
        env=_env(CLAUDE_PROJECT_DIR=str(project.root)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    got = [s for _, _, s in receiver.spans()]
    (emit,) = [s for s in got if s.name == "pre_tool_execution"]
    (guard,) = [s for s in got if s.parent_span_id == emit.span_id]
    assert guard.name == "guard" and _attrs(guard)["hookrunner.hook.outcome"] == "ok"
