"""Whether a runner traces, and how: ``settings.telemetry`` over the ``OTEL_*`` variables.

Decided once, when a runner is made (``resolve``): off is the default and costs nothing,
since nothing is installed then. Tracing is on when ``settings.telemetry`` is written (and not
``enabled: false``), when the environment names an exporter or a collector the OpenTelemetry
way (``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), or when the application handed hookrunner a tracer
provider (``use_tracer_provider``). ``OTEL_SDK_DISABLED=true`` turns the environment's and the
settings' tracing off, as it does for the SDK.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("hookrunner.telemetry")

EXPORTERS = ("otlp", "console")
EXTRA_HINT = "pip install 'hookrunner[otel]'"


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """How one runner traces (``settings.telemetry`` with the environment's defaults)."""

    # Exporters of a provider hookrunner makes: "otlp" and/or "console".
    exporters: tuple[str, ...] = ("otlp",)
    # The OTLP/HTTP traces URL (None: the exporter reads OTEL_EXPORTER_OTLP_* itself).
    endpoint: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    service_name: str | None = None
    # "spans": a child span per hook call; "events": span events on the emit's span.
    hook_calls: str = "spans"
    # Event arguments recorded as attributes (none unless asked).
    payloads: frozenset[str] = frozenset()
    # True when settings.telemetry asked for it (a missing extra is then an error).
    explicit: bool = False

    @property
    def key(self) -> tuple[Any, ...]:
        """What a tracer provider made for this configuration depends on."""
        return (self.exporters, self.endpoint, self.headers, self.service_name)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def traces_url(base: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base URL, as the SDK forms it."""
    if base.rstrip("/").endswith("/v1/traces"):
        return base
    return base.rstrip("/") + "/v1/traces"


def _exporters(names: str) -> tuple[str, ...]:
    chosen = []
    for name in (n.strip().lower() for n in names.split(",")):
        if name in EXPORTERS and name not in chosen:
            chosen.append(name)
        elif name and name != "none":
            log.warning("OTEL_TRACES_EXPORTER=%s: hookrunner exports with otlp or console", name)
    return tuple(chosen)


def resolve(
    settings: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None = None,
    provider_given: bool = False,
) -> TelemetryConfig | None:
    """The runner's tracing, or None when it does not trace."""
    env = os.environ if environ is None else environ
    s = dict(settings or {})
    if s.get("enabled") is False:
        return None
    if _truthy(env.get("OTEL_SDK_DISABLED")) and not provider_given:
        return None
    asked = bool(
        env.get("OTEL_TRACES_EXPORTER")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    if settings is None and not asked and not provider_given:
        return None
    exporters = _exporters(s.get("exporter") or env.get("OTEL_TRACES_EXPORTER") or "otlp")
    if not exporters and not provider_given:
        return None  # exporter: none
    for var in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = env.get(var)
        if protocol and protocol != "http/protobuf" and "otlp" in exporters:
            log.warning("%s=%s: hookrunner exports OTLP over HTTP (http/protobuf)", var, protocol)
            break
    endpoint = s.get("endpoint")
    return TelemetryConfig(
        exporters=exporters,
        endpoint=traces_url(endpoint) if endpoint else None,
        headers=tuple(sorted((str(k), str(v)) for k, v in (s.get("headers") or {}).items())),
        service_name=s.get("service_name"),
        hook_calls=s.get("hook_calls") or "spans",
        payloads=frozenset(s.get("payloads") or ()),
        explicit=settings is not None,
    )


def missing_extra() -> str | None:
    """Why tracing cannot run here (the ``otel`` extra is not installed), or None."""
    try:
        import opentelemetry.exporter.otlp.proto.http.trace_exporter  # noqa: F401
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError as exc:
        return f"tracing needs OpenTelemetry ({exc}); {EXTRA_HINT}"
    return None
