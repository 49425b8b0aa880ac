"""PyYAML's parse errors turned into what a person fixes: which line, what is wrong with it.

libyaml says "mapping values are not allowed in this context" or "did not find expected key"
for what is almost always an indentation slip. Here the text around the error is read the way
a reader sees it (the columns of the keys above) to say which key is out of line and where it
belongs. Only a file that failed to parse gets here.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import yaml

from .errors import Problem

# A line holding a mapping key: its indentation, an optional list dash, the key, the rest.
_KEY = re.compile(
    r"^(?P<indent> *)(?P<dash>-\s+)?(?P<key>[^\s#:'\"\[\]{}-][^#:]*?)\s*:(?:\s+(?P<value>\S.*)?)?$"
)
_ITEM = re.compile(r"^(?P<indent> *)-(?:\s|$)")


class _Line(NamedTuple):
    number: int  # 1-based
    indent: int  # the column (0-based) where its content starts
    key: str | None  # the mapping key it starts, if any
    key_col: int  # the column of that key (after a list dash), else the content's
    dash: int | None  # the column of a list dash, if the line starts an item
    has_value: bool  # ``key: value`` (a scalar follows), not ``key:`` (a nested block)


def _parse(number: int, text: str) -> _Line | None:
    stripped = text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    indent = len(text) - len(text.lstrip(" "))
    m = _KEY.match(text.rstrip())
    if m:
        dash = len(m["indent"]) if m["dash"] else None
        key_col = indent + (len(m["dash"]) if m["dash"] else 0)
        value = (m["value"] or "").strip()
        return _Line(number, indent, m["key"], key_col, dash, bool(value) and value[0] not in "|>")
    item = _ITEM.match(text)
    if item:
        return _Line(number, indent, None, indent + 2, indent, True)
    return _Line(number, indent, None, indent, None, True)


def _above(lines: list[str], before: int) -> list[_Line]:
    """Content lines above line ``before`` (1-based), nearest first."""
    out = []
    for n in range(before - 1, 0, -1):
        parsed = _parse(n, lines[n - 1])
        if parsed is not None:
            out.append(parsed)
    return out


def _levels(above: list[_Line]) -> list[tuple[int, str, int]]:
    """(column, what starts there, line) of the blocks still open, innermost first."""
    levels: list[tuple[int, str, int]] = []
    limit = 10**9
    for line in above:
        if line.key_col < limit:
            levels.append((line.key_col, f"`{line.key}:`" if line.key else "the item", line.number))
            limit = line.key_col
        if line.dash is not None and line.dash < limit:
            levels.append((line.dash, "-", line.number))
            limit = line.dash
        if limit == 0:
            break
    return levels


def _indentation(file: str, lines: list[str], number: int) -> Problem | None:
    """A key on line ``number`` that is out of line with the keys above it."""
    if not 0 < number <= len(lines):
        return None
    here = _parse(number, lines[number - 1])
    above = _above(lines, number)
    if here is None or not above:
        return None
    name = f"`{here.key}:`" if here.key else "this line"
    prev = above[0]
    if here.indent > prev.key_col and prev.key is not None and prev.has_value:
        return Problem(
            file,
            number,
            here.indent + 1,
            (),
            f"{name} is indented more than `{prev.key}:` on line {prev.number}",
            f"line it up with `{prev.key}:` at column {prev.key_col + 1}, or end line "
            f"{prev.number} after the ':' to start a nested mapping",
        )
    levels = _levels(above)
    deeper = [lv for lv in levels if lv[0] > here.indent]
    shallower = [lv for lv in levels if lv[0] < here.indent]
    items = [lv for lv in levels if lv[0] == here.indent and lv[1] == "-"]
    if items and here.dash is None and deeper:
        col, what, line = deeper[-1]
        return Problem(
            file,
            number,
            here.indent + 1,
            (),
            f"{name} stands at the column of the list's '- ' (line {items[0][2]}) "
            "without starting a new item",
            f"line it up with {what} on line {line} at column {col + 1} to keep it in the "
            f"item above, or start a new item with '- '",
        )
    if here.indent in [col for col, _, _ in levels] or not deeper:
        return None
    col, what, line = deeper[-1]
    hint = f"line it up with {what} on line {line} at column {col + 1}"
    if shallower:
        col2, what2, line2 = shallower[0]
        if what2 == "-":
            hint += f", or start a new item with '- ' at column {col2 + 1}"
        else:
            hint += f", or with {what2} on line {line2} at column {col2 + 1}"
    return Problem(
        file,
        number,
        here.indent + 1,
        (),
        f"{name} at column {here.indent + 1} is not lined up with the keys above it",
        hint,
    )


def _mark(mark: Any) -> tuple[int, int] | None:
    return (mark.line + 1, mark.column + 1) if mark is not None else None


def explain(file: str, exc: yaml.YAMLError, text: str) -> Problem:
    """One located, plain-words problem for a YAML parse (or tag) error."""
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    at = _mark(problem_mark) or _mark(context_mark) or (1, 1)
    opened = _mark(context_mark)
    what = str(getattr(exc, "problem", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    lines = text.split("\n")
    char = (
        text[problem_mark.index]
        if problem_mark is not None and 0 <= problem_mark.index < len(text)
        else ""
    )

    def plain(message: str, hint: str | None, where: tuple[int, int] = at) -> Problem:
        return Problem(file, where[0], where[1], (), f"invalid YAML: {message}", hint)

    if char == "\t" or "'\\t'" in what:
        return plain("a tab character", "indent with spaces, not tabs")
    if "constructor" in what or "tag" in what:
        return Problem(
            file,
            *at,
            (),
            f"YAML tags are not allowed: {what}",
            "remove the '!' tag; hookrunner reads plain YAML only",
        )
    if "quoted scalar" in context and opened is not None:
        return plain(
            f"the quote opened on line {opened[0]}, column {opened[1]} is not closed",
            "close it with the same quote character",
            opened,
        )
    if "flow sequence" in context or "flow mapping" in context:
        bracket = "[" if "sequence" in context else "{"
        closing = "]" if bracket == "[" else "}"
        where = opened or at
        return plain(
            f"the '{bracket}' opened on line {where[0]}, column {where[1]} is not closed",
            f"close it with '{closing}'; items inside are separated by ', '",
            where,
        )
    if "simple key" in context and opened is not None:
        line = lines[opened[0] - 1] if opened[0] <= len(lines) else ""
        word = line.strip()
        hint = (
            f"put a space after the ':': {word.replace(':', ': ', 1)!r}"
            if re.search(r":\S", word)
            else "each line of a mapping is `key: value`; a list item starts with '- '"
        )
        return plain(f"line {opened[0]} is not `key: value`: {word!r}", hint, opened)
    if "mapping values are not allowed" in what:
        off = _indentation(file, lines, at[0])
        if off is not None:
            return plain(off.message, off.hint, (off.line, off.column))
        return plain(
            "a value contains ': ' (a colon followed by a space)",
            'put the value in quotes: key: "text: more"',
        )
    if "expected key" in what or "expected '-'" in what or "expected <block end>" in what:
        off = _indentation(file, lines, at[0])
        if off is not None:
            return plain(off.message, off.hint, (off.line, off.column))
    if "end of stream" in what:
        return plain(what, "a quote or bracket is not closed")
    message = what + (f" ({context})" if context else "")
    return plain(message, "check the indentation and the quoting of this line")
