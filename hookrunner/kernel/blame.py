"""Which hook an error came out of, so that a failure names the hook and not only the event.

A hook that raises under ``on_error: raise`` hands its own exception to the emitter, as pluggy
and Kedro do: the type a caller catches stays the hook's. The dispatcher records the hook
(``blame``) on the way out, in a thread-local slot the emitter reads back (``culprit``), and
adds a note to the exception (PEP 678), so a traceback printed anywhere names the hook too.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .errors import shown_path


@dataclass(frozen=True, slots=True)
class Culprit:
    """The hook an error was raised by: its name, its event and where it is declared."""

    hook: str
    event: str
    source: str  # "file:line" of its manifest entry, "plugin:NAME", or "python:file:line"

    def __str__(self) -> str:
        code = "python:" if self.source.startswith("python:") else ""  # registered from code
        file, sep, line = self.source[len(code) :].rpartition(":")
        where = f"{code}{shown_path(file)}:{line}" if sep and line.isdigit() else self.source
        return f"hook {self.hook!r} ({self.event}, {where})"

    def as_dict(self) -> dict[str, str]:
        return {"hook": self.hook, "event": self.event, "source": self.source}


_last = threading.local()


def blame(error: BaseException, hook: str, event: str, source: str) -> None:
    """``error`` leaves an emit, raised by ``hook`` of ``event`` (declared at ``source``)."""
    who = Culprit(hook, event, source)
    _last.value = (error, who)
    note = f"raised by {who} [hookrunner]"
    if note not in (getattr(error, "__notes__", None) or ()):
        error.add_note(note)


def culprit(error: BaseException) -> Culprit | None:
    """The hook that raised ``error`` out of an emit in this thread, if one did (the last
    such error is kept until asked for)."""
    got = getattr(_last, "value", None)
    if got is None or got[0] is not error:
        return None
    _last.value = None
    return got[1]
