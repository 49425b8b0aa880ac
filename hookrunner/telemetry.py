"""OpenTelemetry traces, under the names users write: ``hookrunner.telemetry``.

It lives in ``hookrunner.services.telemetry`` (the ``otel`` extra:
``pip install 'hookrunner[otel]'``).
"""

from .services.telemetry import flush, use_tracer_provider

__all__ = ["flush", "use_tracer_provider"]
