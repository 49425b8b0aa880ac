"""``when:`` matchers, compiled once into a predicate over the emit's arguments.

``{regex: ...}`` is compiled by RE2 (google-re2), an engine whose matching time is linear in
the text whatever the pattern: ``(a+)+$`` cannot stall an emit, and a pattern too big for
its memory budget is a load-time error. RE2 has no backreferences or lookaround. Globs use
``fnmatch``'s translation, which has no nested repetition to backtrack into.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from .errors import ResolveError, did_you_mean, quoted, shorten
from .events import MATCH_ALIASES

Predicate = Callable[[dict[str, Any]], bool]


class _Pattern(Protocol):
    def match(self, text: str) -> Any: ...


def _pattern(spec: Any, key: str) -> _Pattern:
    if isinstance(spec, dict):
        return _regex(str(spec["regex"]), key)
    return re.compile(fnmatch.translate(str(spec)))


class _Linear:
    """One RE2 pattern, matched from the start of the text as ``re.match`` does."""

    __slots__ = ("_match",)

    def __init__(self, pattern: str):
        import re2  # lazily: only manifests with a regex matcher pay for it

        options = re2.Options()
        options.log_errors = False  # the error is reported by the loader, located
        re2.compile(pattern, options)  # raises re2.error with the reason
        # A one-pattern RE2::Set answers yes/no without building a match object: the
        # cheapest call into RE2 from Python (about 0.5 µs, a fifth of compile().match).
        one = re2.Set.MatchSet(options)
        one.Add(pattern)
        one.Compile()
        self._match = one.Match

    def match(self, text: str) -> bool:
        return bool(self._match(text.encode("utf-8", "surrogatepass")))


def _regex(pattern: str, key: str) -> _Pattern:
    import re2

    try:
        return _Linear(pattern)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ResolveError(
            f"when.{key}: invalid regex: {shorten(reason, 200)}",
            "RE2 syntax: no backreferences or lookaround, repetitions at most {1000}",
        ) from None


def patterns(spec: Any, key: str) -> tuple[_Pattern, ...]:
    """The compiled patterns of one ``when:`` value (a glob, a list of globs, a regex)."""
    specs = spec if isinstance(spec, list) else [spec]
    return tuple(_pattern(s, key) for s in specs)


def _values(value: Any) -> Iterable[str]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(v) for v in value]
    return (str(value),)


def unknown_keys(
    when: Mapping[str, Any] | None, event_args: Iterable[str]
) -> list[tuple[str, str, str | None]]:
    """(key, message, hint) for every key of ``when`` that names nothing the event has: all
    of them at once, so one pass shows every typo."""
    if not when:
        return []
    args = set(event_args)
    known = sorted(args | {k for k, (a, _) in MATCH_ALIASES.items() if a in args})
    out: list[tuple[str, str, str | None]] = []
    for key in when:
        if key in known:
            continue
        out.append(
            (
                str(key),
                f"matcher key {quoted(key)} is not an argument of this event",
                did_you_mean(str(key), known) or f"available: {', '.join(known) or 'none'}",
            )
        )
    return out


def compile_matcher(when: Mapping[str, Any] | None, event_args: Iterable[str]) -> Predicate | None:
    """A predicate that is true when every key matches; None when there is nothing to test."""
    if not when:
        return None
    args = set(event_args)
    tests: list[tuple[str, str | None, tuple[_Pattern, ...]]] = []
    for key, spec in when.items():
        if key in MATCH_ALIASES and MATCH_ALIASES[key][0] in args:
            arg, attr = MATCH_ALIASES[key]
        elif key in args:
            arg, attr = key, None
        else:
            known = sorted(args | {k for k, (a, _) in MATCH_ALIASES.items() if a in args})
            raise ResolveError(
                f"matcher key {quoted(key)} is not an argument of this event",
                did_you_mean(key, known) or f"available: {', '.join(known) or 'none'}",
            )
        tests.append((arg, attr, patterns(spec, key)))

    def match(kw: dict[str, Any]) -> bool:
        for arg, attr, patterns in tests:
            value = kw.get(arg)
            if attr is not None:
                value = getattr(value, attr, None)
            if not any(p.match(v) for v in _values(value) for p in patterns):
                return False
        return True

    return match
