"""Secrets never leave the process in a span: texts are scrubbed before they are exported.

Every value a manifest took from the environment (``${env:NAME}``; the exporter's headers
among them) is masked by the process's one scrubber (``kernel.secrets``), as everywhere else;
spans also mask the value of every environment variable whose name says it holds one
(``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*KEY*``...), decided when a runner is made: a
trace leaves the machine, so it is stricter than the terminal. Only texts that go out are
scrubbed (error messages, veto reasons, the payloads asked for), so the cost is paid on
failures, not on every emit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ...kernel.secrets import scrub as process_scrub

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|AUTH|API_?KEY|ACCESS_?KEY|PRIVATE|COOKIE|"
    r"SESSION_KEY|(^|_)KEY($|_)|OTEL_EXPORTER_OTLP(_TRACES)?_HEADERS",
    re.IGNORECASE,
)
_SHORTEST = 6  # shorter values would scrub ordinary words


def env_secrets(environ: Mapping[str, str]) -> list[str]:
    """Values of the variables whose names say they hold a secret (and a header list's
    values one by one)."""
    found = []
    for name, value in environ.items():
        if not _SECRET_NAME.search(name):
            continue
        found.append(value)
        if name.endswith("_HEADERS"):
            found.extend(part.partition("=")[2] for part in value.split(","))
    return found


class Scrubber:
    """Masks what ``kernel.secrets`` knows, then every one of ``secrets`` (``<redacted>``)."""

    def __init__(self, secrets: Iterable[str]):
        values = sorted({s.strip() for s in secrets if len(s.strip()) >= _SHORTEST}, key=len)
        self._pattern = (
            re.compile("|".join(re.escape(v) for v in reversed(values))) if values else None
        )

    def __call__(self, text: str) -> str:
        text = process_scrub(text)
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)
