"""What the dispatchers read from an event's plan (``plan.Plan`` is the one implementation).

The general loop (``dispatch``), the compiled fast path (``fastpath``) and the lazy results
take a plan through this protocol, so none of them depends on how plans are built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..events import EventSpec
    from .hook import Hook, State


class CallPlan(Protocol):
    """One event's ordered hooks and the state they run with."""

    @property
    def spec(self) -> EventSpec: ...

    @property
    def hooks(self) -> tuple[Hook, ...]: ...

    @property
    def names(self) -> tuple[str, ...]:
        """The hooks' names, in order (for result rows)."""
        ...

    @property
    def generation(self) -> int: ...

    @property
    def state(self) -> State: ...

    @property
    def exact(self) -> bool:
        """``settings.timing: exact``: never time the hooks as a whole."""
        ...

    @property
    def defaults(self) -> dict[str, Any]:
        """Every argument a hook may ask for, with its default."""
        ...

    @property
    def stamp(self) -> bool:
        """A hook asks for ``timestamp``: ``fill`` sets it when the emitter gave none."""
        ...

    @property
    def wrappers(self) -> tuple[Hook, ...]:
        """Wrap-mode hooks of a notify/veto/firstresult event, outermost first (or ())."""
        ...

    @property
    def inner(self) -> CallPlan | None:
        """The plan of the hooks the wrappers wrap (None without wrappers)."""
        ...

    @property
    def emit(self) -> Callable[..., Any]: ...

    def refresh(self) -> None:
        """Choose ``emit`` again (a hook was switched off)."""

    def fill(self, kw: dict[str, Any]) -> dict[str, Any]:
        """``kw`` with every argument present (defaults for those the emitter left out)."""
        ...

    def default(self) -> Callable[..., Any] | None:
        """A slot event's built-in implementation, if any."""
        ...
