"""hookrunner: declarative, YAML-configured lifecycle hooks.

The public API is what this module exports, plus the names the README tells users to write
(``hookrunner.hooks``, ``hookrunner.invocation``, ``hookrunner.builtin.*``). The code is laid
out in layers that import one way: ``kernel`` ← ``host`` ← ``services`` ← ``pipeline`` ←
``api`` ← ``kedro`` ← ``commands`` (see the README's "How the code is laid out").
"""

from typing import TYPE_CHECKING, Any

from .kernel.version import __version__

if TYPE_CHECKING:
    from .api import HookRunner
    from .kernel.errors import (
        EventArgumentError,
        HookExited,
        HookFailed,
        HookrunnerError,
        HookTimeout,
        Problem,
        UnknownEvent,
        UnknownHook,
        ValidationError,
        Veto,
    )
    from .kernel.events import CATALOGUE, EventSpec
    from .kernel.runtime.results import EmitResult, HookResult

# Imported on first use: ``hookrunner validate``, Kedro's loading of the ``kedro.hooks``
# entry point (in every ``kedro run``) and other light entry points import modules of this
# package without paying for the runtime (errors, the catalogue, dispatcher, sessions...).
_LAZY = {
    **dict.fromkeys(
        (
            "EventArgumentError",
            "HookExited",
            "HookFailed",
            "HookrunnerError",
            "HookTimeout",
            "Problem",
            "UnknownEvent",
            "UnknownHook",
            "ValidationError",
            "Veto",
        ),
        "hookrunner.kernel.errors",
    ),
    "CATALOGUE": "hookrunner.kernel.events",
    "EventSpec": "hookrunner.kernel.events",
    "EmitResult": "hookrunner.kernel.runtime.results",
    "HookResult": "hookrunner.kernel.runtime.results",
    "HookRunner": "hookrunner.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hookrunner' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CATALOGUE",
    "EmitResult",
    "EventArgumentError",
    "EventSpec",
    "HookExited",
    "HookFailed",
    "HookResult",
    "HookRunner",
    "HookTimeout",
    "HookrunnerError",
    "Problem",
    "UnknownEvent",
    "UnknownHook",
    "ValidationError",
    "Veto",
    "__version__",
]
