"""Event arguments and results as JSON: what has no JSON form is sent as its ``str()``.

Command hooks receive event arguments on stdin, ``--format json`` prints results, and the
session store keeps metadata: all of them need plain JSON values out of arbitrary objects.
"""

from __future__ import annotations

import os
from typing import Any


def json_safe(value: Any) -> Any:
    """``value`` with every part JSON can hold kept, and the rest as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a named tuple: by name
        return json_safe(value._asdict())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    name = getattr(value, "name", None)
    return name if isinstance(name, str) else str(value)
