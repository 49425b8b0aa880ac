"""OpenTelemetry traces of emits, pipeline runs, nodes, datasets and sessions.

An optional extra (``pip install 'hookrunner[otel]'``). Whether a runner traces is decided
once, when the runner is made (``config.resolve``: ``settings.telemetry`` and the ``OTEL_*``
variables); one that does not trace has nothing installed, so its emits cost what they cost
without this module. One that does gets an observer that turns each emit's hook calls into
spans, and ``emit``/``wrap`` that open the emit's span (``tracer``). Pipeline runs, the nodes
(on any runner, workers included) and host sessions ask ``tracer_of(runner)`` for their spans.

Importing this module registers ``attach`` with the host; it imports OpenTelemetry only for
a runner that traces.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from ...host import runner as host
from ...kernel.errors import ValidationError
from . import provider
from .config import EXTRA_HINT, missing_extra, resolve

if TYPE_CHECKING:
    from ...host.runner import HookRunner
    from .tracer import Tracer

log = logging.getLogger("hookrunner.telemetry")
_tracers: weakref.WeakKeyDictionary[HookRunner, Tracer] = weakref.WeakKeyDictionary()
_warned = False


def attach(runner: HookRunner) -> None:
    """Trace ``runner`` if its settings or the environment say so (``host.on_open``).

    ``settings.telemetry`` without the extra installed is a problem at that line; tracing
    asked for by ``OTEL_*`` variables alone is then skipped with one warning."""
    global _warned
    settings = runner.registry.manifest.settings
    config = resolve(settings.telemetry, provider_given=provider.given() is not None)
    if config is None:
        return
    problem = missing_extra()
    if problem is not None:
        if config.explicit and settings.telemetry_at is not None:
            doc, path = settings.telemetry_at
            raise ValidationError(
                [doc.problem(path, problem, "or set enabled: false to run without traces")]
            )
        if not _warned:
            _warned = True
            log.warning("OTEL_* variables ask for traces, but %s", problem)
        return
    from .tracer import tracer_for

    tracer = tracer_for(runner, config, provider.provider_for(config))
    _tracers[runner] = tracer
    tracer.install(runner)


def tracer_of(runner: Any) -> Tracer | None:
    """The ``Tracer`` of a runner that traces, else None."""
    try:
        return _tracers.get(runner)
    except TypeError:  # not weak-referenceable: not a runner of ours
        return None


def use_tracer_provider(tracer_provider: Any) -> None:
    """Send hookrunner's spans to ``tracer_provider`` (an OpenTelemetry ``TracerProvider``)
    from the next runner made on; it also turns tracing on for runners whose settings do not
    say ``enabled: false``. ``None`` goes back to ``settings.telemetry`` and ``OTEL_*``."""
    provider.use(tracer_provider)


def flush(timeout_s: float = 10.0) -> bool:
    """Export the spans still batched now (they are otherwise exported every few seconds and
    at exit); False when an exporter did not finish within ``timeout_s``."""
    return provider.flush(timeout_s)


host.on_open(attach)

__all__ = ["EXTRA_HINT", "attach", "flush", "tracer_of", "use_tracer_provider"]
