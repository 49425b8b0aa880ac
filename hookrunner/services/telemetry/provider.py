"""Which OpenTelemetry tracer provider hookrunner's spans go to, made once per process.

In order: the provider the application handed over (``use_tracer_provider``); a provider of
hookrunner's own when ``settings.telemetry`` names an exporter, a collector or headers; the
global provider when the application (or ``opentelemetry-instrument``) already set an SDK one;
otherwise a provider of hookrunner's own built from the ``OTEL_*`` variables, which also
becomes the global one, so spans that node and hook code makes itself join the same trace. A
provider of hookrunner's own batches its spans (the SDK's ``BatchSpanProcessor``: exported
every few seconds and when the process exits; ``flush`` exports at once). OpenTelemetry is
imported here only once tracing is on.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .config import TelemetryConfig

_lock = threading.Lock()
_given: Any = None  # use_tracer_provider's
_own: dict[tuple[Any, ...], Any] = {}  # configuration key -> TracerProvider


def use(provider: Any) -> None:
    """Send hookrunner's spans to ``provider`` (None: back to the configured one)."""
    global _given
    _given = provider


def given() -> Any:
    return _given


def provider_for(config: TelemetryConfig) -> Any:
    """The tracer provider for ``config`` (see the module docstring)."""
    if _given is not None:
        return _given
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    configured = config.endpoint is not None or config.headers or config.service_name
    current = trace.get_tracer_provider()
    if not configured and isinstance(current, TracerProvider):
        return current
    with _lock:
        provider = _own.get(config.key)
        if provider is None:
            provider = _own[config.key] = _make(config)
            if not isinstance(current, TracerProvider):
                trace.set_tracer_provider(provider)
    return provider


def _make(config: TelemetryConfig) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    attributes = {}
    if config.service_name:
        attributes["service.name"] = config.service_name
    elif not os.environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = "hookrunner"
    provider = TracerProvider(resource=Resource.create(attributes))
    for name in config.exporters:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter: Any = OTLPSpanExporter(
                endpoint=config.endpoint, headers=dict(config.headers) or None
            )
        else:
            exporter = ConsoleSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def flush(timeout_s: float = 10.0) -> bool:
    """Export what hookrunner's own providers (and a handed-over one) still hold; False when
    an exporter did not finish in time."""
    with _lock:
        providers = list(_own.values()) + ([_given] if _given is not None else [])
    done = True
    for provider in providers:
        force = getattr(provider, "force_flush", None)
        if force is not None:
            done = bool(force(int(timeout_s * 1000))) and done
    return done
