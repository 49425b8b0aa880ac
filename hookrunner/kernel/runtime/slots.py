"""Built-in implementations of slot events, provided by the layer that owns each slot.

A slot event runs its first enabled hook, or else its built-in default. The defaults live
with what they default (the pipeline's ``config_hook``/``init_hook``/``run_hook``, the AWS
layer's ``build_s3_client``), above this layer, so those modules register them here when they
are imported; every emitter of a slot event is such a module, so the default is in place
before the first emit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_DEFAULTS: dict[str, Callable[..., Any]] = {}


def provide(event: str, implementation: Callable[..., Any]) -> None:
    """Make ``implementation`` the default of slot ``event`` (the last call wins)."""
    _DEFAULTS[event] = implementation


def default(event: str) -> Callable[..., Any] | None:
    """The default of slot ``event``, or None when no layer provides one."""
    return _DEFAULTS.get(event)
