"""Values that came from the environment, and the one scrubber for what leaves the process.

``${env:NAME}`` values are registered here as they are interpolated (``document``), so every
layer can mask them with ``scrub``: the CLI's stdout and stderr (``guard_streams``), the
hookrunner loggers (``ScrubFilter``), the session store, validation problems, and what a
distributed run sends to other processes (``pipeline.sealed``). A value is matched as written
and in the forms escaping gives it on the way out: ``repr`` (with either quote), ``repr`` of
bytes, JSON, URL encoding, and those applied twice (the repr of an exception text that
quotes a repr, JSON holding a JSON text). Only the matched text is replaced, so the literal
part of a partly interpolated string stays readable.

Values shorter than ``MIN_LENGTH`` are not registered: masking every ``on``, ``dev`` or
``8080`` in free text would garble the output, and such a value is a setting, not a secret.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

if TYPE_CHECKING:
    import logging

MIN_LENGTH = 6
MASK = "<from env>"


def _repr(quote_char: str) -> Callable[[str], str]:
    """The inside of ``repr(s)`` when repr picked ``quote_char`` (each character is escaped
    on its own, so this holds for a secret inside any longer string)."""

    def enc(s: str) -> str:
        return "".join(
            (("\\'" if quote_char == "'" else "'") if c == "'" else repr(c)[1:-1]) for c in s
        )

    return enc


ENCODINGS: dict[str, Callable[[str], str]] = {
    "repr": _repr("'"),
    "repr_dq": _repr('"'),
    "bytes": lambda s: repr(s.encode("utf-8", "surrogateescape"))[2:-1],
    "json": lambda s: json.dumps(s)[1:-1],
    "json_u": lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
    "url": lambda s: _url("quote", s, ""),
    "url_path": lambda s: _url("quote", s, "/"),
    "url_plus": lambda s: _url("quote_plus", s, ""),
}
# Escapes that nest (an exception's repr quoting a repr, JSON holding a repr or JSON text).
_NESTING = ("repr", "repr_dq", "json", "json_u")


def _url(how: str, s: str, safe: str) -> str:
    import urllib.parse  # only once a secret is registered: the CLI starts without it

    quoted: str = getattr(urllib.parse, how)(s, safe=safe)
    return quoted


def encode(value: str, encoding: tuple[str, ...]) -> str:
    """``value`` with ``encoding``'s escapes applied, innermost first."""
    for name in encoding:
        value = ENCODINGS[name](value)
    return value


class Form(NamedTuple):
    """What one matched text is: a form of the variable ``name``'s value (``piece``: of a
    part of it, which no receiver can rebuild from the variable)."""

    name: str
    encoding: tuple[str, ...]
    piece: bool


class _State(NamedTuple):
    pattern: re.Pattern[str]
    forms: dict[str, Form]
    prefixes: frozenset[str]  # proper prefixes of every form: a write may end inside one
    longest: int


_lock = threading.Lock()
_values: dict[str, tuple[str, bool]] = {}  # value -> (variable, is a piece)
_state: _State | None = None


def _forms(value: str, name: str, piece: bool) -> dict[str, Form]:
    out: dict[str, Form] = {value: Form(name, (), piece)}
    encodings: list[tuple[str, ...]] = [(e,) for e in ENCODINGS]
    encodings += [(a, b) for a in _NESTING for b in _NESTING]
    for enc in encodings:
        out.setdefault(encode(value, enc), Form(name, enc, piece))
    return out


def _rebuild() -> None:
    global _state
    forms: dict[str, Form] = {}
    # Whole values first: a piece never hides the form of a whole value.
    for value, (name, piece) in sorted(_values.items(), key=lambda kv: kv[1][1]):
        for text, form in _forms(value, name, piece).items():
            forms.setdefault(text, form)
    ordered = sorted(forms, key=len, reverse=True)  # the longest form wins at a position
    _state = _State(
        re.compile("|".join(map(re.escape, ordered))),
        forms,
        frozenset(t[:i] for t in ordered for i in range(1, len(t))),
        len(ordered[0]),
    )


def register(value: str, name: str) -> None:
    """Remember ``value`` (from variable ``name``) as a secret for the rest of the process."""
    if len(value) < MIN_LENGTH or value in _values:
        return
    with _lock:
        if value not in _values:
            _values[value] = (name, False)
            _rebuild()


def derive(source: str, *parts: str) -> None:
    """``parts`` were cut out of ``source`` (a module out of a dotted path, a name out of a
    URL): the pieces of a secret they hold become secrets too, or quoting a part would show
    that piece. A part that holds a whole secret needs nothing."""
    state = _state
    if state is None or not state.pattern.search(source):
        return
    found: list[tuple[str, str]] = []
    for part in parts:
        if len(part) < MIN_LENGTH:
            continue
        for value, (name, piece) in list(_values.items()):
            if piece or value in part:
                continue
            if part in value:
                found.append((part, name))
                continue
            # A part cut across the secret's edge holds its head or its tail.
            for n in range(min(len(part), len(value)) - 1, MIN_LENGTH - 1, -1):
                if part.endswith(value[:n]):
                    found.append((value[:n], name))
                    break
                if part.startswith(value[-n:]):
                    found.append((value[-n:], name))
                    break
    new = [(p, name) for p, name in found if p not in _values]
    if new:
        with _lock:
            for p, name in new:
                _values.setdefault(p, (name, True))
            _rebuild()


def known() -> bool:
    """Whether any secret is registered (callers skip work when none is)."""
    return _state is not None


def scrub(text: str) -> str:
    """``text`` with every registered secret, in any of its forms, replaced by ``MASK``."""
    state = _state
    if state is None or not text:
        return text
    return state.pattern.sub(MASK, text)


def scrub_data(data: Any) -> Any:
    """``scrub`` applied to every string inside dicts, lists and tuples (keys too)."""
    if _state is None:
        return data
    if isinstance(data, str):
        return scrub(data)
    if isinstance(data, dict):
        return {scrub_data(k): scrub_data(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(scrub_data(v) for v in data)
    return data


def split(text: str) -> list[str | Form]:
    """``text`` cut into literal strings and the ``Form`` of each secret it holds (for
    sending it as ``${env:NAME}`` text instead of the value)."""
    state = _state
    if state is None:
        return [text]
    out: list[str | Form] = []
    at = 0
    for m in state.pattern.finditer(text):
        if m.start() > at:
            out.append(text[at : m.start()])
        out.append(state.forms[m.group()])
        at = m.end()
    if at < len(text):
        out.append(text[at:])
    return out


def holds(text: str) -> bool:
    state = _state
    return state is not None and state.pattern.search(text) is not None


# --------------------------------------------------------------------------- logging


class ScrubFilter:
    """Scrubs a record's message, arguments and traceback before any handler sees it (a
    logging filter; ``logging`` itself is imported only by whoever logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _state is None:
            return True
        import logging

        message = record.getMessage()
        clean = scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            clean = scrub(text)
            if clean != text:
                # Handlers print exc_text; none gets the exception object with the secret.
                record.exc_text, record.exc_info = clean, None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_FILTER = ScrubFilter()


def logger(name: str) -> logging.Logger:
    """The logger ``name`` with the scrub filter on it (hookrunner's loggers are made here)."""
    import logging

    log = logging.getLogger(name)
    if _FILTER not in log.filters:
        log.addFilter(_FILTER)
    return log


# --------------------------------------------------------------------------- streams


class ScrubbedStream(io.TextIOBase):
    """A text stream that scrubs what is written to it before the stream below sees it.

    A secret may be split over two writes, so text that ends with the start of a secret's
    form is held back until the next write or ``flush``."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        state = _state
        if state is None and not self._pending:
            return self._stream.write(text)
        with self._lock:
            out = scrub(self._pending + text)
            self._pending = ""
            state = _state
            if state is not None:
                for k in range(min(state.longest - 1, len(out)), 0, -1):
                    if out[-k:] in state.prefixes:
                        out, self._pending = out[:-k], out[-k:]
                        break
            if out:
                self._stream.write(out)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self._stream.write(self._pending)
                self._pending = ""
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors

    def __getattr__(self, name: str) -> Any:  # buffer, line_buffering, reconfigure...
        return getattr(self._stream, name)


def guard_streams() -> None:
    """Route ``sys.stdout`` and ``sys.stderr`` through the scrubber (the CLI does this first,
    so every command's output, tracebacks and other libraries' log lines pass it)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, ScrubbedStream):
            setattr(sys, name, ScrubbedStream(stream))
