"""Tracing nodes that run in another process (a distributed runner's workers).

The run's context travels to the worker with each node task (W3C ``traceparent``): the node's
span there is a child of the run's, and so are the dataset spans, the hook calls (made from
the worker's call records when the node is done) and any span the node's own code makes with
the OpenTelemetry API while it runs. The worker exports nothing and needs no collector:
it collects the finished spans of the node's task and sends them back with the node's report,
and the driver exports them through its provider under the run's span. They are issued
again there, with the driver's span ids and the worker's times. A worker without the
``otel`` extra sends nothing back; the driver then records the node's span from the report.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import TelemetryConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ...kernel.registry import Registry
    from ...kernel.runtime.results import EmitResult
    from .tracer import NodeTrace, Tracer

log = logging.getLogger("hookrunner.telemetry")
_local = threading.local()
_lock = threading.Lock()
_tracer: Any = None  # the worker's collecting OpenTelemetry tracer, made on first use
_warned = False


@dataclass(frozen=True)
class TraceRequest:
    """What a node task needs to trace on a worker (small and picklable)."""

    carrier: tuple[tuple[str, str], ...]  # the run span's context, W3C trace context
    run_id: str
    hook_calls: str


def request(nodes: NodeTrace) -> TraceRequest:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, context=nodes.parent)
    return TraceRequest(
        tuple(sorted(carrier.items())), nodes.run_id, nodes.tracer.config.hook_calls
    )


# --------------------------------------------------------------------------- worker side


def _collecting_tracer() -> Any:
    """This process's tracer whose finished spans go to the node task that made them."""
    global _tracer
    with _lock:
        if _tracer is None:
            from opentelemetry import trace
            from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
            from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

            from ...kernel.version import __version__

            class Collect(SpanProcessor):
                def on_end(self, span: Any) -> None:
                    spans = getattr(_local, "spans", None)
                    if spans is not None:
                        spans.append(span)

            provider = TracerProvider(sampler=ParentBased(ALWAYS_ON), shutdown_on_exit=False)
            provider.add_span_processor(Collect())
            if not isinstance(trace.get_tracer_provider(), TracerProvider):
                # Spans the node's own code makes come back with the node's too.
                trace.set_tracer_provider(provider)
            _tracer = provider.get_tracer("hookrunner", __version__)
        return _tracer


def worker_trace(req: TraceRequest, registry: Registry, worker: str) -> NodeTrace | None:
    """The ``NodeTrace`` of one node task here (None when OpenTelemetry is not installed
    here); spans finished in this thread from now on are kept for ``collect``."""
    global _warned
    try:
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        from .scrub import Scrubber, env_secrets
        from .tracer import NodeTrace, Tracer

        otel = _collecting_tracer()
    except ImportError as exc:
        if not _warned:
            _warned = True
            log.warning(
                "this worker cannot trace its nodes (%s): pip install 'hookrunner[otel]'", exc
            )
        return None
    parent = TraceContextTextMapPropagator().extract(dict(req.carrier))
    scrub = Scrubber(env_secrets(os.environ))
    tracer = Tracer(otel, TelemetryConfig(hook_calls=req.hook_calls), scrub, lambda: registry)
    _local.spans = []
    return NodeTrace(tracer, parent, req.run_id, worker=worker)


def collect(nodes: NodeTrace, calls: list[tuple[float, EmitResult]]) -> list[dict[str, Any]]:
    """The task's spans, as plain data: its hook calls become spans here first, children of
    the node's span."""
    tracer: Tracer = nodes.tracer
    parent = nodes.last.context if nodes.last is not None else nodes.parent
    for ts, result in calls:
        tracer.observe(result, end_ns=int(ts * 1e9), parent=parent)
    spans = getattr(_local, "spans", None) or []
    _local.spans = None
    return [_plain(s) for s in spans]


def _plain(span: Any) -> dict[str, Any]:
    parent = span.parent
    return {
        "name": span.name,
        "id": span.context.span_id,
        "parent": parent.span_id if parent is not None else None,
        "kind": span.kind.value,
        "start": span.start_time,
        "end": span.end_time,
        "attributes": dict(span.attributes or {}),
        "events": [(e.name, e.timestamp, dict(e.attributes or {})) for e in span.events],
        "status": (span.status.status_code.value, span.status.description),
    }


# --------------------------------------------------------------------------- driver side


def adopt(nodes: NodeTrace, spans: list[dict[str, Any]] | None, report: Mapping[str, Any]) -> Any:
    """Issue a worker's spans of one node under the run's span (parents before children);
    without them, the node's span from its report (``node``, ``worker``, ``started``,
    ``ended``: seconds, ``error``). Returns a context manager in which the node's span is
    current (the driver's own hooks of that node run inside it)."""
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind, Status, StatusCode

    from .tracer import TASK_NAME, TASK_RESULT, TASK_RUN_ID, WORKER

    tracer = nodes.tracer
    otel = tracer.otel
    if not spans:
        start = int(report["started"] * 1e9)
        span = otel.start_span(
            report["node"],
            context=nodes.parent,
            attributes={
                TASK_NAME: report["node"],
                TASK_RUN_ID: f"{nodes.run_id}/{report['node']}",
                WORKER: report["worker"] or "",
            },
            start_time=start,
        )
        error = report.get("error")
        span.set_attribute(TASK_RESULT, "success" if error is None else "failure")
        if error is not None:
            tracer.failed(span, error)
        span.end(end_time=max(start, int(report["ended"] * 1e9)))
        return _current(trace.set_span_in_context(span, nodes.parent))
    by_id = {s["id"]: s for s in spans}

    def depth(s: dict[str, Any]) -> int:
        n = 0
        while s["parent"] in by_id and n < len(by_id):
            s = by_id[s["parent"]]
            n += 1
        return n

    made: dict[int, Any] = {}
    node_context = None
    for s in sorted(spans, key=lambda s: (depth(s), s["start"] or 0)):
        parent = made.get(s["parent"])
        ctx = trace.set_span_in_context(parent, nodes.parent) if parent else nodes.parent
        span = otel.start_span(
            s["name"],
            context=ctx,
            kind=SpanKind(s["kind"]),
            attributes=s["attributes"],
            start_time=s["start"],
        )
        for name, ts, attributes in s["events"]:
            span.add_event(name, attributes, timestamp=ts)
        code, description = s["status"]
        if code != StatusCode.UNSET.value:
            span.set_status(Status(StatusCode(code), description))
        span.end(end_time=s["end"])
        made[s["id"]] = span
        if node_context is None and TASK_NAME in s["attributes"]:
            node_context = trace.set_span_in_context(span, nodes.parent)
    return _current(node_context or nodes.parent)


@contextmanager
def _current(ctx: Any) -> Iterator[None]:
    from opentelemetry import context

    token = context.attach(ctx)
    try:
        yield
    finally:
        context.detach(token)
