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

    spec: EventSpec
    hooks: tuple[Hook, ...]
    names: tuple[str, ...]  # the hooks' names, in order (for result rows)
    generation: int
    state: State
    exact: bool  # settings.timing: exact
    defaults: dict[str, Any]  # every argument a hook may ask for, with its default
    stamp: bool  # a hook asks for `timestamp`: fill() sets it when the emitter gave none
    # Wrap-mode hooks of a notify/veto/firstresult event (outermost first) and the plan of
    # the hooks they wrap; () and None otherwise.
    wrappers: tuple[Hook, ...]
    inner: CallPlan | None
    emit: Callable[..., Any]

    def refresh(self) -> None:
        """Choose ``emit`` again (a hook was switched off)."""

    def fill(self, kw: dict[str, Any]) -> dict[str, Any]:
        """``kw`` with every argument present (defaults for those the emitter left out)."""
        ...

    def default(self) -> Callable[..., Any] | None:
        """A slot event's built-in implementation, if any."""
        ...
