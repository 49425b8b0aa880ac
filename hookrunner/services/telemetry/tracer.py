"""hookrunner's spans: emits and hook calls, pipeline runs, nodes, datasets and sessions.

Names follow OpenTelemetry's CI/CD conventions where they apply: a pipeline run is a SERVER
span ``RUN <pipeline>`` (``cicd.pipeline.name``, ``cicd.pipeline.run.id``,
``cicd.pipeline.result``, ``error.type`` on failure), each node an INTERNAL child
(``cicd.pipeline.task.name``, ``cicd.pipeline.task.run.id``,
``cicd.pipeline.task.run.result``). An emit that ran hooks is a span named after its event,
and each hook call a child span named after the hook (or, with ``hook_calls: events``, an
event on the emit's span): ``hookrunner.hook.name``, ``hookrunner.event``, ``code.file.path``
and ``code.line.number``, ``hookrunner.hook.outcome`` (ok, error, timeout, vetoed) and
``hookrunner.veto.reason``. Dataset loads and saves are spans ``load NAME`` / ``save NAME``.

Hook-call spans are made from the emit's result by the runner's observer, after the emit
(their times come from the measured durations, laid end to end back from the emit's end);
the emit's own span is opened before it runs when it goes through ``HookRunner.emit`` or
``wrap``, so that spans the hooks make themselves nest under it. Nothing formats an event's
payload unless ``payloads:`` names the argument, and every text that leaves is scrubbed.
This module is imported only when a runner traces.
"""

from __future__ import annotations

import reprlib
import traceback
import types
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from time import time_ns
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from ...kernel.errors import HookTimeout, text_of
from .config import TelemetryConfig
from .scrub import Scrubber

if TYPE_CHECKING:
    from ...host.runner import HookRunner
    from ...kernel.registry import Registry
    from ...kernel.runtime.results import EmitResult, HookResult

SCOPE = "hookrunner"
# OpenTelemetry CI/CD semantic conventions.
PIPELINE_NAME = "cicd.pipeline.name"
PIPELINE_RUN_ID = "cicd.pipeline.run.id"
PIPELINE_RESULT = "cicd.pipeline.result"
PIPELINE_ACTION = "cicd.pipeline.action.name"
TASK_NAME = "cicd.pipeline.task.name"
TASK_RUN_ID = "cicd.pipeline.task.run.id"
TASK_RESULT = "cicd.pipeline.task.run.result"
ERROR_TYPE = "error.type"
SESSION_ID = "session.id"
CODE_FILE = "code.file.path"
CODE_LINE = "code.line.number"
# hookrunner's own.
EVENT = "hookrunner.event"
HOOK = "hookrunner.hook.name"
HOOK_SOURCE = "hookrunner.hook.source"
OUTCOME = "hookrunner.hook.outcome"
DURATION = "hookrunner.hook.duration_ms"
VETOED = "hookrunner.vetoed"
VETO_REASON = "hookrunner.veto.reason"
HOOKS_RAN = "hookrunner.hooks"
FAILURES = "hookrunner.failures"
DATASET = "hookrunner.dataset.name"
OPERATION = "hookrunner.dataset.operation"
WORKER = "hookrunner.worker"
SESSION_KIND = "hookrunner.session.kind"
ARG = "hookrunner.arg."

_TEXT = 1024  # longest exported text (messages, payloads)
_repr = reprlib.Repr()  # bounded: a payload asked for is never formatted whole
_repr.maxstring = _repr.maxother = 200
_repr.maxlist = _repr.maxdict = _repr.maxtuple = _repr.maxset = 8
_repr.maxlevel = 2
# The emit span ``HookRunner.emit`` opened, with its event: its observer adds the hooks there.
_OPEN: ContextVar[tuple[Any, str] | None] = ContextVar("hookrunner_open_emit", default=None)


def error_type(error: BaseException) -> str:
    """``error.type``: the exception's class, qualified unless it is a built-in."""
    t = type(error)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _source_attributes(source: str) -> dict[str, Any]:
    """Where a hook is declared: ``hookrunner.hook.source`` as ``hookrunner list`` shows it,
    and ``code.file.path``/``code.line.number`` of a ``file:line``."""
    found: dict[str, Any] = {HOOK_SOURCE: source}
    path, _, line = source.removeprefix("python:").rpartition(":")
    if path and line.isdigit() and not source.startswith("plugin:"):
        found[CODE_FILE] = path
        found[CODE_LINE] = int(line)
    return found


class Tracer:
    """One runner's tracing (one is made per traced runner, when the runner is made)."""

    def __init__(
        self,
        otel: Any,
        config: TelemetryConfig,
        scrub: Scrubber,
        registry: Callable[[], Registry | None],
    ):
        self.otel = otel  # an OpenTelemetry Tracer
        self.config = config
        self.scrub = scrub
        self._registry = registry
        self._spans = config.hook_calls != "events"
        # (generation, event) -> hook name -> attributes of where it is declared.
        self._sources: dict[tuple[int, str], dict[str, dict[str, Any]]] = {}

    # ------------------------------------------------------------------ texts
    def text(self, value: str) -> str:
        """``value`` as it may leave the process: scrubbed, and shortened."""
        value = self.scrub(value)
        return value if len(value) <= _TEXT else value[: _TEXT - 1] + "…"

    def failed(self, span: Any, error: BaseException) -> None:
        """Mark ``span`` failed with ``error`` (type, scrubbed message and stack)."""
        kind = error_type(error)
        message = self.text(text_of(error))  # even one whose __str__ raises
        span.set_attribute(ERROR_TYPE, kind)
        span.set_status(Status(StatusCode.ERROR, self.text(f"{type(error).__name__}: {message}")))
        stack = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        span.add_event(
            "exception",
            {
                "exception.type": kind,
                "exception.message": message,
                "exception.stacktrace": self.scrub(stack),
            },
        )

    def _value(self, value: Any) -> Any:
        if isinstance(value, bool | int | float):
            return value
        return self.text(value if isinstance(value, str) else _repr.repr(value))

    # ------------------------------------------------------------------ emits
    def install(self, runner: HookRunner) -> None:
        """Trace ``runner``'s emits: its observer makes the hook-call spans, and ``emit`` and
        ``wrap`` open the emit's span first (an event without hooks stays untouched)."""
        previous = runner.registry.state.observer
        if previous is None:
            runner.set_observer(self.observe)
        else:

            def both(result: Any) -> None:
                previous(result)
                self.observe(result)

            runner.set_observer(both)
        cls = type(runner)
        tracer = self

        def emit(self: HookRunner, event: str, /, **kwargs: Any) -> Any:
            plan = self.registry.plans.get(event)
            if plan is None or not plan.hooks:
                return cls.emit(self, event, **kwargs)
            with tracer.emitting(event, kwargs):
                return cls.emit(self, event, **kwargs)

        def wrap(self: HookRunner, event: str, operation: Any, /, **kwargs: Any) -> Any:
            plan = self.registry.plans.get(event)
            if plan is None or not plan.hooks:
                return cls.wrap(self, event, operation, **kwargs)
            with tracer.emitting(event, kwargs):
                return cls.wrap(self, event, operation, **kwargs)

        # Instance attributes, set once: a runner that does not trace keeps the class's.
        setattr(runner, "emit", types.MethodType(emit, runner))  # noqa: B010
        setattr(runner, "wrap", types.MethodType(wrap, runner))  # noqa: B010

    @contextmanager
    def emitting(self, event: str, kw: Mapping[str, Any]) -> Iterator[Any]:
        """The span of one emit, current while its hooks run."""
        attributes: dict[str, Any] = {EVENT: event}
        session_id = kw.get("session_id")
        if isinstance(session_id, str):
            attributes[SESSION_ID] = session_id
        for name in self.config.payloads:
            if name in kw and kw[name] is not None:
                attributes[ARG + name] = self._value(kw[name])
        with self.otel.start_as_current_span(
            event, attributes=attributes, record_exception=False, set_status_on_exception=False
        ) as span:
            token = _OPEN.set((span, event))
            try:
                yield span
            except BaseException as exc:
                self.failed(span, exc)
                raise
            finally:
                _OPEN.reset(token)

    def observe(self, result: EmitResult, end_ns: int | None = None, parent: Any = None) -> None:
        """The runner's observer: ``result``'s hook calls as spans (or events) of its emit's
        span, which is made here unless ``emit`` opened it. ``end_ns`` and ``parent`` place
        an emit observed later (one that ran on a worker)."""
        results = result.results
        if not results:
            return
        end = time_ns() if end_ns is None else end_ns
        opened = _OPEN.get() if parent is None else None
        if (
            opened is not None
            and opened[1] == result.event
            and trace.get_current_span() is opened[0]
        ):
            span, own = opened[0], False
        else:
            total = int(sum(r.duration_ms for r in results) * 1e6)
            span = self.otel.start_span(
                result.event,
                context=parent,
                attributes={EVENT: result.event},
                start_time=end - total,
            )
            own = True
        failures = sum(1 for r in results if not r.ok)
        span.set_attribute(HOOKS_RAN, len(results))
        if failures:
            span.set_attribute(FAILURES, failures)
        vetoer: HookResult | None = None
        if result.vetoed:
            reason = self.text(result.reason or "refused")
            span.set_attribute(VETOED, True)
            span.set_attribute(VETO_REASON, reason)
            if results[-1].ok:
                vetoer = results[-1]
        # Laid end to end, back from the emit's end.
        starts = []
        t = end
        for r in reversed(results):
            t -= int(r.duration_ms * 1e6)
            starts.append(t)
        starts.reverse()
        sources = self._sources_of(result)
        inside = trace.set_span_in_context(span, parent) if self._spans else None
        for r, start in zip(results, starts, strict=True):
            attributes = {HOOK: r.name, EVENT: result.event, **sources.get(r.name, {})}
            if r is vetoer:
                attributes[OUTCOME] = "vetoed"
                attributes[VETO_REASON] = self.text(result.reason or "refused")
            elif r.ok:
                attributes[OUTCOME] = "ok"
            else:
                attributes[OUTCOME] = "timeout" if isinstance(r.error, HookTimeout) else "error"
            stop = start + int(r.duration_ms * 1e6)
            if self._spans:
                child = self.otel.start_span(
                    r.name, context=inside, attributes=attributes, start_time=start
                )
                if r.error is not None:
                    self.failed(child, r.error)
                child.end(end_time=stop)
            else:
                attributes[DURATION] = r.duration_ms
                if r.error is not None:
                    attributes[ERROR_TYPE] = error_type(r.error)
                    attributes["exception.message"] = self.text(str(r.error))
                span.add_event(r.name, attributes, timestamp=start)
        if own:
            span.end(end_time=end)

    def _sources_of(self, result: EmitResult) -> dict[str, dict[str, Any]]:
        key = (result.generation, result.event)
        found = self._sources.get(key)
        if found is None:
            registry = self._registry()
            plan = registry.plans.get(result.event) if registry is not None else None
            hooks = plan.hooks if plan is not None else ()
            found = self._sources[key] = {h.name: _source_attributes(h.source) for h in hooks}
        return found

    # ------------------------------------------------------------------ runs and sessions
    def start_run(self, pipeline: str, run_id: str) -> RunSpan:
        """The span of a pipeline run, current (in this thread) until ``RunSpan.end``."""
        span = self.otel.start_span(
            f"RUN {pipeline}",
            kind=SpanKind.SERVER,
            attributes={
                PIPELINE_NAME: pipeline,
                PIPELINE_RUN_ID: run_id,
                PIPELINE_ACTION: "RUN",
                SESSION_ID: run_id,
            },
        )
        return RunSpan(self, span, run_id)

    def start_session(self, session_id: str, kind: str) -> Any:
        """The span of a host application's session (its emits are made its children)."""
        return self.otel.start_span(
            "session", attributes={SESSION_ID: session_id, SESSION_KIND: kind}
        )

    def end_session(self, span: Any, status: str, error: str | None) -> None:
        span.set_attribute("hookrunner.session.status", status)
        if status != "ok":
            span.set_status(Status(StatusCode.ERROR, self.text(error or status)))
        span.end()


class RunSpan:
    """A pipeline run's span: current in the thread that started it until ``end``."""

    def __init__(self, tracer: Tracer, span: Any, run_id: str):
        self.tracer = tracer
        self.span = span
        self.run_id = run_id
        self.context = trace.set_span_in_context(span)
        self._token = otel_context.attach(self.context)

    def nodes(self) -> NodeTrace:
        """What the runners trace nodes with (their spans are children of this one)."""
        return NodeTrace(self.tracer, self.context, self.run_id)

    def skipped(self, node: str) -> None:
        """A node a resumed run did not run again: a task span with result ``skip``."""
        now = time_ns()
        span = self.tracer.otel.start_span(
            node,
            context=self.context,
            attributes={TASK_NAME: node, TASK_RUN_ID: f"{self.run_id}/{node}", TASK_RESULT: "skip"},
            start_time=now,
        )
        span.end(end_time=now)

    def end(self, exit_code: int, error: BaseException | None = None) -> None:
        """``cicd.pipeline.result`` from the run's exit code (0 success, 130 cancellation,
        else failure, with ``error.type``)."""
        result = {0: "success", 130: "cancellation"}.get(exit_code, "failure")
        self.span.set_attribute(PIPELINE_RESULT, result)
        self.span.set_attribute("hookrunner.exit_code", exit_code)
        if result == "failure":
            if error is not None:
                self.tracer.failed(self.span, error)
            else:
                self.span.set_attribute(ERROR_TYPE, "_OTHER")
                self.span.set_status(Status(StatusCode.ERROR, f"exit code {exit_code}"))
        try:
            otel_context.detach(self._token)
        finally:
            self.span.end()


class NodeTrace:
    """Traces the nodes of one run: each a child span of the run's, current while it runs
    in whichever thread runs it (the run's context travels with this object)."""

    def __init__(self, tracer: Tracer, parent: Any, run_id: str, worker: str | None = None):
        self.tracer = tracer
        self.parent = parent
        self.run_id = run_id
        self.worker = worker
        self.last: NodeSpan | None = None  # a worker's task traces one node: its span

    def node(self, name: str, catalog: Any) -> NodeSpan:
        """A node's span, started and current in this thread until ``NodeSpan.end``."""
        span = self.last = NodeSpan(self, name, catalog)
        return span


class NodeSpan:
    """One node's span; ``load`` and ``save`` trace the node's dataset accesses."""

    def __init__(self, trace_: NodeTrace, name: str, catalog: Any):
        tracer = trace_.tracer
        attributes: dict[str, Any] = {TASK_NAME: name, TASK_RUN_ID: f"{trace_.run_id}/{name}"}
        if trace_.worker is not None:
            attributes[WORKER] = trace_.worker
        self.tracer = tracer
        self.catalog = catalog
        self.span = tracer.otel.start_span(name, context=trace_.parent, attributes=attributes)
        self.context = trace.set_span_in_context(self.span, trace_.parent)
        self._token = otel_context.attach(self.context)

    def _dataset(self, operation: str, name: str, do: Callable[[], Any]) -> Any:
        span = self.tracer.otel.start_span(
            f"{operation} {name}", attributes={DATASET: name, OPERATION: operation}
        )
        try:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                value = do()
        except BaseException as exc:
            self.tracer.failed(span, exc)
            raise
        finally:
            span.end()
        return value

    def load(self, name: str) -> Any:
        return self._dataset("load", name, lambda: self.catalog.load(name))

    def save(self, name: str, data: Any) -> None:
        self._dataset("save", name, lambda: self.catalog.save(name, data))

    def end(self, error: BaseException | None) -> None:
        self.span.set_attribute(TASK_RESULT, "success" if error is None else "failure")
        if error is not None:
            self.tracer.failed(self.span, error)
        try:
            otel_context.detach(self._token)
        finally:
            self.span.end()


def tracer_for(runner: HookRunner, config: TelemetryConfig, provider: Any) -> Tracer:
    """A runner's ``Tracer``: spans to ``provider``, secrets of its manifests scrubbed."""
    import os

    from ...kernel.version import __version__
    from .scrub import env_secrets

    ref = weakref.ref(runner)
    return Tracer(
        provider.get_tracer(SCOPE, __version__),
        config,
        Scrubber(env_secrets(os.environ)),
        lambda: r.registry if (r := ref()) is not None else None,
    )
