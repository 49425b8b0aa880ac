"""hookrunner: declarative, YAML-configured lifecycle hooks."""

from typing import TYPE_CHECKING, Any

from .errors import (
    HookFailed,
    HookrunnerError,
    HookTimeout,
    Problem,
    UnknownEvent,
    ValidationError,
    Veto,
)
from .events import CATALOGUE, EventSpec

if TYPE_CHECKING:
    from .dispatch import EmitResult, HookResult
    from .runner import HookRunner

# Imported on first use: ``hookrunner validate`` and other light entry points import modules
# of this package without paying for the runtime (dispatcher, runner, AWS slot).
_LAZY = {"EmitResult": "dispatch", "HookResult": "dispatch", "HookRunner": "runner"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hookrunner' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "EmitResult",
    "EventSpec",
    "HookFailed",
    "HookResult",
    "HookRunner",
    "HookTimeout",
    "HookrunnerError",
    "Problem",
    "UnknownEvent",
    "ValidationError",
    "Veto",
    "__version__",
]
