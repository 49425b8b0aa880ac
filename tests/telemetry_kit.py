"""Helpers for the tracing tests: spans captured by the SDK's in-memory exporter, as a tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from hookrunner import telemetry


@contextmanager
def captured() -> Iterator[InMemorySpanExporter]:
    """hookrunner's spans go to an in-memory exporter for the block."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        telemetry.use_tracer_provider(None)
        provider.shutdown()


class Tree:
    """Finished spans by id, with their children."""

    def __init__(self, spans: tuple[ReadableSpan, ...] | list[ReadableSpan]):
        self.spans = list(spans)
        self.by_id = {s.context.span_id: s for s in self.spans}
        self.children: dict[int | None, list[ReadableSpan]] = {}
        for s in self.spans:
            parent = s.parent.span_id if s.parent is not None else None
            self.children.setdefault(parent if parent in self.by_id else None, []).append(s)

    def roots(self) -> list[ReadableSpan]:
        return self.children.get(None, [])

    def kids(self, span: ReadableSpan) -> list[ReadableSpan]:
        return sorted(self.children.get(span.context.span_id, []), key=lambda s: s.start_time)

    def below(self, span: ReadableSpan) -> list[ReadableSpan]:
        """Every descendant of ``span``."""
        out = []
        for kid in self.kids(span):
            out += [kid, *self.below(kid)]
        return out

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        found = self.named(name)
        assert len(found) == 1, (name, [s.name for s in self.spans])
        return found[0]

    def parent(self, span: ReadableSpan) -> ReadableSpan | None:
        return self.by_id.get(span.parent.span_id) if span.parent is not None else None
