"""``--params`` overrides: typing values the way a command line means them, and applying
dotted keys to the parameters."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from ..kernel.document import safe_loader
from ..kernel.errors import did_you_mean
from .catalog import missing_param
from .context import UsageError
from .dotted import conflict


@functools.cache
def _value_loader() -> type:
    """YAML scalars the way a command line means them: ``true``/``false`` only (``no`` stays
    a string), decimal numbers (``1e-3`` is a float, ``007`` a string), no dates. Made on
    first use, on the guarded safe loader (a bad core tag is a YAML error, and the value
    stays text)."""

    class ValueLoader(safe_loader()):  # type: ignore[misc]
        pass

    ValueLoader.yaml_implicit_resolvers = {}
    for tag, pattern, first in (
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("null", r"^(?:~|null|Null|NULL)$", "~nN"),
        ("int", r"^[-+]?(?:0|[1-9][0-9_]*)$", "-+0123456789"),
        (
            "float",
            r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            "-+0123456789.",
        ),
    ):
        ValueLoader.add_implicit_resolver(
            f"tag:yaml.org,2002:{tag}", re.compile(pattern), list(first)
        )
    return ValueLoader


def parse_value(raw: str) -> Any:
    """One ``--params`` value: ``3`` int, ``0.5``/``1e-3`` float, ``true``/``false`` bool,
    ``null`` None, ``[1, 2]`` a list, ``{a: 1}`` a mapping, anything else the text as is."""
    if not raw.strip():
        return ""
    loader = _value_loader()
    import yaml  # loaded already by safe_loader()

    try:
        value = yaml.load(raw, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return raw
    if isinstance(value, (dict, list)) and raw.strip()[0] not in "[{":
        return raw  # "a: b" or "- x" is text; collections are written [..] or {..}
    return raw if value is None and raw.strip() not in ("~", "null", "Null", "NULL") else value


def parse_param_overrides(items: list[str]) -> dict[str, Any]:
    """``["a.b=1", "name=x"]`` → ``{"a.b": 1, "name": "x"}`` (values typed by ``parse_value``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise UsageError(f"--params {item!r}: expected NAME=VALUE (e.g. model.depth=3)")
        out[key] = parse_value(raw)
    clash = conflict_message(out)
    if clash:
        raise UsageError(clash)
    return out


def conflict_message(overrides: Mapping[str, Any]) -> str | None:
    """The usage error for overrides that give a key a value and set keys below it too."""
    found = conflict(overrides)
    if found is None:
        return None
    parent, child = found
    return (
        f"--params {parent} and --params {child}: {parent!r} is given a value and has a "
        f"key set below it (give one of them; {parent}={{...}} sets a whole mapping)"
    )


def unknown_overrides(
    params: Mapping[str, Any], overrides: Mapping[str, Any]
) -> list[tuple[str, str | None]]:
    """(dotted key, suggestion) for each override that names no existing parameter."""
    out = []
    for dotted in overrides:
        gap = missing_param(params, dotted)
        if gap is not None:
            out.append((dotted, did_you_mean(dotted, gap[1])))
    return out
