"""Dotted keys (``--params a.b=1``) set into nested mappings: the one way ``hookrunner run``'s
parameters and Kedro's ``runtime_params`` are built from them. A leaf: ``params`` and
``kedro_api`` both use it, and ``params`` imports what imports ``kedro_api``."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any


def conflict(keys: Iterable[str]) -> tuple[str, str] | None:
    """The first (key, dotted key below it) both given, as ``a`` and ``a.b``: one sets a
    value the other would have to be a mapping to hold; None when there is none."""
    given = list(dict.fromkeys(str(k) for k in keys))
    known = set(given)
    for key in given:
        parts = key.split(".")
        for n in range(1, len(parts)):
            parent = ".".join(parts[:n])
            if parent in known:
                return parent, key
    return None


def apply_overrides(target: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set each dotted key in ``target`` in place (a copy of its value), making the mappings
    on the way (one that is not a mapping is replaced); returns ``target``."""
    for dotted, value in overrides.items():
        node = target
        *parents, last = str(dotted).split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[last] = copy.deepcopy(value)
    return target


def nested(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``: ``--params`` as Kedro's ``runtime_params``."""
    return apply_overrides({}, overrides)
