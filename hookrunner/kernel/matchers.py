"""``when:`` matchers, compiled once into a predicate over the emit's arguments."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import ResolveError, did_you_mean
from .events import MATCH_ALIASES

Predicate = Callable[[dict[str, Any]], bool]


def _pattern(spec: Any, key: str) -> re.Pattern[str]:
    if isinstance(spec, dict):
        try:
            return re.compile(spec["regex"])
        except re.error as exc:
            raise ResolveError(f"when.{key}: invalid regex: {exc}") from None
    return re.compile(fnmatch.translate(str(spec)))


def patterns(spec: Any, key: str) -> tuple[re.Pattern[str], ...]:
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
                f"matcher key {key!r} is not an argument of this event",
                did_you_mean(str(key), known) or f"available: {', '.join(known) or 'none'}",
            )
        )
    return out


def compile_matcher(when: Mapping[str, Any] | None, event_args: Iterable[str]) -> Predicate | None:
    """A predicate that is true when every key matches; None when there is nothing to test."""
    if not when:
        return None
    args = set(event_args)
    tests: list[tuple[str, str | None, tuple[re.Pattern[str], ...]]] = []
    for key, spec in when.items():
        if key in MATCH_ALIASES and MATCH_ALIASES[key][0] in args:
            arg, attr = MATCH_ALIASES[key]
        elif key in args:
            arg, attr = key, None
        else:
            known = sorted(args | {k for k, (a, _) in MATCH_ALIASES.items() if a in args})
            raise ResolveError(
                f"matcher key {key!r} is not an argument of this event",
                did_you_mean(key, known) or f"available: {', '.join(known) or 'none'}",
            )
        specs = spec if isinstance(spec, list) else [spec]
        tests.append((arg, attr, tuple(_pattern(s, key) for s in specs)))

    def match(kw: dict[str, Any]) -> bool:
        for arg, attr, patterns in tests:
            value = kw.get(arg)
            if attr is not None:
                value = getattr(value, attr, None)
            if not any(p.match(v) for v in _values(value) for p in patterns):
                return False
        return True

    return match
