"""hookrunner: declarative, YAML-configured lifecycle hooks."""

from .dispatch import EmitResult, HookResult
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
from .runner import HookRunner

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
